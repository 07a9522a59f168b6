"""Pairwise tournament evolution, from Real et al.'s large-scale evolution."""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.journal import ARCH_SCORE, Log
from nasl.searchers.population import ScoredPopulation
from nasl.searchers.novelty import Novelty
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import has_constraints, mutate, sample


@register_searcher("pairwise_tournament", example={"population_size": 6})
class PairwiseTournament(ScoredPopulation):
    """Pairwise tournaments with killing (Real et al., "Large-Scale Evolution of Image
    Classifiers", ICML 2017).

    The first ``population_size`` asks are random. After that each ask picks
    two distinct members of the evaluated population at random; the worse is
    killed at once (it leaves the population), and the better is copied and
    mutated (one active choice re-sampled, with its conditional subtree) to
    give the child; the parent stays. The child joins the population when its
    result is told, so the population shrinks with each ask and grows with
    each tell. With a single member left it is mutated without a fight; with
    none (all tells pending, or all failed), asks are random.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    population_size : int
        The initial population (the paper: 1000, on 250 workers).
    objective : str, optional
        The objective that ranks members (default: each result's first).
    dedup : bool
        Never propose an architecture twice (default True).
    """

    def __init__(self, spec, seed=None, *, population_size: int = 100, objective: str | None = None,
                 dedup: bool = True, **kw):
        super().__init__(spec, seed, **kw)
        if population_size < 2:
            raise ValueError(f"population_size must be at least 2 for a pairwise tournament, not {population_size}")
        self.population_size = population_size
        self.objective = objective
        self._check = has_constraints(self.spec)
        self.population = Log(codec=ARCH_SCORE)  # (arch, score); order matters only for determinism
        self.novelty = Novelty(self.spec, self._check, dedup)

    def _propose(self) -> Architecture:
        if self.num_asked < self.population_size or not self.population:
            return self.novelty.propose(lambda: sample(self.spec, self.rng, self._check), self.rng)
        parent = pairwise_select(self.population, self.rng)
        return self.novelty.propose(lambda: mutate(self.spec, parent, self.rng, self._check), self.rng)


def pairwise_select(pop, rng) -> Architecture:
    """The paper's tournament over ``pop`` (``(arch, score)`` pairs): two distinct members at random;
    the worse is killed (it leaves ``pop``), the better is the parent (it stays). A single member is
    the parent without a fight."""
    if len(pop) == 1:
        return pop[0][0]
    i, j = rng.sample(range(len(pop)), 2)
    win, lose = (i, j) if pop[i][1] >= pop[j][1] else (j, i)
    parent = pop[win][0]
    pop.pop(lose)
    return parent
