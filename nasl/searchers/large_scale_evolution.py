"""Large-Scale Evolution (Real et al., "Large-Scale Evolution of Image Classifiers", ICML 2017).

Pairwise tournaments with killing, as :mod:`nasl.searchers.pairwise`, with the paper's two other
parts: a set of mutations chosen by type, and weight inheritance. Every child names its parent
and its mutation (:meth:`~nasl.searchers.base.Searcher.child`), so a study records the lineage
and the ``digits`` evaluator starts the child from the parent's trained weights (every layer the
mutation left alone keeps them; :func:`nasl.morph.inherit`).

The paper's mutations act on a growing DNA graph (alter the learning rate, insert or remove a
convolution, alter strides, channels or filter size, add or remove a skip, identity, reset
weights). Over a space's choices they become, each type drawn uniformly among those the parent
allows, then a choice uniformly within the type:

- ``alter``: a choice of more than one value (an op, a skip, a learning rate) takes another value;
- ``grow`` / ``shrink``: a numeric choice (channels, filter size, depth: insert or remove a
  layer) steps to the next larger or smaller value of its domain;
- ``identity``: the same architecture, trained on from the parent's weights;
- ``reset``: the same architecture, its weights reset (no inheritance).

Choices that a mutation activates are drawn uniformly; a mutation that breaks the space's
constraints is drawn again.
"""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher
from nasl.searchers.journal import ARCH_SCORE, Log
from nasl.searchers.pairwise import pairwise_select
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import has_constraints, mutable_choices, mutate, numeric_values, sample, satisfies

TYPES = ("alter", "grow", "shrink", "identity", "reset")
_TRIES = 50


@register_searcher("large_scale_evolution", example={"population_size": 4})
class LargeScaleEvolution(Searcher):
    """Real et al. 2017: random initial population, then pairwise tournaments whose winner's child,
    one mutation away, inherits the winner's weights.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    population_size : int
        The initial population (the paper: 1000, on 250 workers).
    objective : str, optional
        The objective that ranks members (default: each result's first).
    mutations : list of str
        The mutation types to draw from (default all of :data:`TYPES`).
    """

    def __init__(self, spec, seed=None, *, population_size: int = 100, objective: str | None = None,
                 mutations=TYPES, **kw):
        super().__init__(spec, seed, **kw)
        if population_size < 2:
            raise ValueError(f"population_size must be at least 2 for a pairwise tournament, not {population_size}")
        bad = [m for m in mutations if m not in TYPES]
        if bad or not mutations:
            raise ValueError(f"unknown mutation type {bad[0]!r}; the types: {', '.join(TYPES)}" if bad
                             else "mutations must name at least one type")
        self.population_size = population_size
        self.objective = objective
        self.mutations = tuple(mutations)
        self._check = has_constraints(self.spec)
        self.population = Log(codec=ARCH_SCORE)

    # ------------------------------------------------------------ ask
    def _propose(self) -> Architecture:
        if self.num_asked < self.population_size or not self.population:
            return sample(self.spec, self.rng, self._check)
        parent = pairwise_select(self.population, self.rng)
        for _ in range(_TRIES):
            kind, path, new = self._draw_mutation(parent)
            if kind in ("identity", "reset"):
                return self.child(parent, parent, kind)
            arch = self._moved(parent, path, new)
            if arch is not None:
                return self.child(arch, parent, f"mutate {path}: {parent[path]!r} -> {new!r} ({kind})")
        arch = mutate(self.spec, parent, self.rng, self._check)     # no typed mutation fits: any one
        changed = next((p for p in arch if arch.get(p) != parent.get(p)), None)
        return self.child(arch, parent, f"mutate {changed}" if changed else "identity")

    def _draw_mutation(self, parent):
        """``(type, path, new value)``: a type uniformly among those the parent allows, then a choice."""
        options = {"identity": [None], "reset": [None], "alter": [], "grow": [], "shrink": []}
        for c in mutable_choices(self.spec, parent):
            options["alter"].append(c)
            numeric = _numeric(c)
            if numeric:
                cur = parent[c.path]
                if any(v > cur for v in numeric):
                    options["grow"].append(c)
                if any(v < cur for v in numeric):
                    options["shrink"].append(c)
        kinds = [k for k in self.mutations if options[k]]
        if not kinds:
            return "identity", None, None
        kind = kinds[int(self.rng.random() * len(kinds))]
        c = options[kind][int(self.rng.random() * len(options[kind]))]
        if c is None:
            return kind, None, None
        cur = parent[c.path]
        if kind == "grow":
            return kind, c.path, min(v for v in _numeric(c) if v > cur)
        if kind == "shrink":
            return kind, c.path, max(v for v in _numeric(c) if v < cur)
        new = _uniform(c, self.rng)
        while new == cur:
            new = _uniform(c, self.rng)
        return kind, c.path, new

    def _moved(self, parent, path, new):
        """``parent`` with ``path`` = ``new`` (newly active choices drawn uniformly), or None when the
        space's constraints refuse it."""
        rng = self.rng

        def answer(c, values):
            if c.path == path:
                return new
            return parent[c.path] if c.path in parent else _uniform(c, rng)
        values = self.spec.walk(answer)
        if self._check and not satisfies(self.spec, values):
            return None
        return Architecture(values)

    # ------------------------------------------------------------ tell, state
    def _feedback(self, arch: Architecture, result: Result) -> None:
        if not result.failed:
            self.population.append((arch, result.score(self.objective)))

    def _get_state(self):
        return {"population": self.population.state()}

    def _set_state(self, state) -> None:
        self.population = Log.load(state["population"], ARCH_SCORE)


def _numeric(c) -> list:
    """The numeric values of a choice's domain (channels, kernel sizes, depths), or [] for others."""
    return list(numeric_values(c))


def _uniform(c, rng):
    return c.sample(rng)
