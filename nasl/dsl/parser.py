"""Text to AST: the LALR parser and the transformer that builds dataclasses.

Lark's exceptions never escape: a parse failure becomes a
:class:`NaslSyntaxError` that points at the offending token, and a
``VisitError`` raised inside the transformer is unwrapped.
"""
from __future__ import annotations

import ast as pyast
import os
import re
import warnings
from functools import lru_cache

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from nasl.dsl import ast as A
from nasl.ir.errors import NaslError, NaslSyntaxError, Span

_OPTIONS = dict(parser="lalr", propagate_positions=True, maybe_placeholders=True)


def shipped_tables() -> str:
    """The LALR tables the package ships, built ahead of time."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "grammars", "nasl.tables")


def tables_stamp() -> bytes:
    """What the shipped tables must have been built from: grammar, options, lark and Python."""
    import hashlib
    import sys

    import lark
    from importlib.resources import files
    grammar = files("nasl.grammars").joinpath("nasl.lark").read_bytes()
    key = grammar + repr(sorted(_OPTIONS.items())).encode() + lark.__version__.encode() + \
        repr(sys.version_info[:2]).encode()
    return hashlib.sha256(key).hexdigest().encode()


def build_tables(path: str | None = None) -> str:
    """Write the tables for this grammar, lark and Python (``python -m nasl.grammars``)."""
    path = path or shipped_tables()
    parser = Lark.open_from_package("nasl.grammars", "nasl.lark", **_OPTIONS)
    with open(path, "wb") as f:
        f.write(tables_stamp() + b"\n")
        parser.save(f)
    return path


@lru_cache(maxsize=1)
def _lark() -> Lark:
    # Building the LALR tables costs ~0.2 s, loading them ~10 ms. Use the
    # shipped ones when they were built from this very grammar, lark and
    # Python; otherwise build, and let lark cache them in the temp directory.
    try:
        with open(shipped_tables(), "rb") as f:
            if f.readline().strip() == tables_stamp():
                return Lark.load(f)
    except (OSError, EOFError, ValueError):
        pass
    return Lark.open_from_package("nasl.grammars", "nasl.lark", cache=True, **_OPTIONS)


def parse(text: str, file: str = "<string>") -> A.Program:
    """Parse ``text`` into an :class:`~nasl.dsl.ast.Program`."""
    parser = _lark()
    try:
        tree = parser.parse(text)
    except UnexpectedInput as e:
        raise _syntax_error(e, text, file, parser) from None
    try:
        items = _Builder(file).transform(tree)
    except VisitError as e:
        inner = e.orig_exc
        if isinstance(inner, NaslError):
            raise inner.with_source(text) from None
        if isinstance(inner, RecursionError):
            raise _too_deep(tree, text, file) from None
        raise
    except RecursionError:
        raise _too_deep(tree, text, file) from None
    return A.Program(tuple(items), file, text)


def _too_deep(tree, text: str, file: str) -> NaslSyntaxError:
    """The building recursion ran out of stack: point at the most deeply nested place."""
    deepest, depth, stack = tree, 0, [(tree, 0)]
    while stack:                       # iterative: the tree is too deep to recurse on
        t, d = stack.pop()
        if d > depth and not getattr(t.meta, "empty", True):
            deepest, depth = t, d
        stack.extend((c, d + 1) for c in t.children if isinstance(c, Tree))
    return NaslSyntaxError("the program is nested too deeply here", _span(file, deepest.meta),
                           hint="split it into several named steps", source=text)


def _syntax_error(e: UnexpectedInput, text: str, file: str, parser: Lark) -> NaslSyntaxError:
    line, col = max(getattr(e, "line", 1) or 1, 1), max(getattr(e, "column", 1) or 1, 1)
    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else "?"
        msg = f"unexpected character {ch!r}"
        width = 1
    elif isinstance(e, UnexpectedEOF):
        line, col = _end_of(text)
        msg = "unexpected end of file"
        width = 1
    elif isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            # lark places $END on the last token: point just after it, not at trailing blank lines
            line, col = (tok.end_line, tok.end_column) if tok.end_line and tok.end_column else _end_of(text)
            msg, width = "unexpected end of file", 1
        else:
            msg, width = f"unexpected {_describe_token(tok)}", max(1, len(str(tok)))
    else:  # pragma: no cover - lark has no other subclasses today
        msg, width = "syntax error", 1
    terminals = getattr(e, "expected", None) or ()
    if getattr(e, "interactive_parser", None) is not None:
        # LALR's 'expected' is every lookahead of a merged state, e.g. ')' and 'for' inside a list;
        # accepts() tries each token from where the parser stopped and keeps those it can take
        terminals = e.interactive_parser.accepts() or terminals
    expected = sorted({_describe_terminal(t, parser) for t in terminals}, key=_hint_rank)
    hint = None
    if expected:
        shown = ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")
        hint = f"expected {shown}"
    span = Span(file, line, col, line, col + width)
    return NaslSyntaxError(msg, span, hint=hint, source=text)


def _end_of(text: str) -> tuple[int, int]:
    lines = text.split("\n")       # lark counts lines by '\n' only
    return len(lines), len(lines[-1]) + 1


_CLOSERS = ("')'", "']'", "'}'", "','", "':'", "'='", "'{'", "'('")


def _hint_rank(text: str):
    # Closing brackets and separators are what a user most often forgot.
    if text in _CLOSERS:
        return (0, _CLOSERS.index(text), text)
    return (1 if text[1:2].isalpha() or text.startswith("a ") else 2, 0, text)


def _describe_token(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type in ("NUMBER", "STRING"):
        return f"{tok.type.lower()} {tok}"
    return f"'{tok}'"


def _describe_terminal(name: str, parser: Lark) -> str:
    if name in ("NAME", "NUMBER", "STRING"):
        return {"NAME": "a name", "NUMBER": "a number", "STRING": "a string"}[name]
    if name == "$END":
        return "end of file"
    try:
        pattern = parser.get_terminal(name).pattern
        return f"'{pattern.value}'"
    except (KeyError, AttributeError):
        return name.lower()


def _span(file: str, meta) -> Span:
    if getattr(meta, "empty", False):
        return Span(file, 1, 1, 1, 2)
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + len(tok))


_BINOPS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%",
           "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in_op": "in",
           "and_op": "and", "or_op": "or"}


@v_args(meta=True)
class _Builder(Transformer):
    """Builds AST dataclasses; every node gets the span of its text."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def _s(self, meta) -> Span:
        return _span(self.file, meta)

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
        return A.Repeat(self._s(meta), c[0], str(c[1]) if c[1] is not None else None, c[2])

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
    bad = next((ch for ch in str(tok) if ord(ch) < 32 and ch != "\t"), None)
    if bad is not None:
        raise NaslSyntaxError(f"invalid string literal: it contains the control character U+{ord(bad):04X}",
                              _tok_span(file, tok), hint="write it as an escape, e.g. '\\r'")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # "\d" stays a backslash and a 'd', as in Python
            return pyast.literal_eval(str(tok))
    except (SyntaxError, ValueError) as err:
        reason = re.sub(r"^\(unicode error\) '\w+' codec can't decode bytes? in position [\d-]+: ", "",
                        getattr(err, "msg", None) or str(err))
        raise NaslSyntaxError(f"invalid string literal: {reason}", _tok_span(file, tok),
                              hint="write a backslash as '\\\\'") from None
