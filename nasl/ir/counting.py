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
import time
from collections import defaultdict

from nasl.ir.choice_kind import CHOICE_TYPES
from nasl.ir.decision_tree import Block, Choice, ChoiceSpec, Constraint, Group
from nasl.ir.errors import NaslError


# the most architectures nasl lists one by one (to count under constraints, or unique ones)
ENUMERATION_LIMIT = 10_000_000


class NotStructural(Exception):
    """The spec has constraints or conditions that the tree product cannot express."""


MAX_CONDITIONING = 10_000
EMPTY_COUNT: dict = {}
SKIP = "skip"            # memo key: constraints that counting leaves out (counted exactly elsewhere)
# An enumeration projected to take longer than LIMIT_S (CPU seconds) is given up
# after GRACE_S (nas_bench_101.nas, the slowest count we know of, takes about 30 s).
GRACE_S = 2.0
LIMIT_S = 180.0


class WorkLimit(NaslError):
    """An enumeration given up because it would take too long; says what it tried.

    A NaslError, so that any caller that lets it through (``count_unique``)
    still reports it as the user's space, not as a bug.
    """

    def __init__(self, constraint, elapsed: float, projected: float, found: int):
        self.constraint, self.elapsed, self.projected, self.found = constraint, elapsed, projected, found
        what = f"'{constraint.message}'" if constraint is not None else "the constraints"
        super().__init__(f"cannot go through the combinations that {what} allows: {self.what()}",
                         getattr(constraint, "span", None))

    def what(self) -> str:
        """What was tried, for an error message."""
        found = "1 valid combination" if self.found == 1 else f"{self.found:,} valid combinations"
        return (f"enumerating its choices for {self.elapsed:.1f} s found {found} "
                f"and projects about {_duration(self.projected)} for the rest")


def _duration(s: float) -> str:
    for unit, length in (("years", 86400 * 365), ("days", 86400), ("hours", 3600)):
        if s >= 2 * length:
            return f"{s / length:,.0f} {unit}" if s < 1e6 * length else f"{s / length:.1e} {unit}"
    return f"{s:.0f} s"


def structural_size(spec: ChoiceSpec, memo: dict | None = None):
    """The exact size, or raises :class:`NotStructural`."""
    return block_size(spec.root, {} if memo is None else memo, EMPTY_COUNT)


def block_size(block: Block, memo: dict, fixed: dict):
    """Architectures of ``block`` given the values ``fixed`` of some enclosing choices.

    A choice that conditions groups deeper than its own block (a branch on
    two choices nests one guard inside another) is *conditioned on*: the
    block is counted once per value of such choices, with the value fixed.
    """
    cond = [c for c in conditioning_choices(block, memo) if c.path not in fixed]
    if not cond:
        return block_product(block, memo, fixed)
    total = 0
    for assignment in assignments_of(cond):
        sub = dict(fixed)
        sub.update(assignment)
        total += block_product(block, memo, sub)
    return total


def block_product(block, memo, fixed):
    here: dict[str, Choice] = {}
    gated: dict[str, list] = defaultdict(list)
    result = 1
    for item in block.items:
        t = type(item)
        if t in CHOICE_TYPES:
            if item.path not in fixed:
                here[item.path] = item
        elif t is Group:
            guard = item.guard
            if guard is None:
                result *= group_size(item, memo, fixed)
            elif guard.path in fixed:
                if guard.holds(fixed):
                    result *= group_size(item, memo, fixed)
            elif guard.path in here:
                gated[guard.path].append(item)
            else:
                raise NotStructural(guard.path)
        elif t is Constraint:
            if item not in memo.get(SKIP, ()):
                raise NotStructural("constraint")
        if result == 0:
            return 0
    for path, c in here.items():
        groups = gated.get(path)
        if not groups:
            result *= c.cardinality()
            continue
        result *= choice_weights(c, groups, memo, fixed)[1]
    return result


def group_size(g: Group, memo: dict, fixed: dict = EMPTY_COUNT):
    key = g.key
    if key is not None:
        key = (key, tuple(sorted(fixed.items(), key=repr))) if fixed else key
        if key in memo:
            return memo[key]
    n = block_size(g.block, memo, fixed)
    if key is not None:
        memo[key] = n
    return n


def choice_weights(c: Choice, groups, memo, fixed: dict = EMPTY_COUNT):
    """``(values, total)`` where each value carries the number of completions under it."""
    if not c.finite:
        return None, math.inf
    weighted, total = [], 0
    for v in c.values():
        w = 1
        for g in groups:
            if v in g.guard.values:
                w *= group_size(g, memo, fixed)
        weighted.append((v, w))
        total += w
    return weighted, total


def conditioning_choices(block: Block, memo: dict) -> list:
    """Choices of ``block`` that guards below its own groups refer to."""
    key = ("conditioning", id(block))
    hit = memo.get(key)
    if hit is not None:
        return hit
    here = {i.path: i for i in block.items if type(i) in CHOICE_TYPES}
    deep: set = set()
    for item in block.items:
        if type(item) is Group and not (item.guard is None and item.key is not None):
            _guard_paths(item.block, deep, 0)
    out = [here[p] for p in here if p in deep]
    memo[key] = out
    return out


def _guard_paths(block, out, depth):
    # lazily built recursive expansions (keyed groups) only see their own choices
    if depth > 64:
        raise NotStructural("nesting")
    for item in block.items:
        if type(item) is Group:
            if item.guard is not None:
                out.add(item.guard.path)
            if not (item.guard is None and item.key is not None):
                _guard_paths(item.block, out, depth + 1)


