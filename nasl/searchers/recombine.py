"""Crossover and per-choice mutation over a ChoiceSpec, for genetic algorithms.

Both walk the decision tree top-down, as every searcher's walk does, so a
child answers exactly its active choices: a value a parent holds for a path
is reused only where that path is active in the child and the value is in
the domain it has there; anything else (a subtree that neither parent has
active) is sampled uniformly. Constraints are met by rejection.
"""
from __future__ import annotations

import weakref

from nasl.ir.architecture import Architecture
from nasl.ir.decision_tree import Choice, ChoiceSpec
from nasl.searchers.walks import MAX_TRIES, NoValidArchitecture, mutate, satisfies

_MISSING = object()
_DOMAINS: "weakref.WeakKeyDictionary[Choice, frozenset]" = weakref.WeakKeyDictionary()


def _fits(c: Choice, v) -> bool:
    """``c.contains(v)``, by a set lookup for plain choices (the walks ask it for every choice)."""
    if not c.categorical:
        return c.contains(v)
    keys = _DOMAINS.get(c)
    if keys is None:
        keys = _DOMAINS[c] = frozenset((type(x) is bool, x) for x in c.domain)
    try:
        return (type(v) is bool, v) in keys        # keeps True apart from 1, as contains does
    except TypeError:
        return c.contains(v)


def _parent_path(c: Choice):
    """The path of the choice whose value activates ``c`` (None for an unconditional choice)."""
    return getattr(c.condition[-1], "path", None) if c.condition else None


def _value(c: Choice, first, second, rng):
    """``first``'s value for ``c`` if it fits, else ``second``'s, else a uniform sample."""
    for parent in (first, second):
        v = parent.get(c.path, _MISSING)
        if v is not _MISSING and _fits(c, v):
            return v
    return c.sample(rng)


def crossover(spec: ChoiceSpec, a, b, rng, swap: float, check: bool = True) -> tuple[Architecture, Architecture]:
    """Two children of ``a`` and ``b`` that exchange units, each swapped with probability ``swap``.

    A unit is a choice together with the choices its value activates: each
    active choice flips a coin, and takes its value from the other parent
    than its activating choice did if the coin says swap. On a space without
    conditions this is uniform crossover per choice; on a tree it exchanges
    subtrees. The second child is the complement of the first.
    """
    for _ in range(MAX_TRIES):
        coins: dict = {}

        def child(base, other):
            swapped: dict = {}

            def answer(c, values):
                flip = coins.get(c.path)
                if flip is None:
                    flip = coins[c.path] = rng.random() < swap
                s = swapped.get(_parent_path(c), False) ^ flip
                swapped[c.path] = s
                return _value(c, other, base, rng) if s else _value(c, base, other, rng)
            return spec.walk(answer)
        x, y = child(a, b), child(b, a)
        if not check or (satisfies(spec, x) and satisfies(spec, y)):
            return Architecture._trusted(x), Architecture._trusted(y)
    raise NoValidArchitecture(f"no crossover met the constraints in {MAX_TRIES} tries")


def mutate_each(spec: ChoiceSpec, arch, rng, rate: float, check: bool = True,
                at_least_one: bool = False) -> Architecture:
    """Re-sample each active choice of ``arch`` to a different value with probability ``rate``.

    Choices that a change activates are sampled; the others keep their
    values. With ``at_least_one``, a draw that changes nothing becomes a
    single-choice mutation (:func:`~nasl.searchers.walks.mutate`).
    """
    for _ in range(MAX_TRIES):
        changed = []

        def answer(c, values):
            old = arch.get(c.path, _MISSING)
            fits = old is not _MISSING and _fits(c, old)
            if fits and c.cardinality() > 1 and rng.random() < rate:
                new = c.sample(rng)
                while new == old:
                    new = c.sample(rng)
                changed.append(c.path)
                return new
            return old if fits else c.sample(rng)
        values = spec.walk(answer)
        if at_least_one and not changed:
            return mutate(spec, arch, rng, check)
        if not check or satisfies(spec, values):
            return Architecture._trusted(values)
    raise NoValidArchitecture(f"no mutation met the constraints in {MAX_TRIES} tries")
