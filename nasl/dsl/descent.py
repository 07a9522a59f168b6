"""The fast path of :func:`nasl.dsl.parser.parse`: a recursive-descent parser for well-formed text.

Lark's LALR loop alone, with callbacks that do nothing, costs ~8x Python's
``compile()`` of an equivalent source (BENCHMARKS §40), so building the AST
inside it could not reach the parsing target. This module lexes with one
regular expression per line and parses the grammar of ``nasl.lark`` by
recursive descent, building the same AST, with the same spans, as the lark
tree plus :class:`~nasl.dsl.ast_builder.Builder`.

It only has to be right when it succeeds. Anything it does not take -- a
syntax error, a builder error (a bad string escape, a repeated keyword),
a keyword used as a name, a non-ASCII character, nesting deep enough to
exhaust the stack -- raises :class:`Fallback`, and the caller parses the
text again the lark way, so every diagnostic stays exactly what it was.
``tests/dsl/test_descent.py`` checks the two paths build equal trees.

Spans follow lark's ``propagate_positions``: a node spans from the first to
the last token of the text its rule matched; a parenthesised expression
keeps its own span, while its parent's span takes in the parentheses.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.keywords import KEYWORDS_AFTER
from nasl.dsl.lexer import Fallback, lex, string_literal
from nasl.ir.errors import Span

_WORDS = frozenset().union(*KEYWORDS_AFTER.values())
_BINARY = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "in": 4,
           ">>": 5, "+": 6, "-": 6, "*": 7, "/": 7, "//": 7, "%": 7}
_COMPARE = 4
_NOT = 3                       # `not` takes a not_expr: the operands of and/or, or a whole expression

_new = object.__new__


class _Parser:
    def __init__(self, text: str, file: str):
        self.kinds, self.values, self.lines, self.cols, self.ends = lex(text)
        self.file = file
        self.pos = 0

    # -- helpers
    def span(self, i: int, j: int) -> Span:
        # Span is a frozen dataclass; filling its __dict__ directly is 2.5x faster than __init__
        s = _new(Span)
        d = s.__dict__
        d["file"] = self.file
        d["line"] = self.lines[i]
        d["col"] = self.cols[i]
        d["end_line"] = self.lines[j]
        d["end_col"] = self.ends[j]
        return s

    def expect(self, kind: str) -> None:
        if self.kinds[self.pos] != kind:
            raise Fallback
        self.pos += 1

    def name(self) -> str:
        if self.kinds[self.pos] != "NAME":
            raise Fallback
        self.pos += 1
        return self.values[self.pos - 1]

    # -- program structure
    def program(self) -> list:
        items, kinds = [], self.kinds
        while True:
            kind = kinds[self.pos]
            if kind == "$END":
                return items
            start = self.pos
            self.pos += 1
            if kind == ";":
                continue
            if kind == "param" or kind == "let" or kind == "genotype":
                name = self.name()
                self.expect("=")
                value = self.expr()
                cls = A.ParamDecl if kind == "param" else A.LetDecl if kind == "let" else A.GenotypeDecl
                items.append(cls(self.span(start, self.pos - 1), name, value))
            elif kind == "input":
                name = self.name()
                self.expect(":")
                value = self.expr()
                items.append(A.InputDecl(self.span(start, self.pos - 1), name, value))
            elif kind == "network":
                body = self.block()
                items.append(A.NetworkDecl(self.span(start, self.pos - 1), body))
            elif kind == "def":
                items.append(self.def_decl(start))
            elif kind == "require" or kind == "forbid":
                items.append(self.require(start, kind))
            else:
                raise Fallback

    def def_decl(self, start: int) -> A.DefDecl:
        name = self.name()
        if self.kinds[self.pos] == "=":
            self.pos += 1
            value = self.expr()
            return A.DefDecl(self.span(start, self.pos - 1), name, None, None, value)
        params = self.params()
        if self.kinds[self.pos] == "=":
            self.pos += 1
            value = self.expr()
            return A.DefDecl(self.span(start, self.pos - 1), name, params, None, value)
        inputs = self.params()
        body = self.block()
        return A.DefDecl(self.span(start, self.pos - 1), name, params, inputs, body)

    def params(self) -> tuple:
        self.expect("(")
        out, kinds = [], self.kinds
        if kinds[self.pos] != ")":
            while True:
                start = self.pos
                name = self.name()
                default = None
                if kinds[self.pos] == "=":
                    self.pos += 1
                    default = self.expr()
                out.append(A.Param(self.span(start, self.pos - 1), name, default))
                if kinds[self.pos] != ",":
                    break
                self.pos += 1
                if kinds[self.pos] == ")":
                    break
        self.expect(")")
        return tuple(out)

    def block(self) -> tuple:
        self.expect("{")
        out, kinds = [], self.kinds
        if kinds[self.pos] in _WORDS and kinds[self.pos] not in KEYWORDS_AFTER["{ block"]:
            kinds[self.pos] = "NAME"  # `{ node = h }`: right after a block's '{' lark knows it is a name
        while True:
            kind = kinds[self.pos]
            if kind == "}":
                self.pos += 1
                return tuple(out)
            if kind == ";":
                self.pos += 1
                continue
            out.append(self.statement(kind))

    # -- statements
    def statement(self, kind: str):
        start = self.pos
        kinds = self.kinds
        if kind == "NAME":
            names = [self.values[start]]
            self.pos += 1
            if kinds[self.pos] == "=":
                self.pos += 1
                value = self.expr()
                return A.Assign(self.span(start, self.pos - 1), (names[0],), (value,))
            if kinds[self.pos] != ",":
                raise Fallback
            while kinds[self.pos] == ",":
                self.pos += 1
                names.append(self.name())
            self.expect("=")
            values = self.exprlist()
            return A.Assign(self.span(start, self.pos - 1), tuple(names), values)
        self.pos += 1
        if kind == "for":
            names = [self.name()]
            while kinds[self.pos] == ",":
                self.pos += 1
                names.append(self.name())
            self.expect("in")
            iterable = self.expr()
            body = self.block()
            return A.For(self.span(start, self.pos - 1), tuple(names), iterable, body)
        if kind == "repeat":
            count = self.ternary()
            var = None
            if kinds[self.pos] == "as":
                self.pos += 1
                var = self.name()
            body = self.block()
            return A.Repeat(self.span(start, self.pos - 1), count, var, body)
        if kind == "if":
            branches = [(self.expr(), self.block())]
            orelse = ()
            while kinds[self.pos] == "elif":
                self.pos += 1
                branches.append((self.expr(), self.block()))
            if kinds[self.pos] == "else":
                self.pos += 1
                orelse = self.block()
            return A.If(self.span(start, self.pos - 1), tuple(branches), orelse)
        if kind == "return":
            values = self.exprlist()
            return A.Return(self.span(start, self.pos - 1), values)
        if kind == "require" or kind == "forbid":
            return self.require(start, kind)
        raise Fallback

    def require(self, start: int, kind: str) -> A.Require:
        test = self.expr()
        message = None
        if self.kinds[self.pos] == "else":
            self.pos += 1
            if self.kinds[self.pos] != "STRING":
                raise Fallback
            message = self.unquote(self.values[self.pos])
            self.pos += 1
        return A.Require(self.span(start, self.pos - 1), test, message, kind == "forbid")

    def exprlist(self) -> tuple:
        out = [self.expr()]
        while self.kinds[self.pos] == ",":
            self.pos += 1
            out.append(self.expr())
        return tuple(out)

    # -- expressions
    def expr(self):
        start = self.pos
        value = self.binary(1)        # ternary() inlined: one call less per expression
        kind = self.kinds[self.pos]
        if kind == "?":
            value = self.cond(start, value)
            kind = self.kinds[self.pos]
        if kind == "as":
            self.pos += 1
            label = self.name()
            return A.Labelled(self.span(start, self.pos - 1), value, label)
        return value

    def ternary(self):
        start = self.pos
        test = self.binary(1)
        if self.kinds[self.pos] != "?":
            return test
        return self.cond(start, test)

    def cond(self, start: int, test):
        self.pos += 1
        then = self.binary(1)
        self.expect(":")
        orelse = self.ternary()
        return A.Cond(self.span(start, self.pos - 1), test, then, orelse)

    def binary(self, min_prec: int):
        # precedence climbing over or / and / not / comparisons / >> / + - / * / // %
        start = self.pos
        kinds = self.kinds
        if kinds[start] == "not":
            if min_prec > _NOT:
                raise Fallback        # `not` only where the grammar has a not_expr
            self.pos += 1
            operand = self.binary(_NOT)
            left = A.UnaryOp(self.span(start, self.pos - 1), "not", operand)
        else:
            left = self.unary()
        compared = False
        while True:
            op = kinds[self.pos]
            prec = _BINARY.get(op)
            if prec is None or prec < min_prec:
                return left
            if prec == _COMPARE:
                if compared:
                    raise Fallback    # comparisons do not chain
                compared = True
            self.pos += 1
            right = self.binary(prec + 1)
            if op == ">>":
                left = A.SeqExpr(self.span(start, self.pos - 1), left, right)
            else:
                left = A.BinOp(self.span(start, self.pos - 1), op, left, right)

    def unary(self):
        start = self.pos
        kinds = self.kinds
        kind = kinds[start]
        if kind == "-":
            self.pos += 1
            operand = self.unary()
            return A.UnaryOp(self.span(start, self.pos - 1), "-", operand)
        if kind == "NAME":            # atom() inlined for the commonest atom
            self.pos += 1
            value = A.Name(self.span(start, start), self.values[start])
        else:
            value = self.atom(kind)
        while True:
            kind = kinds[self.pos]
            if kind == "(":
                self.pos += 1
                args, kwargs = self.args(")") if kinds[self.pos] != ")" else ((), ())
                self.expect(")")
                value = A.Call(self.span(start, self.pos - 1), value, args, kwargs)
            elif kind == "[":
                self.pos += 1
                index = self.expr()
                self.expect("]")
                value = A.Index(self.span(start, self.pos - 1), value, index)
            else:
                return value

    def atom(self, kind: str):
        start = self.pos
        self.pos += 1
        if kind == "NAME":
            return A.Name(self.span(start, start), self.values[start])
        if kind == "NUMBER":
            text = self.values[start]
            try:
                value = int(text) if text.isdigit() else float(text)
            except ValueError:        # more than 4,300 digits: the builder's error
                raise Fallback from None
            return A.Num(self.span(start, start), value)
        if kind == "STRING":
            return A.Str(self.span(start, start), self.unquote(self.values[start]))
        if kind == "true" or kind == "false":
            return A.Bool(self.span(start, start), kind == "true")
        if kind == "(":
            first = self.expr()
            if self.kinds[self.pos] == ")":
                self.pos += 1
                return first          # keeps its own span (lark inlines the parentheses)
            self.expect(",")
            items = [first] + self.items(")")
            return A.TupleExpr(self.span(start, self.pos - 1), tuple(items))
        if kind == "[":
            items = self.items("]") if self.kinds[self.pos] != "]" else []
            if self.kinds[self.pos] != "]":
                raise Fallback
            self.pos += 1
            return A.ListExpr(self.span(start, self.pos - 1), tuple(items))
        if kind == "dag":
            return self.dag(start)
        raise Fallback

    def items(self, close: str) -> list:
        """``[expr ("," expr)* [","]]`` up to ``close``, which is consumed only after a tuple."""
        out, kinds = [], self.kinds
        while kinds[self.pos] != close:
            out.append(self.expr())
            if kinds[self.pos] != ",":
                break
            self.pos += 1
        if close == ")":
            self.expect(")")
        return out

    def args(self, close: str):
        args, kwargs, seen, kinds = [], [], set(), self.kinds
        while True:
            if kinds[self.pos] == "NAME" and kinds[self.pos + 1] == "=":
                name = self.values[self.pos]
                self.pos += 2
                if name in seen:
                    raise Fallback    # "keyword argument given twice"
                seen.add(name)
                kwargs.append((name, self.expr()))
            else:
                if kwargs:
                    raise Fallback    # "positional argument after keyword arguments"
                args.append(self.expr())
            if kinds[self.pos] != ",":
                break
            self.pos += 1
            if kinds[self.pos] == close:
                break
        return tuple(args), tuple(kwargs)

    def dag(self, start: int) -> A.Dag:
        self.expect("(")
        args, kwargs = self.args(")") if self.kinds[self.pos] != ")" else ((), ())
        self.expect(")")
        if args:
            raise Fallback            # "dag(...) takes keyword arguments only"
        self.expect("{")
        edges, nodes, reqs, kinds = [], [], [], self.kinds
        while True:
            at = self.pos
            kind = kinds[at]
            self.pos += 1
            if kind == "}":
                break
            if kind == ";":
                continue
            if kind == "edge" or kind == "node":
                var = self.name()
                dst = None
                if kind == "edge":
                    self.expect("->")
                    dst = self.name()
                where = None
                if kinds[self.pos] == "where":
                    self.pos += 1
                    where = self.expr()
                self.expect(":")
                if kind == "edge":
                    op = self.expr()
                    edges.append(A.EdgeStmt(self.span(at, self.pos - 1), var, dst, where, op))
                else:
                    fields = self.node_fields()
                    nodes.append(A.NodeStmt(self.span(at, self.pos - 1), var, where, fields))
            elif kind == "require" or kind == "forbid":
                reqs.append(self.require(at, kind))
            else:
                raise Fallback
        return A.Dag(self.span(start, self.pos - 1), kwargs, tuple(edges), tuple(nodes), tuple(reqs))

    def node_fields(self) -> tuple:
        out, seen = [], set()
        while True:
            name = self.name()
            self.expect("=")
            if name in seen:
                raise Fallback        # "keyword argument given twice"
            seen.add(name)
            out.append((name, self.expr()))
            if self.kinds[self.pos] != ",":
                return tuple(out)
            self.pos += 1

    def unquote(self, text: str) -> str:
        try:
            return string_literal(text)
        except ValueError:            # lark's path reports it, with the token's span
            raise Fallback from None


def parse_items(text: str, file: str) -> list:
    """The program's items, or :class:`Fallback` where the lark parser must decide."""
    try:
        return _Parser(text, file).program()
    except RecursionError:
        raise Fallback from None
