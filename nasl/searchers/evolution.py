"""Regularized (aging) evolution, from AmoebaNet."""
from __future__ import annotations

from collections import deque

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Exhausted, Result, Searcher
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import NoValidArchitecture, has_constraints, mutate, sample


@register_searcher("regularized_evolution")
class RegularizedEvolution(Searcher):
    """Regularized evolution (Real et al., "Regularized Evolution for Image
    Classifier Architecture Search", AAAI 2019).

    The first ``population_size`` asks are random. After that each ask draws
    ``sample_size`` members of the population uniformly (with replacement, as
    in the paper's Algorithm 1), takes the best, and mutates it: one active
    choice is re-sampled to a different value, together with the conditional
    subtree under it (:func:`~nasl.searchers.walks.mutate`). Each successful
    tell joins the population, and the *oldest* member leaves once it holds
    more than ``population_size``: aging, not the worst, is removed.

    Failed trials never join the population. With tells still pending and an
    empty population, asks stay random.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    population_size : int
        P (the paper's default for CIFAR-10 is 100; NAS-Bench-201 uses 10).
    sample_size : int
        S, the tournament size (paper 25; NAS-Bench-201 uses 3).
    objective : str, optional
        The objective that ranks members (default: each result's first).
    """

    def __init__(self, spec, seed=None, *, population_size: int = 100, sample_size: int = 25,
                 objective: str | None = None, **kw):
        super().__init__(spec, seed, **kw)
        if population_size < 1 or not 1 <= sample_size:
            raise ValueError("population_size and sample_size must be at least 1")
        self.population_size = population_size
        self.sample_size = sample_size
        self.objective = objective
        self.population: deque = deque()    # (arch, score), oldest first
        self._check = has_constraints(self.spec)

    def _propose(self) -> Architecture:
        try:
            # random until population_size asks, or until results told from elsewhere (a warm start) fill it
            warm = len(self.population) >= self.population_size
            if (self.num_asked < self.population_size and not warm) or not self.population:
                return sample(self.spec, self.rng, self._check)
            pop, r = self.population, self.rng.random
            n = len(pop)
            parent = max((pop[int(r() * n)] for _ in range(self.sample_size)), key=_score)[0]
            return mutate(self.spec, parent, self.rng, self._check)
        except NoValidArchitecture as e:
            raise Exhausted(str(e)) from None

    def _feedback(self, arch: Architecture, result: Result) -> None:
        if result.failed:
            return
        self.population.append((arch, result.score(self.objective)))
        if len(self.population) > self.population_size:
            self.population.popleft()

    def _get_state(self):
        return {"population": [[a.to_json(), s] for a, s in self.population]}

    def _set_state(self, state) -> None:
        self.population = deque((Architecture.from_json(a), s) for a, s in state["population"])


def _score(member) -> float:
    return member[1]
