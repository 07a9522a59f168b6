"""Exact counts and draws of one linear comparison over integer choices, by partial sums.

``sum k_i * x_i + const  op  0`` (``op`` one of ``== != < <= > >=``) over
choices with integer values: a dynamic program over the partial sums of
every choice but the widest gives how many combinations reach each sum, and
for each sum the values of the widest choice that hold form at most two
runs of its range (the expression is monotone in it), so they are counted
and drawn by arithmetic. A draw picks the sum by its weight, then walks back
through the partial sums choosing each value by the combinations below it:
uniform over the combinations that hold.
"""
from __future__ import annotations

import bisect
import operator

from nasl.ir.choice import Choice
from nasl.ir.symbols import ChoiceRef, OpSym

DP_LIMIT = 1_000_000             # partial sums a dynamic program may track
_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def solve_linear(cl, sym, negate) -> bool:
    """Count and set up draws for ``cl`` (one conjunct ``sym``); False when it is not linear or too wide."""
    lin = _comparison(sym, {c.path: c for c in cl.choices})
    return lin is not None and _dp(cl, *lin, negate)


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
    holding = _counter(last.domain, coeffs[last.path], op) if last else (lambda t: int(_CMP[op](t, 0)))
    for s, n in dists[-1].items():
        k = holding(s + const)
        if k:
            weights.append((s, n * k))
    free = cl.total
    for c in choices:
        free //= c.cardinality()         # choices whose coefficients cancel: any value holds
    cl.count = sum(w for _, w in weights) * free
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
            if i == 0:                                   # nothing before it: k*v is the sum itself
                values[c.path] = s // k
                break
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
    cl.set_draw(draw)
    return True


def _spread(c: Choice, coeffs) -> int:
    d = c.domain
    lo, hi = (min(d[0], d[-1]), max(d[0], d[-1])) if isinstance(d, range) else (min(d), max(d))
    return abs(coeffs[c.path]) * (hi - lo)


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


def _counter(d, k: int, op: str):
    """``t -> how many values v of d have k*v + t  op  0``: called once per partial sum, so kept lean."""
    if not isinstance(d, range) or len(d) <= 64:
        test, vals = _CMP[op], list(d)
        return lambda t: sum(1 for v in vals if test(k * v + t, 0))
    n = len(d)

    def zero(t):
        q, r = divmod(-t, k)
        return 1 if r == 0 and q in d else 0

    def below(t):
        return _count_below(d, k, t)
    return {"==": zero, "!=": lambda t: n - zero(t), "<": below, "<=": lambda t: below(t) + zero(t),
            ">": lambda t: n - below(t) - zero(t), ">=": lambda t: n - below(t)}[op]


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
