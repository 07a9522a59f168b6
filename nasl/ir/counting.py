"""Exact counting of a space's architectures.

When every conditional group hangs off a choice of its own block and no
constraint ties choices together, the count is a product of sums over the
decision tree (:func:`structural_size`), and lazily built groups with equal
shape keys are counted once. Otherwise :func:`constrained_size` enumerates
only the choices that matter (those that gate a group or appear in a
constraint), multiplying out the others, and prunes with constraints as soon
as they are decided.
"""
from __future__ import annotations

import math
import sys
from collections import defaultdict

from nasl.ir.choices import Block, Choice, ChoiceSpec, Constraint, Group


class NotStructural(Exception):
    """The spec has constraints or cross-block conditions."""


def structural_size(spec: ChoiceSpec, memo: dict | None = None):
    """The exact size, or raises :class:`NotStructural`."""
    return block_size(spec.root, {} if memo is None else memo)


def block_size(block: Block, memo: dict):
    here: dict[str, Choice] = {}
    gated: dict[str, list] = defaultdict(list)
    result = 1
    for item in block.items:
        t = type(item)
        if t is Choice:
            here[item.path] = item
        elif t is Group:
            if item.guard is None:
                result *= group_size(item, memo)
            elif item.guard.path in here:
                gated[item.guard.path].append(item)
            else:
                raise NotStructural(item.guard.path)
        elif t is Constraint:
            raise NotStructural("constraint")
    for path, c in here.items():
        groups = gated.get(path)
        if not groups:
            result *= c.cardinality()
            continue
        result *= choice_weights(c, groups, memo)[1]
    return result


def group_size(g: Group, memo: dict):
    key = g.key
    if key is not None and key in memo:
        return memo[key]
    n = block_size(g.block, memo)
    if key is not None:
        memo[key] = n
    return n


def choice_weights(c: Choice, groups, memo):
    """``(values, total)`` where each value carries the number of completions under it."""
    if not c.finite:
        return None, math.inf
    weighted, total = [], 0
    for v in c.values():
        w = 1
        for g in groups:
            if v in g.guard.values:
                w *= group_size(g, memo)
        weighted.append((v, w))
        total += w
    return weighted, total


# -------------------------------------------------------------- enumeration
def _all_groups_and_constraints(spec: ChoiceSpec):
    gating, deps, n = set(), set(), 0
    stack = [spec.root]
    while stack:
        b = stack.pop()
        for item in b.items:
            t = type(item)
            if t is Group:
                n += 1
                if n > 1_000_000:
                    raise RecursionError("too many groups")
                if item.guard is not None:
                    gating.add(item.guard.path)
                stack.append(item.block)
            elif t is Constraint:
                deps.update(item.sym.deps)
    return gating, deps


def constrained_size(spec: ChoiceSpec) -> int:
    """Count by enumeration with pruning; only deciding choices are branched on."""
    gating, deps = _all_groups_and_constraints(spec)
    branch = gating | deps
    total = [0]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    try:
        _dfs([(spec.root.items, 0)], {}, [], 1, branch, total, None)
    finally:
        sys.setrecursionlimit(old)
    return total[0]


def iter_valid(spec: ChoiceSpec, with_free: bool = True):
    """Every valid full assignment, lazily, in walk order."""
    gating, deps = _all_groups_and_constraints(spec)
    branch = None if with_free else (gating | deps)
    yield from _gen([(spec.root.items, 0)], {}, [], branch)


def _dfs(stack, values, constraints, mult, branch, total, _unused):
    # Walk to the next item, multiplying out choices that decide nothing.
    while stack:
        items, i = stack[-1]
        if i >= len(items):
            stack.pop()
            continue
        stack[-1] = (items, i + 1)
        item = items[i]
        t = type(item)
        if t is Choice:
            if item.path not in branch:
                mult *= item.cardinality()
                continue
            for v in item.values():
                values[item.path] = v
                if _ok(constraints, values):
                    _dfs(list(stack), values, constraints, mult, branch, total, None)
            del values[item.path]
            return
        if t is Group:
            if item.guard is None or item.guard.holds(values):
                stack.append((item.block.items, 0))
        elif t is Constraint:
            r = item.partial(values)
            if r is False:
                return
            if r is None:
                constraints = constraints + [item]
    if all(c.satisfied(values) for c in constraints):
        total[0] += mult


def _gen(stack, values, constraints, branch):
    while stack:
        items, i = stack[-1]
        if i >= len(items):
            stack.pop()
            continue
        stack[-1] = (items, i + 1)
        item = items[i]
        t = type(item)
        if t is Choice:
            for v in item.values():
                values[item.path] = v
                if _ok(constraints, values):
                    yield from _gen(list(stack), values, constraints, branch)
            del values[item.path]
            return
        if t is Group:
            if item.guard is None or item.guard.holds(values):
                stack.append((item.block.items, 0))
        elif t is Constraint:
            r = item.partial(values)
            if r is False:
                return
            if r is None:
                constraints = constraints + [item]
    if all(c.satisfied(values) for c in constraints):
        yield dict(values)


def _ok(constraints, values) -> bool:
    for c in constraints:
        if c.partial(values) is False:
            return False
    return True
