"""Walks over a ChoiceSpec that searchers share: sampling, mutation, enumeration.

All of them answer the spec's decision tree top-down (:meth:`ChoiceSpec.walk`),
so a conditional choice is visited exactly when its branch is active, and
all check the spec's constraints before an architecture leaves them.
"""
from __future__ import annotations

import weakref
from collections import Counter
from typing import Iterator

from nasl.ir.architecture import Architecture
from nasl.ir.decision_tree import Choice, ChoiceSpec

MAX_TRIES = 10_000
PLAIN_TRIES = 200        # plain rejection draws before the exactly counted clusters are drawn apart
_EXACT: "weakref.WeakKeyDictionary[ChoiceSpec, tuple]" = weakref.WeakKeyDictionary()


class NoValidArchitecture(Exception):
    """Rejection sampling found no architecture that meets the constraints."""


def satisfies(spec: ChoiceSpec, values: dict) -> bool:
    """Whether ``values`` (a full assignment of the active choices) meets every active constraint."""
    for con in spec.active_constraints(values):
        if not con.satisfied(values):
            return False
    return True


def failed_constraint(spec: ChoiceSpec, values: dict, skip=()):
    """The first active constraint that ``values`` breaks (None if all hold), ignoring those in ``skip``."""
    for con in spec.active_constraints(values):
        if con not in skip and not con.satisfied(values):
            return con
    return None


def none_met(fails: Counter, tries: int, what: str) -> str:
    """The reason a rejection loop gave up: the constraint it failed most, and what it tried."""
    con = fails.most_common(1)[0][0] if fails else None
    named = f"'{con.message}'" if con is not None else "the constraints"
    return f"no architecture met {named} in {tries:,} {what}"


def exact_clusters(spec: ChoiceSpec) -> tuple:
    """``(clusters, constraints they cover)``: constraints over a few always-active choices that
    :mod:`nasl.ir.exact` counts and draws exactly (computed once per spec; none past too many groups)."""
    got = _EXACT.get(spec)
    if got is None:
        from nasl.ir.sampling import exact_clusters as survey
        found = survey(spec)
        got = _EXACT[spec] = (found, frozenset(con for cl in found for con, _, _ in cl.parts))
    return got


_SIZES: "weakref.WeakKeyDictionary[ChoiceSpec, int | None]" = weakref.WeakKeyDictionary()
SIZE_AFTER = 1000        # architectures seen before a de-duplicating searcher asks how many there are


def unconstrained_size(spec: ChoiceSpec):
    """The number of architectures of a spec without constraints, counted from its structure once;
    None for a constrained, infinite or uncountable one (de-duplication then falls back as before)."""
    if spec in _SIZES:
        return _SIZES[spec]
    n = None
    if not has_constraints(spec):
        from nasl.ir.counting import structural_size
        try:
            n = structural_size(spec)
        except Exception:       # noqa: BLE001 - not structural, float ranges, too deep: no size, no harm
            n = None
        if not isinstance(n, int) or n <= 0:
            n = None
    _SIZES[spec] = n
    return n


def mostly_seen(spec: ChoiceSpec, seen: int) -> float | None:
    """The share of the space not yet seen once ``seen`` is past SIZE_AFTER and the size is known, else None.

    De-duplicating searchers (random, Novelty) serve the list of unseen
    architectures once this is at most a half: rejection would need ever more
    draws per new architecture as a small space runs out (NB201's 15,625),
    and listing them costs one walk each, once.
    """
    if seen < SIZE_AFTER:
        return None
    n = unconstrained_size(spec)
    return None if n is None else max(0.0, (n - seen) / n)


def has_constraints(spec: ChoiceSpec) -> bool:
    """Whether the spec has any constraint at all (else the checks can be skipped)."""
    from nasl.ir.decision_tree import Constraint, Group
    stack = [spec.root]
    while stack:
        for item in stack.pop().items:
            if type(item) is Constraint:
                return True
            if type(item) is Group and item.forced:
                stack.append(item.block)
            elif type(item) is Group:
                return True     # lazy: unknown without building it; assume there may be some
    return False


