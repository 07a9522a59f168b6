"""Tournament evolution without removal, from Liu et al.'s hierarchical representations."""
from __future__ import annotations

import bisect
import math

from nasl.ir.architecture import Architecture
from nasl.searchers.journal import ARCH_SCORE, Log
from nasl.searchers.population import ScoredPopulation
from nasl.searchers.novelty import Novelty
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import has_constraints, mutate, sample, satisfies

INITS = ("random", "trivial")


@register_searcher("tournament_evolution", example={"population_size": 6})
class TournamentEvolution(ScoredPopulation):
    """Evolution with tournament selection and no removal (Liu et al., "Hierarchical
    Representations for Efficient Architecture Search", ICLR 2018).

    The first ``population_size`` asks form the initial population. After
    that each ask draws ``tournament_fraction`` of the evaluated population
    (at least one member, without replacement), takes the best, and mutates
    it: one active choice re-sampled with its conditional subtree. Every
    successful tell joins the population and no member ever leaves it, so
    the tournament grows with the population.

    The tournament is not drawn member by member: only its winner matters,
    and the best of ``k`` members drawn without replacement from ``n`` ranked
    ones is at rank ``r`` (0 = best) with the chance that none of the ``r``
    better ones was drawn and rank ``r`` was. Walking down the ranking, rank
    ``r`` wins with probability ``k / (n - r)`` given that no better rank
    did, which draws the winner from exactly that distribution in about
    ``1 / tournament_fraction`` steps, however large the population (a
    sorted index of the members is kept as they are told). Equal scores are
    ordered by the architecture's id, a fixed pseudo-random order.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    population_size : int
        Size of the initial population (the paper: 200).
    tournament_fraction : float
        Share of the population in each tournament (the paper: 0.05).
    init : {"random", "trivial"}
        ``"random"``: the initial members are uniform samples. ``"trivial"``:
        as in the paper, each starts from the trivial genotype (the first
        value of every choice) and takes ``init_mutations`` random mutations,
        which diversifies it while keeping it near the simple end of the space.
    init_mutations : int
        Mutations per initial member under ``init="trivial"`` (the paper: 1000).
    objective : str, optional
        The objective that ranks members (default: each result's first).
    dedup : bool
        Never propose an architecture twice (default True); see
        :class:`~nasl.searchers.novelty.Novelty`.
    """

    def __init__(self, spec, seed=None, *, population_size: int = 200, tournament_fraction: float = 0.05,
                 init: str = "random", init_mutations: int = 1000, objective: str | None = None,
                 dedup: bool = True, **kw):
        super().__init__(spec, seed, **kw)
        if population_size < 1:
            raise ValueError(f"population_size must be at least 1, not {population_size}")
        if not 0 < tournament_fraction <= 1:
            raise ValueError(f"tournament_fraction is a share of the population in (0, 1], not {tournament_fraction}")
        if init not in INITS:
            raise ValueError(f"init is one of {', '.join(INITS)}, not {init!r}")
        if init_mutations < 0:
            raise ValueError(f"init_mutations must be at least 0, not {init_mutations}")
        self.population_size = population_size
        self.tournament_fraction = tournament_fraction
        self.init = init
        self.init_mutations = init_mutations
        self.objective = objective
        self._check = has_constraints(self.spec)
        self.population = Log(codec=ARCH_SCORE)  # (arch, score), in the order told
        self.novelty = Novelty(self.spec, self._check, dedup)
        self._ranked: list = []     # (-score, arch id, index in population), best first; not state: rebuilt

    def _set_state(self, state) -> None:
        super()._set_state(state)
        self._ranked = []

    def _propose(self) -> Architecture:
        if self.num_asked < self.population_size or not self.population:
            return self.novelty.propose(self._initial, self.rng)
        return self.novelty.propose(self._child, self.rng)

    def _initial(self) -> Architecture:
        if self.init == "random":
            return sample(self.spec, self.rng, self._check)
        arch = trivial(self.spec)
        for _ in range(self.init_mutations):
            arch = mutate(self.spec, arch, self.rng, False)
        if self._check and not satisfies(self.spec, arch):
            return sample(self.spec, self.rng, self._check)
        return arch

    def tournament_size(self) -> int:
        """Members in the next tournament: ``tournament_fraction`` of the population, at least one."""
        return max(1, math.ceil(self.tournament_fraction * len(self.population)))

    def _child(self) -> Architecture:
        pop, ranked = self.population, self._rank()
        n, k = len(pop), self.tournament_size()
        r, draw = 0, self.rng.random
        while r < n - k and draw() * (n - r) >= k:      # rank r is not in the tournament, given no better one is
            r += 1
        parent = pop[ranked[r][2]][0]
        return mutate(self.spec, parent, self.rng, self._check)

    def _rank(self) -> list:
        """The sorted index, brought up to date with the members told since the last ask."""
        ranked, pop = self._ranked, self.population
        start = len(ranked)
        if len(pop) - start > 64:             # after a load: sort once
            ranked.extend(_key(pop[i], i) for i in range(start, len(pop)))
            ranked.sort()
        else:
            for i in range(start, len(pop)):
                bisect.insort(ranked, _key(pop[i], i))
        return ranked


def _key(member, index) -> tuple:
    arch, score = member
    # a NaN score ranks last (it would compare false with everything and break the order)
    return (-score if score == score else math.inf, arch.id, index)


def trivial(spec) -> Architecture:
    """The architecture that takes the first value of every active choice (the paper's
    trivial genotype: in its spaces the first op is the identity)."""
    def first(c, values):
        return c.first()
    return Architecture._trusted(spec.walk(first))

