"""Exact counts and uniform draws for constraints over a few always-active choices.

``require a + b + c == 2500`` over three ``int_range(1, 1000)`` defeats both
enumeration (10^9 combinations) and rejection (few draws hold). When the
choices of a constraint exist in every architecture, gate nothing and no
other constraint mentions them, the constraint is independent of the rest
of the space: the size is the rest's size times the fraction of their
combinations that hold, and a uniform architecture is a uniform one of the
rest with these choices drawn from the combinations that hold.

:func:`clusters` finds such groups of choices (tied together by the
conjuncts of ``and``), and each :class:`Cluster` is counted exactly, when it
can be:

- by a dynamic program over partial sums when it is one comparison of two
  linear integer expressions (``2*a + b <= c + 7``, ``a == 777``;
  :mod:`nasl.ir.partial_sums`);
- by listing the combinations when their product is small.

Anything else is left to the general walker of :mod:`nasl.ir.counting`.
"""
from __future__ import annotations

from itertools import product

from nasl.ir.choice_kind import CHOICE_TYPES
from nasl.ir.decision_tree import Choice, Constraint, Group
from nasl.ir.errors import NaslError
from nasl.ir.partial_sums import solve_linear
from nasl.ir.symbols import OpSym, needs_graph

PRODUCT_LIMIT = 200_000          # combinations listed outright
MAX_GROUPS = 1_000_000           # groups surveyed for clusters (the counters' own limit)


class Cluster:
    """Always-active choices and the conjuncts of constraints over them.

    ``count`` is the number of their combinations that satisfy every
    conjunct (None when no exact method applies); ``total`` the number of
    combinations.
    """

    def __init__(self, choices, parts):
        self.choices = choices              # Choice objects
        self.parts = parts                  # (constraint, sym, negate)
        self.total = 1
        for c in choices:
            self.total *= c.cardinality()
        self.count = None
        self._draw = None
        _solve(self)

    @property
    def constraint(self) -> Constraint:
        return self.parts[0][0]

    def draw(self, rng) -> dict:
        """A uniform draw of the combinations that hold (count > 0)."""
        return self._draw(rng)

    def set_draw(self, fn) -> None:
        self._draw = fn


def clusters(spec) -> list[Cluster]:
    """The independent clusters of ``spec`` whose counting an exact method may do.

    Raises RecursionError past MAX_GROUPS groups (the caller then does without).
    """
    choices, constraints, all_cons, gating = _survey(spec)
    owned = {id(c) for c in constraints}
    # choices that a constraint outside the eligible ones (or a guard) mentions stay with the walker
    busy = set(gating)
    for c in all_cons:
        if id(c) not in owned:
            busy.update(c.sym.deps)
    parts = []
    for con in constraints:
        if any(d not in choices or d in busy for d in con.sym.deps) or not con.sym.deps:
            continue
        for sym, negate in _conjuncts(con.sym, con.negate):
            parts.append((con, sym, negate))
    # union-find over the choices that parts share
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for _, sym, _ in parts:
        deps = sym.deps or ()
        for d in deps[1:]:
            parent[find(d)] = find(deps[0])
    by_root: dict = {}
    for part in parts:
        if part[1].deps:
            by_root.setdefault(find(part[1].deps[0]), []).append(part)
    out = []
    for group in by_root.values():
        paths = []
        for _, sym, _ in group:
            paths.extend(d for d in sym.deps if d not in paths)
        out.append(Cluster([choices[p] for p in paths], group))
    return _whole_constraints(out)


def _whole_constraints(found: list[Cluster]) -> list[Cluster]:
    """Keep only clusters whose constraints are wholly counted exactly.

    A constraint split by ``and`` over several clusters is left out of
    counting only if every one of them is exact; otherwise all of them go
    back to the walker, which checks the whole constraint.
    """
    exact = {id(c): c.count is not None for c in found}
    changed = True
    while changed:
        changed = False
        of: dict = {}
        for cl in found:
            for con, _, _ in cl.parts:
                of.setdefault(id(con), []).append(cl)
        for cls in of.values():
            if any(exact[id(c)] for c in cls) and not all(exact[id(c)] for c in cls):
                for c in cls:
                    exact[id(c)] = False
                changed = True
    return [c for c in found if exact[id(c)]]


def _survey(spec):
    """Every group once: ``(always-active choices {path: choice}, top-level unconditional
    constraints, all constraints, paths that guards read)``.

    A choice is always active when only unguarded groups enclose it. A
    constraint qualifies only outside shared (keyed) groups too: their counts
    are memoized by shape and must not depend on what is left out here.
    """
    choices, top_cons, all_cons, gating = {}, [], [], set()
    stack, groups = [(spec.root, True, True)], 0
    while stack:
        block, always, top = stack.pop()
        for item in block.items:
            t = type(item)
            if t in CHOICE_TYPES:
                if always and item.finite and not item.condition:
                    choices[item.path] = item
            elif t is Constraint:
                all_cons.append(item)
                if top and not item.condition and not needs_graph(item.sym):
                    top_cons.append(item)
            elif t is Group:
                groups += 1
                if groups > MAX_GROUPS:
                    raise RecursionError("too many groups")
                guard = item.guard
                if guard is not None:
                    gating.update(getattr(guard, "paths", (guard.path,)))
                stack.append((item.block, always and guard is None, top and guard is None and item.key is None))
    return choices, top_cons, all_cons, gating


def _conjuncts(sym, negate):
    """The conjuncts of ``require p and q`` (each may fall in a cluster of its own)."""
    if not negate and isinstance(sym, OpSym) and sym.text == "and" and len(sym.args) == 2 \
            and all(hasattr(a, "deps") for a in sym.args):
        for a in sym.args:
            yield from _conjuncts(a, False)
        return
    yield sym, negate


# ---------------------------------------------------------------- solving
def _solve(cl: Cluster):
    if len(cl.parts) == 1 and solve_linear(cl, cl.parts[0][1], cl.parts[0][2]):
        return
    if cl.total <= PRODUCT_LIMIT:
        _listed(cl)


def _listed(cl: Cluster):
    paths = [c.path for c in cl.choices]
    hits = []
    for combo in product(*(list(c.values()) for c in cl.choices)):
        values = dict(zip(paths, combo))
        if all(_holds(con, sym, negate, values) for con, sym, negate in cl.parts):
            hits.append(values)
    cl.count = len(hits)
    cl.set_draw(lambda rng: dict(hits[rng.randrange(len(hits))]))


def _holds(con, sym, negate, values) -> bool:
    try:
        return bool(sym.ev(values)) != negate
    except NaslError as e:
        raise e.at(con.span)
