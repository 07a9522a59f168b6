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
  linear integer expressions (``2*a + b <= c + 7``, ``a == 777``);
- by listing the combinations when their product is small.

Anything else is left to the general walker of :mod:`nasl.ir.counting`.
"""
from __future__ import annotations

import bisect
import operator
from itertools import product

from nasl.ir.choices import Choice, Constraint, Group
from nasl.ir.symbols import ChoiceRef, OpSym, needs_graph

PRODUCT_LIMIT = 200_000          # combinations listed outright
DP_LIMIT = 4_000_000             # partial sums a dynamic program may track
_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}


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
        self.method = ""
        self._draw = None
        _solve(self)

    @property
    def constraint(self) -> Constraint:
        return self.parts[0][0]

    def draw(self, rng) -> dict:
        """A uniform draw of the combinations that hold (count > 0)."""
        return self._draw(rng)


def clusters(spec, gating) -> list[Cluster]:
    """The independent clusters of ``spec`` whose counting an exact method may do."""
    choices, constraints = _always_active(spec)
    all_cons = list(spec.all_constraints())
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


def _always_active(spec):
    """``({path: choice} present in every architecture, [unconditional constraints of the top level])``.

    Constraints qualify only outside shared (keyed) groups, whose counts are
    memoized by shape and must not depend on what is left out here.
    """
    choices, constraints = {}, []
    stack = [(spec.root, True)]
    while stack:
        block, top = stack.pop()
        for item in block.items:
            t = type(item)
            if t is Choice:
                if item.finite and not item.condition:
                    choices[item.path] = item
            elif t is Constraint:
                if top and not item.condition and not needs_graph(item.sym):
                    constraints.append(item)
            elif t is Group and item.guard is None:
                stack.append((item.block, top and item.key is None))
    return choices, constraints


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
    if len(cl.parts) == 1:
        lin = _comparison(cl.parts[0][1], {c.path: c for c in cl.choices})
        if lin is not None and _dp(cl, *lin, cl.parts[0][2]):
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
    cl.count, cl.method = len(hits), f"listing its {cl.total:,} combinations"
    cl._draw = lambda rng: dict(hits[rng.randrange(len(hits))])


def _holds(con, sym, negate, values) -> bool:
    from nasl.ir.errors import NaslError
    try:
        return bool(sym.ev(values)) != negate
    except NaslError as e:
        raise e.at(con.span)


def _comparison(sym, choices):
    """``(coeffs {path: int}, const, op)`` with ``sum coeffs*x + const  op  0``, or None."""
    if not (isinstance(sym, OpSym) and sym.text in _CMP and len(sym.args) == 2):
        return None
    left, right = (_linear(a, choices) for a in sym.args)
    if left is None or right is None:
        return None
    coeffs = dict(left[0])
    for p, k in right[0].items():
        coeffs[p] = coeffs.get(p, 0) - k
    return {p: k for p, k in coeffs.items() if k}, left[1] - right[1], sym.text


def _linear(e, choices):
    """``({path: coefficient}, constant)`` of an integer-linear expression, or None."""
    if type(e) is int:
        return {}, e
    if isinstance(e, ChoiceRef):
        c = choices.get(e.path)
        if c is None or not _int_valued(c):
            return None
        return {e.path: 1}, 0
    if not isinstance(e, OpSym):
        return None
    if e.text == "-" and len(e.args) == 1:
        inner = _linear(e.args[0], choices)
        return None if inner is None else ({p: -k for p, k in inner[0].items()}, -inner[1])
    if e.text not in ("+", "-", "*") or len(e.args) != 2:
        return None
    a, b = (_linear(x, choices) for x in e.args)
    if a is None or b is None:
        return None
    if e.text == "*":
        if a[0] and b[0]:
            return None             # a product of two choices is not linear
        (k, lin) = (a[1], b) if not a[0] else (b[1], a)
        return {p: k * v for p, v in lin[0].items()}, k * lin[1]
    sign = 1 if e.text == "+" else -1
    coeffs = dict(a[0])
    for p, k in b[0].items():
        coeffs[p] = coeffs.get(p, 0) + sign * k
    return coeffs, a[1] + sign * b[1]


def _int_valued(c: Choice) -> bool:
    if c.kind == "int":
        return True
    return c.kind == "choice" and all(type(v) is int for v in c.domain)


_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _dp(cl, coeffs, const, op, negate) -> bool:
    """Count ``sum coeffs*x + const op 0`` by partial sums; False when it would track too many.

    The partial sums run over every choice but the widest, whose values that
    hold for a given partial sum form at most two runs of its range (the
    expression is monotone in it), so they are counted and drawn directly.
    """
    if negate:
        op = _NEGATED[op]
    choices = sorted((c for c in cl.choices if c.path in coeffs), key=lambda c: _spread(c, coeffs))
    if sum(_spread(c, coeffs) for c in choices[:-1]) + 1 > DP_LIMIT:
        return False
    # dists[i]: {partial sum of the first i terms: how many combinations give it}
    dists = [{0: 1}]
    for c in choices[:-1]:
        dists.append(_convolve(dists[-1], coeffs[c.path], c.domain))
    last = choices[-1] if choices else None
    weights = []            # (partial sum s, its combinations times the values of `last` that hold with s)
    for s, n in dists[-1].items():
        if last is None:
            k = int(_CMP[op](const, 0))
        else:
            k = sum(b - a for a, b in _runs(last.domain, coeffs[last.path], s + const, op))
        if k:
            weights.append((s, n * k))
    free = cl.total
    for c in choices:
        free //= c.cardinality()         # choices whose coefficients cancel: any value holds
    cl.count = sum(w for _, w in weights) * free
    cl.method = "counting exactly over partial sums"
    cum, acc = [], 0
    for _, w in weights:
        acc += w
        cum.append(acc)

    def draw(rng):
        s = weights[bisect.bisect_right(cum, rng.randrange(acc))][0]
        values = {}
        if last is not None:
            r = rng.randrange(sum(b - a for a, b in _runs(last.domain, coeffs[last.path], s + const, op)))
            for a, b in _runs(last.domain, coeffs[last.path], s + const, op):
                if r < b - a:
                    values[last.path] = last.domain[a + r]
                    break
                r -= b - a
        for i in range(len(choices) - 2, -1, -1):        # back through the partial sums
            c, k = choices[i], coeffs[choices[i].path]
            prev = dists[i]
            options = [(v, prev.get(s - k * v, 0)) for v in c.domain]
            r = rng.randrange(sum(w for _, w in options))
            for v, w in options:
                if r < w:
                    break
                r -= w
            values[c.path] = v
            s -= k * v
        for c in cl.choices:
            if c.path not in values:
                values[c.path] = c.domain[rng.randrange(len(c.domain))]
        return values
    cl._draw = draw
    return True


def _spread(c: Choice, coeffs) -> int:
    return abs(coeffs[c.path]) * (max(c.domain) - min(c.domain))


def _convolve(dist: dict, k: int, domain) -> dict:
    """The distribution of ``s + k*v`` for ``s`` from ``dist`` and ``v`` over ``domain``."""
    out: dict = {}
    if isinstance(domain, range) and len(domain) > 8:
        # a range adds an arithmetic progression: sliding sums along each residue class
        step, first = k * domain.step, k * domain.start
        if step < 0:
            first, step = k * domain[-1], -step
        n = len(domain)
        for low, high in _chains(dist, step):
            window, t = 0, low
            while t <= high + (n - 1) * step:
                window += dist.get(t, 0) - dist.get(t - n * step, 0)
                if window:
                    out[t + first] = window
                t += step
        return out
    for s, m in dist.items():
        for v in domain:
            key = s + k * v
            out[key] = out.get(key, 0) + m
    return out


def _chains(dist, step):
    """``(smallest, largest)`` partial sum of each residue class modulo ``step``."""
    ends: dict = {}
    for s in dist:
        r = s % step
        lo, hi = ends.get(r, (s, s))
        ends[r] = (min(lo, s), max(hi, s))
    return ends.values()


def _runs(d, k: int, s: int, op: str) -> list:
    """Index runs ``[(a, b)]`` of ``d`` whose values ``v`` have ``k*v + s  op  0``."""
    if not isinstance(d, range) or len(d) <= 64:
        test = _CMP[op]
        return [(i, i + 1) for i, v in enumerate(d) if test(k * v + s, 0)]
    # k*v + s is monotone along the range: one run below zero, at most one at zero, one above
    n = len(d)
    up = k * d.step > 0
    first = _count_below(d, k, s) if up else n - _count_below(d, k, s) - _count_zero(d, k, s)
    zero = _count_zero(d, k, s)
    low, mid, high = (0, first), (first, first + zero), (first + zero, n)
    neg, pos = (low, high) if up else (high, low)
    runs = {"==": [mid], "!=": [neg, pos], "<": [neg], "<=": [neg, mid], ">": [pos], ">=": [pos, mid]}[op]
    return [r for r in runs if r[1] > r[0]]


def _count_zero(d: range, k: int, s: int) -> int:
    return int(s % k == 0 and (-s // k) in d)


def _count_below(d: range, k: int, s: int) -> int:
    """How many values ``v`` of ``d`` have ``k*v + s < 0`` (k != 0)."""
    if k > 0:
        return _at_most(d, _ceil_div(-s, k) - 1)                       # v <= ceil(-s/k) - 1
    return len(d) - _at_most(d, (-s) // k)                           # v > floor(-s/k)


def _ceil_div(a, b):
    return -((-a) // b)


def _at_most(d: range, x: int) -> int:
    """How many values of ``d`` are <= ``x``."""
    if d.step > 0:
        return 0 if x < d.start else min(len(d), (x - d.start) // d.step + 1)
    return 0 if x < d[-1] else min(len(d), (x - d[-1]) // (-d.step) + 1)
