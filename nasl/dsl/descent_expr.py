"""Expressions, calls and dag literals for the recursive-descent parser (:mod:`nasl.dsl.descent`).

Split from it: :class:`Expressions` is the half of its parser below the statements, and reads the
same token arrays (``kinds``, ``values``, ``pos``) and helpers (``span``, ``expect``, ``name``) that
:class:`nasl.dsl.descent._Parser` sets up. Operator precedences follow ``nasl.lark``.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.lexer import Fallback, string_literal

_BINARY = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "in": 4,
           ">>": 5, "+": 6, "-": 6, "*": 7, "/": 7, "//": 7, "%": 7}
_COMPARE = 4
_NOT = 3                       # `not` takes a not_expr: the operands of and/or, or a whole expression


class Expressions:
    """The expression rules of the parser (a mixin of :class:`nasl.dsl.descent._Parser`)."""

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
