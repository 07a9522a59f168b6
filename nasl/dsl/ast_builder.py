"""The lark transformer that turns parse trees into AST dataclasses with spans."""
from __future__ import annotations

from lark import Token, Transformer, v_args

from nasl.dsl import ast as A
from nasl.dsl.lexer import string_value
from nasl.ir.errors import NaslSyntaxError, Span


def span_of(file: str, meta) -> Span:
    if getattr(meta, "empty", False):
        return Span(file, 1, 1, 1, 2)
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + len(tok))


_BINOPS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%",
           "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in_op": "in",
           "and_op": "and", "or_op": "or"}


@v_args(meta=True)
class Builder(Transformer):
    """Builds AST dataclasses; every node gets the span of its text."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def _s(self, meta) -> Span:
        return span_of(self.file, meta)

    # -- program structure
    def start(self, meta, items):
        return [i for i in items if isinstance(i, A.Node)]

    def param_decl(self, meta, c):
        return A.ParamDecl(self._s(meta), str(c[0]), c[1])

    def let_decl(self, meta, c):
        return A.LetDecl(self._s(meta), str(c[0]), c[1])

    def input_decl(self, meta, c):
        return A.InputDecl(self._s(meta), str(c[0]), c[1])

    def genotype_decl(self, meta, c):
        return A.GenotypeDecl(self._s(meta), str(c[0]), c[1])

    def network_decl(self, meta, c):
        return A.NetworkDecl(self._s(meta), c[0])

    def def_body(self, meta, c):
        return A.DefDecl(self._s(meta), str(c[0]), c[1], c[2], c[3])

    def def_expr(self, meta, c):
        return A.DefDecl(self._s(meta), str(c[0]), c[1], None, c[2])

    def def_const(self, meta, c):
        return A.DefDecl(self._s(meta), str(c[0]), None, None, c[1])

    def params(self, meta, c):
        return tuple(p for p in c if p is not None)

    def param(self, meta, c):
        return A.Param(self._s(meta), str(c[0]), c[1])

    def block(self, meta, c):
        return tuple(s for s in c if isinstance(s, A.Node))

    def stmt(self, meta, c):   # a bare ';'
        return None

    def item(self, meta, c):
        return None

    def dag_stmt(self, meta, c):
        return None

    # -- statements
    def assign(self, meta, c):
        return A.Assign(self._s(meta), (str(c[0]),), (c[1],))

    def multi_assign(self, meta, c):
        names = tuple(str(t) for t in c[:-1])
        return A.Assign(self._s(meta), names, tuple(c[-1]))

    def for_stmt(self, meta, c):
        return A.For(self._s(meta), tuple(str(t) for t in c[:-2]), c[-2], c[-1])

    def repeat_stmt(self, meta, c):
        count, first, second, body = c
        if second is None:                  # `repeat n as i`: the one name is the loop variable
            return A.Repeat(self._s(meta), count, str(first) if first is not None else None, body)
        # `repeat n as label as i`: the count is labelled, as `(n as label)` would be
        start, end = count.span, _tok_span(self.file, first)
        labelled = A.Labelled(Span(self.file, start.line, start.col, end.end_line, end.end_col), count, str(first))
        return A.Repeat(self._s(meta), labelled, str(second), body)

    def if_stmt(self, meta, c):
        branches = [(c[0], c[1])]
        rest = c[2:]
        orelse = ()
        for part in rest:
            if isinstance(part, _Elif):
                branches.append((part.test, part.body))
            elif part is not None:
                orelse = part
        return A.If(self._s(meta), tuple(branches), orelse)

    def elif_part(self, meta, c):
        return _Elif(c[0], c[1])

    def return_stmt(self, meta, c):
        return A.Return(self._s(meta), tuple(c[0]))

    def require_stmt(self, meta, c):
        return A.Require(self._s(meta), c[0], _unquote(c[1], self.file) if c[1] is not None else None, False)

    def forbid_stmt(self, meta, c):
        return A.Require(self._s(meta), c[0], _unquote(c[1], self.file) if c[1] is not None else None, True)

    def exprlist(self, meta, c):
        return tuple(c)

    # -- expressions
    def labelled(self, meta, c):
        return A.Labelled(self._s(meta), c[0], str(c[1]))

    def cond(self, meta, c):
        return A.Cond(self._s(meta), c[0], c[1], c[2])

    def _binop(self, name, meta, c):
        return A.BinOp(self._s(meta), _BINOPS[name], c[0], c[1])

    def __default__(self, data, children, meta):
        if data in _BINOPS:
            return self._binop(data, meta, children)
        return super().__default__(data, children, meta)

    def not_op(self, meta, c):
        return A.UnaryOp(self._s(meta), "not", c[0])

    def neg(self, meta, c):
        return A.UnaryOp(self._s(meta), "-", c[0])

    def seq_op(self, meta, c):
        return A.SeqExpr(self._s(meta), c[0], c[1])

    def call(self, meta, c):
        args, kwargs = _split_args(c[1])
        return A.Call(self._s(meta), c[0], args, kwargs)

    def index(self, meta, c):
        return A.Index(self._s(meta), c[0], c[1])

    def number(self, meta, c):
        text = str(c[0])
        try:
            value = int(text) if text.isdigit() else float(text)
        except ValueError:         # Python refuses to convert ints of more than 4300 digits
            raise NaslSyntaxError(f"the number has too many digits ({len(text)})", self._s(meta)) from None
        return A.Num(self._s(meta), value)

    def string(self, meta, c):
        return A.Str(self._s(meta), _unquote(c[0], self.file))

    def true(self, meta, c):
        return A.Bool(self._s(meta), True)

    def false(self, meta, c):
        return A.Bool(self._s(meta), False)

    def name(self, meta, c):
        return A.Name(self._s(meta), str(c[0]))

    def list(self, meta, c):
        return A.ListExpr(self._s(meta), tuple(x for x in c if x is not None))

    def tuple(self, meta, c):
        return A.TupleExpr(self._s(meta), tuple(x for x in c if x is not None))

    def args(self, meta, c):
        return list(c)

    def kwarg(self, meta, c):
        return _Kw(str(c[0]), c[1], self._s(meta))

    def dag(self, meta, c):
        args, kwargs = _split_args(c[0])
        if args:
            raise NaslSyntaxError("dag(...) takes keyword arguments only, e.g. dag(nodes=4)", args[0].span)
        body = [s for s in c[1:] if s is not None]
        edges = tuple(s for s in body if isinstance(s, A.EdgeStmt))
        nodes = tuple(s for s in body if isinstance(s, A.NodeStmt))
        reqs = tuple(s for s in body if isinstance(s, A.Require))
        return A.Dag(self._s(meta), kwargs, edges, nodes, reqs)

    def edge_stmt(self, meta, c):
        return A.EdgeStmt(self._s(meta), str(c[0]), str(c[1]), c[2], c[3])

    def node_stmt(self, meta, c):
        _, kwargs = _split_args(c[2])
        return A.NodeStmt(self._s(meta), str(c[0]), c[1], kwargs)

    def node_fields(self, meta, c):
        return list(c)

    def kwarg_field(self, meta, c):
        return _Kw(str(c[0]), c[1], self._s(meta))


class _Elif:
    def __init__(self, test, body):
        self.test, self.body = test, body


class _Kw:
    def __init__(self, name, value, span):
        self.name, self.value, self.span = name, value, span


def _split_args(items):
    args, kwargs, seen = [], [], set()
    for a in items or ():
        if isinstance(a, _Kw):
            if a.name in seen:
                raise NaslSyntaxError(f"keyword argument '{a.name}' given twice", a.span)
            seen.add(a.name)
            kwargs.append((a.name, a.value))
        else:
            if kwargs:
                raise NaslSyntaxError("positional argument after keyword arguments", a.span)
            args.append(a)
    return tuple(args), tuple(kwargs)


def _unquote(tok: Token, file: str) -> str:
    try:
        return string_value(str(tok))
    except ValueError as e:
        raise NaslSyntaxError(e.args[0], _tok_span(file, tok), hint=e.args[1]) from None
