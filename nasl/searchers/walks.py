"""Walks over a ChoiceSpec that searchers share: sampling, mutation, enumeration.

All of them answer the spec's decision tree top-down (:meth:`ChoiceSpec.walk`),
so a conditional choice is visited exactly when its branch is active, and
all check the spec's constraints before an architecture leaves them.
"""
from __future__ import annotations

from typing import Iterator

from nasl.ir.architecture import Architecture
from nasl.ir.decision_tree import Choice, ChoiceSpec

MAX_TRIES = 10_000


class NoValidArchitecture(Exception):
    """Rejection sampling found no architecture that meets the constraints."""


def satisfies(spec: ChoiceSpec, values: dict) -> bool:
    """Whether ``values`` (a full assignment of the active choices) meets every active constraint."""
    for con in spec.active_constraints(values):
        if not con.satisfied(values):
            return False
    return True


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
    """
    answer = _draw(rng)
    for _ in range(MAX_TRIES):
        values = spec.walk(answer)
        if not check or satisfies(spec, values):
            return Architecture._trusted(values)
    raise NoValidArchitecture(f"no architecture met the constraints in {MAX_TRIES} draws")


def _draw(rng):
    r = rng.random

    def answer(c: Choice, values):
        if c.categorical:
            d = c.domain
            return d[int(r() * len(d))]
        return c.sample(rng)
    return answer


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