def assignments_of(choices):
    from itertools import product
    n = 1
    for c in choices:
        if not c.finite:
            raise NotStructural(c.path)
        n *= c.cardinality()
        if n > MAX_CONDITIONING:
            raise NotStructural(c.path)
    paths = [c.path for c in choices]
    for combo in product(*(list(c.values()) for c in choices)):
        yield dict(zip(paths, combo))


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


def constrained_size(spec: ChoiceSpec, skip=frozenset()) -> int:
    """Count by enumeration with pruning; only deciding choices are branched on.

    Constraints in ``skip`` are left out (their choices are then multiplied
    out). Raises :class:`WorkLimit` when the walk is projected to take too long.
    """
    gating, deps = _all_groups_and_constraints(spec)
    walker = _Walker(gating, count=True, skip=skip)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    try:
        walker.run(spec.root)
    finally:
        sys.setrecursionlimit(old)
    return walker.total


def iter_valid(spec: ChoiceSpec, skip=frozenset(), pinned=frozenset()):
    """Every valid full assignment, lazily, in walk order.

    Constraints in ``skip`` are left out and choices in ``pinned`` take only
    their first value (the caller draws them elsewhere). Raises
    :class:`WorkLimit` when no valid assignment turns up for a while and the
    rest of the walk is projected to take too long.
    """
    gating, _ = _all_groups_and_constraints(spec)
    walker = _Walker(gating, count=False, skip=skip, pinned=pinned)
    yield from walker.gen([(spec.root.items, 0)], {}, walker.enter(spec.root, ()), 1)


class _Walker:
    """Depth-first over the decision tree, with constraints checked as early as they decide.

    A block's constraints are activated when the block is entered (their
    existence depends only on the block's), so ``edges() <= 9`` prunes while
    the edges are still being chosen. When counting, a choice that gates
    nothing and that no undecided constraint mentions is multiplied out
    instead of branched on.
    """

    def __init__(self, gating, count, skip=frozenset(), pinned=frozenset()):
        self.gating = gating
        self.count = count
        self.skip = skip
        self.pinned = pinned
        self.total = 0
        self._ahead: dict = {}
        # progress, for the projection of the walk's duration: [value index, values] per branching level
        self._frames: list = []
        self._ticks = 0
        self.found = 0
        self._start = self._last_hit = time.process_time()

    def enter(self, block, active):
        cons = [i for i in block.items if type(i) is Constraint and i not in self.skip]
        return active + tuple(cons) if cons else active

    def run(self, root):
        for _ in self.gen([(root.items, 0)], {}, self.enter(root, ()), 1):
            pass

    def gen(self, stack, values, active, mult):
        while stack:
            items, i = stack[-1]
            if i >= len(items):
                stack.pop()
                continue
            stack[-1] = (items, i + 1)
            item = items[i]
            t = type(item)
            if t in CHOICE_TYPES:
                path = item.path
                if self.count and path not in self.gating and not any(path in c.sym.deps for c in active) \
                        and not self._future(stack, path):
                    mult *= item.cardinality()
                    continue
                pinned = path in self.pinned
                frame = [0, 1 if pinned else item.cardinality()]
                self._frames.append(frame)
                for v in ((next(item.values()),) if pinned else item.values()):
                    self._ticks += 1
                    if not self._ticks & 1023:
                        self._check(active)
                    values[path] = v
                    still, ok = [], True
                    for c in active:
                        r = c.partial(values)
                        if r is False:
                            ok = False
                            break
                        if r is None:
                            still.append(c)
                    if ok:
                        yield from self.gen(list(stack), values, tuple(still), mult)
                    frame[0] += 1
                self._frames.pop()
                del values[path]
                return
            if t is Group:
                if item.guard is None or item.guard.holds(values):
                    stack.append((item.block.items, 0))
                    active = self.enter(item.block, active)
        if all(c.satisfied(values) for c in active):
            self.found += 1
            if self.count:
                self.total += mult
            else:
                self._last_hit = time.process_time()
                yield dict(values)

    def _check(self, active):
        """Give up when the walk so far projects a total beyond LIMIT_S.

        CPU time, not wall time: a loaded machine must not fail a count that
        would finish.
        """
        now = time.process_time()
        elapsed = now - self._start
        if elapsed < GRACE_S or (not self.count and now - self._last_hit < GRACE_S):
            return
        done, scale = 0.0, 1.0
        for i, n in self._frames:         # the fraction of the tree already walked
            done += scale * i / n
            scale /= n
        projected = elapsed / max(done, 1e-300)
        if projected > LIMIT_S:
            first = active[0] if active else None
            raise WorkLimit(first, elapsed, projected, self.total if self.count else self.found)

    def _future(self, stack, path) -> bool:
        """Whether a constraint still ahead (in a group not yet entered) mentions ``path``."""
        for items, i in stack:
            key = (id(items), i)
            ahead = self._ahead.get(key)
            if ahead is None:
                ahead = self._ahead[key] = frozenset().union(
                    *(_mentioned(item, self.skip) for item in items[i:] if type(item) is Group))
            if path in ahead:
                return True
        return False


def _mentioned(group, skip=frozenset()) -> set:
    """Paths that constraints anywhere inside ``group`` (but not in ``skip``) depend on."""
    out, stack = set(), [group]
    while stack:
        g = stack.pop()
        for item in g.block.items:
            t = type(item)
            if t is Constraint:
                if item not in skip:
                    out.update(item.sym.deps)
            elif t is Group:
                stack.append(item)
    return out
