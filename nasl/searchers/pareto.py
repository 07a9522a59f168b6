"""Pareto dominance over several objectives: sorting, crowding, fronts.

Points are tuples of *signed* scores (larger is better for every
objective; :meth:`Result.score` gives them), so one rule serves maximised
and minimised objectives alike.

Examples
--------
>>> fast_non_dominated_sort([(1, 1), (2, 0), (0, 2), (0, 0)])
[[0, 1, 2], [3]]
>>> from nasl.searchers.base import Result
>>> rs = [Result({"acc": a, "params": p}, {"params": "min"}) for a, p in [(90, 1), (93, 3), (92, 4)]]
>>> [r.objectives["acc"] for r in pareto_front(rs)]
[90.0, 93.0]
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

from nasl.searchers.base import Result


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is at least as good as ``b`` everywhere and better somewhere."""
    better = False
    for x, y in zip(a, b):
        if x < y:
            return False
        if x > y:
            better = True
    return better


def fast_non_dominated_sort(points: Sequence[Sequence[float]]) -> list[list[int]]:
    """Deb et al.'s fast non-dominated sort: the fronts, best first, as lists of indices.

    O(M N^2) for N points of M objectives. Indices within a front are sorted.
    """
    n = len(points)
    dominated_by = [[] for _ in range(n)]     # i -> the points i dominates
    count = [0] * n                           # how many points dominate i
    for i in range(n):
        pi = points[i]
        for j in range(i + 1, n):
            pj = points[j]
            if dominates(pi, pj):
                dominated_by[i].append(j)
                count[j] += 1
            elif dominates(pj, pi):
                dominated_by[j].append(i)
                count[i] += 1
    fronts, current = [], [i for i in range(n) if count[i] == 0]
    while current:
        fronts.append(sorted(current))
        nxt = []
        for i in current:
            for j in dominated_by[i]:
                count[j] -= 1
                if count[j] == 0:
                    nxt.append(j)
        current = nxt
    return fronts


def crowding_distance(points: Sequence[Sequence[float]], front: Sequence[int]) -> dict[int, float]:
    """Deb et al.'s crowding distance of each index of ``front`` (the ends of each objective: inf)."""
    dist = {i: 0.0 for i in front}
    if len(front) <= 2:
        return {i: math.inf for i in front}
    for m in range(len(points[front[0]])):
        order = sorted(front, key=lambda i: (points[i][m], i))
        lo, hi = points[order[0]][m], points[order[-1]][m]
        dist[order[0]] = dist[order[-1]] = math.inf
        if hi == lo:
            continue
        for k in range(1, len(order) - 1):
            dist[order[k]] += (points[order[k + 1]][m] - points[order[k - 1]][m]) / (hi - lo)
    return dist


def signed_scores(result: Result, objectives: Sequence[str]) -> tuple | None:
    """The result's signed scores for ``objectives``; None if it failed or lacks one."""
    if result.failed or any(o not in result.objectives for o in objectives):
        return None
    return tuple(result.score(o) for o in objectives)


def pareto_front(results: Iterable, objectives: Sequence[str] | None = None) -> list:
    """The non-dominated items of ``results``, in their order.

    Parameters
    ----------
    results : iterable
        :class:`Result` s, or ``(arch, result)`` pairs (the pairs are returned).
    objectives : list of str, optional
        The objectives compared (default: those of the first successful
        result). Failed results and results lacking one are left out.
    """
    items = list(results)
    res = [it if isinstance(it, Result) else Result.coerce(it[1]) for it in items]
    if objectives is None:
        first = next((r for r in res if not r.failed), None)
        if first is None:
            return []
        objectives = list(first.objectives)
    keep = [(it, p) for it, r in zip(items, res) if (p := signed_scores(r, objectives)) is not None]
    if not keep:
        return []
    return [keep[i][0] for i in first_front([p for _, p in keep])]


def first_front(points: Sequence[Sequence[float]]) -> list[int]:
    """The indices of the non-dominated points, sorted; O(N F) for a front of F points.

    Sweeping the points in decreasing lexicographic order, a point can only
    be dominated by one seen before it, and then by one already on the front.
    """
    order = sorted(range(len(points)), key=lambda i: tuple(points[i]), reverse=True)
    front: list[int] = []
    for i in order:
        p = points[i]
        if not any(dominates(points[j], p) for j in front):
            front.append(i)
    return sorted(front)