def sample(spec: ChoiceSpec, rng, check: bool = True) -> Architecture:
    """One architecture, each active choice uniform in its domain, constraints by rejection.

    This is uniform per decision, not uniform over architectures: a branch
    with a large subtree is as likely as a small one.

    After :data:`PLAIN_TRIES` rejected draws, the choices of constraints that
    :mod:`nasl.ir.exact` counts exactly (``require a == 777 and b == 333``
    over two ``int_range(1, 10**6)``) are drawn from the combinations that
    hold, as :meth:`Space.sample` does, so a rare but satisfiable constraint
    is met at once. Gives up after :data:`MAX_TRIES` draws, naming the
    constraint that failed most.
    """
    answer = _draw(rng)
    fails: Counter = Counter()
    skip: frozenset = frozenset()
    found: list = []
    for i in range(MAX_TRIES):
        values = spec.walk(answer)
        if not check:
            return Architecture._trusted(values)
        if i == PLAIN_TRIES:
            found, skip = exact_clusters(spec)
            for cl in found:
                if cl.count == 0:
                    raise NoValidArchitecture(f"no architecture meets '{cl.constraint.message}': it holds for "
                                              f"none of the {cl.total:,} combinations (counted exactly)")
        for cl in found:
            values.update(cl.draw(rng))     # these choices are always active and gate nothing
        con = failed_constraint(spec, values, skip)
        if con is None:
            return Architecture._trusted(values)
        fails[con] += 1
    tried = "uniform draws" + (" (exactly counted constraints drawn apart)" if found else "")
    raise NoValidArchitecture(none_met(fails, MAX_TRIES, tried))


def _draw(rng):
    r = rng.random

    def answer(c: Choice, values):
        if c.categorical:
            d = c.domain
            return d[int(r() * len(d))]
        return c.sample(rng)
    return answer


def numeric_values(c: Choice, limit: int = 4096) -> tuple:
    """The values of a finite choice when every one is a number (widths, kernel sizes, depths,
    ratios), in the kind's order; ``()`` for any other choice, or one of over ``limit`` values.
    Searchers that grow or shrink a network (large_scale_evolution, n2n) read sizes from it."""
    n = c.cardinality()
    if not 1 < n <= limit:
        return ()
    vals = c.value_table()
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return vals
    return ()


def mutable_choices(spec: ChoiceSpec, arch) -> list[Choice]:
    """The active choices of ``arch`` that have more than one value."""
    return [c for c in spec.active_choices(arch) if c.cardinality() > 1]


def mutate(spec: ChoiceSpec, arch, rng, check: bool = True) -> Architecture:
    """Re-sample one active choice of ``arch`` to a different value, and its conditional subtree.

    The spec is walked again: the mutated choice takes its new value, every
    other choice keeps its old answer where it is still active, and choices
    that become active are sampled uniformly. Returns ``arch`` itself when it
    has nothing to mutate.
    """
    choices = mutable_choices(spec, arch)
    if not choices:
        return arch if isinstance(arch, Architecture) else Architecture(arch)
    draw = _draw(rng)
    for _ in range(MAX_TRIES):
        target = choices[int(rng.random() * len(choices))]
        old = arch[target.path]
        new = target.mutate(old, rng)
        path = target.path

        def answer(c: Choice, values):
            if c.path == path:
                return new
            v = arch.get(c.path, _MISSING)
            return draw(c, values) if v is _MISSING else v
        values = spec.walk(answer)
        if not check or satisfies(spec, values):
            return Architecture._trusted(values)
    raise NoValidArchitecture(f"no mutation met the constraints in {MAX_TRIES} tries")


_MISSING = object()


class Odometer:
    """Every architecture of the spec in a fixed order, lazily, one walk per step.

    The position is the list of value indices of the last walk (in walk
    order); the next position increments the last index that can grow and
    drops the ones after it, whose choices may no longer be active. Two
    positions first differ at the same choice, so no architecture repeats.
    """

    def __init__(self, spec: ChoiceSpec, float_points: int = 5):
        self.spec = spec
        self.float_points = float_points
        self.position: list[int] | None = []     # None: done
        self._values: dict[str, tuple] = {}

    def domain(self, c: Choice) -> tuple:
        vals = self._values.get(c.path)
        if vals is None:
            vals = c.grid(self.float_points)
            self._values[c.path] = vals
        return vals

    def __iter__(self) -> Iterator[Architecture]:
        return self

    def __next__(self) -> Architecture:
        if self.position is None:
            raise StopIteration
        prefix, taken, sizes = self.position, [], []

        def answer(c: Choice, values):
            vals = self.domain(c)
            i = prefix[len(taken)] if len(taken) < len(prefix) else 0
            taken.append(i)
            sizes.append(len(vals))
            return vals[i]
        values = self.spec.walk(answer)
        for j in range(len(taken) - 1, -1, -1):
            if taken[j] + 1 < sizes[j]:
                self.position = taken[:j] + [taken[j] + 1]
                break
        else:
            self.position = None
        return Architecture._trusted(values)
