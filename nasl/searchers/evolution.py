"""Regularized (aging) evolution, from AmoebaNet."""
from __future__ import annotations

from collections import deque

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Exhausted, Result, Searcher
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import NoValidArchitecture, has_constraints, mutate, sample


@register_searcher("regularized_evolution", example={"population_size": 6, "sample_size": 3})
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
        P (the paper's default for CIFAR-10 is 100; NAS-Bench-201 uses 10). A
        study scales the default to its budget (:meth:`options_for_budget`).
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

    @classmethod
    def options_for_budget(cls, budget: int, options: dict) -> tuple[dict, list[str]]:
        """The options a study of ``budget`` trials runs with, and warnings about them.

        The paper's P=100 is for thousands of trials; with 10 or 30 it would
        leave every trial a random sample. A study that does not set them gets
        P = budget // 3, at least 4 and at most 100 (so two thirds of the
        trials are mutations), and S = (P + 2) // 4, at least 2 (3 for P=10 as
        NAS-Bench-201 uses, 25 for P=100 as the paper). A population the
        budget cannot fill is kept, with a warning: then no trial evolves (below 5
        trials the default P=4 cannot be filled either; that is not warned).
        """
        out, given = dict(options), "population_size" in options
        if not given:
            out["population_size"] = min(100, max(4, budget // 3))
        p = out["population_size"]
        if "sample_size" not in out and isinstance(p, int):
            out["sample_size"] = max(2, (p + 2) // 4)
        warnings = []
        if given and isinstance(p, int) and p >= budget:       # a tiny default budget is documented, not warned
            warnings.append(f"regularized_evolution's population_size={p} is not below the budget of {budget} "
                            f"trials: every trial will be a random sample (no evolution); lower population_size "
                            f"or raise the budget")
        return out, warnings

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
