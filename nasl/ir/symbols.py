"""Symbolic values: expressions over choice paths, evaluated once choices are made.

Constraints and conditions hold these; ``ev(values)`` gives the value under
a full assignment and ``partial(values)`` decides early where it can (the
bounds of a count), which is what lets counting prune.
"""
from __future__ import annotations

import operator
from typing import Any, Callable

from nasl.ir.errors import NaslTypeError

class Sym:
    """A value that depends on choices not yet made: an expression over paths."""

    __slots__ = ("deps",)

    def ev(self, values: dict) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def partial(self, values: dict):
        """The value if every dependency is decided, else None."""
        if all(d in values for d in self.deps):
            return self.ev(values)
        return None


class ChoiceRef(Sym):
    """The value of the choice at ``path`` (its label for op alternatives)."""

    __slots__ = ("path", "choice")

    def __init__(self, path: str, choice):
        self.path, self.choice, self.deps = path, choice, (path,)

    def ev(self, values):
        return values.get(self.path)


class Merged(Sym):
    """A value that differs between guarded branches (spec mode)."""

    __slots__ = ("alts",)

    def __init__(self, alts):
        self.alts = alts   # list of (Guard or None, value)
        deps = []
        for g, v in alts:
            for path in (getattr(g, "paths", None) or ((g.path,) if g is not None else ())):
                if path not in deps:
                    deps.append(path)
            for d in getattr(v, "deps", ()):
                if d not in deps:
                    deps.append(d)
        self.deps = tuple(deps)

    def ev(self, values):
        for g, v in self.alts:
            if g is None or g.holds(values):
                return v.ev(values) if isinstance(v, Sym) else v
        return None


BINARY_OPS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "in": lambda a, b: a in b,
}


class OpSym(Sym):
    """``f(a, b, ...)`` where some arguments are symbols."""

    __slots__ = ("fn", "args", "text")

    def __init__(self, fn: Callable, args: tuple, text: str = ""):
        self.fn, self.args, self.text = fn, args, text
        deps = []
        for a in args:
            for d in getattr(a, "deps", ()):
                if d not in deps:
                    deps.append(d)
        self.deps = tuple(deps)

    def ev(self, values):
        try:
            return self.fn(*[a.ev(values) if isinstance(a, Sym) else a for a in self.args])
        except TypeError:
            # an inactive choice (None) in arithmetic: the expression has no value
            return None
        except (ArithmeticError, LookupError, ValueError) as err:
            # e.g. 'c % n' where one of n's values is 0; whoever evaluates it adds the span
            reason = "division by zero" if isinstance(err, ZeroDivisionError) else err
            raise NaslTypeError(f"cannot compute '{self.text}' for some choices: {reason}") from None

    def partial(self, values):
        # Bounds of a count decide comparisons early: this is what keeps
        # "require edges() <= 9" from enumerating every edge subset.
        if self.text in ("<=", "<", ">=", ">", "==") and len(self.args) == 2:
            a, b = self.args
            if isinstance(a, CountSym) and not isinstance(b, Sym):
                lo, hi = a.bounds(values)
                return _decide(self.text, lo, hi, b)
            if isinstance(b, CountSym) and not isinstance(a, Sym):
                lo, hi = b.bounds(values)
                flipped = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "=="}[self.text]
                return _decide(flipped, lo, hi, a)
        return Sym.partial(self, values)


def _decide(op, lo, hi, k):
    if op == "<=":
        return True if hi <= k else (False if lo > k else None)
    if op == "<":
        return True if hi < k else (False if lo >= k else None)
    if op == ">=":
        return True if lo >= k else (False if hi < k else None)
    if op == ">":
        return True if lo > k else (False if hi <= k else None)
    if lo == hi:
        return lo == k
    return False if (k < lo or k > hi) else None


class CountSym(Sym):
    """How many of ``terms`` hold; terms are symbols or constants."""

    __slots__ = ("terms",)

    def __init__(self, terms):
        self.terms = tuple(terms)
        deps = []
        for t in self.terms:
            for d in getattr(t, "deps", ()):
                if d not in deps:
                    deps.append(d)
        self.deps = tuple(deps)

    def ev(self, values):
        return sum(1 for t in self.terms if (t.ev(values) if isinstance(t, Sym) else t))

    def bounds(self, values):
        lo = hi = 0
        for t in self.terms:
            if isinstance(t, Sym):
                v = t.partial(values)
                if v is None:
                    hi += 1
                elif v:
                    lo += 1
                    hi += 1
            elif t:
                lo += 1
                hi += 1
        return lo, hi

    def partial(self, values):
        lo, hi = self.bounds(values)
        return lo if lo == hi else None


class FnSym(Sym):
    """An arbitrary Python function of some paths' values (graph predicates).

    ``tag`` names well-known predicates (``connected``) that counting can
    recognise.
    """

    __slots__ = ("fn", "tag", "bound")

    def __init__(self, deps, fn, tag: str = "", bound=None):
        self.deps, self.fn, self.tag, self.bound = tuple(deps), fn, tag, bound

    def ev(self, values):
        return self.fn(values)

    def partial(self, values):
        if self.bound is not None:
            return self.bound(values)
        return Sym.partial(self, values)


def sym_op(op: str, a, b):
    return OpSym(BINARY_OPS[op], (a, b), op)


GRAPH = "__graph__"     # the key under which ev() receives a realized network


class GraphSym(Sym):
    """A property of the realized network: known only once the graph is built."""

    __slots__ = ("fn", "text")

    def __init__(self, fn, text: str = ""):
        self.fn, self.text, self.deps = fn, text, ()

    def ev(self, values):
        if GRAPH not in values:     # e.g. `if nodes() > 3 { ... }`: the graph does not exist yet
            raise NaslTypeError(f"{self.text} is known only once the network is built; "
                                "use it in a 'require' or 'forbid'")
        return self.fn(values[GRAPH])

    def partial(self, values):
        return self.ev(values) if GRAPH in values else None


def needs_graph(sym) -> bool:
    """Whether evaluating ``sym`` needs the realized network."""
    if isinstance(sym, GraphSym):
        return True
    parts = list(getattr(sym, "args", ())) + list(getattr(sym, "terms", ()))
    parts += [v for _, v in getattr(sym, "alts", ())]
    return any(isinstance(p, Sym) and needs_graph(p) for p in parts)
