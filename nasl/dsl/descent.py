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
from nasl.dsl.descent_expr import Expressions
from nasl.dsl.lexer import Fallback, lex
from nasl.ir.errors import Span

_WORDS = frozenset().union(*KEYWORDS_AFTER.values())

_new = object.__new__


class _Parser(Expressions):
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


def parse_items(text: str, file: str) -> list:
    """The program's items, or :class:`Fallback` where the lark parser must decide."""
    try:
        return _Parser(text, file).program()
    except RecursionError:
        raise Fallback from None
