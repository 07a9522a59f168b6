"""NSGA-II for several objectives, such as accuracy against params or FLOPs."""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.ir.choice import Choice
from nasl.ir.decision_tree import ChoiceSpec
from nasl.searchers.base import Exhausted, Result, Searcher
from nasl.searchers.journal import ArchSet
from nasl.searchers.pareto import crowding_distance, fast_non_dominated_sort, signed_scores
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import NoValidArchitecture, has_constraints, mutate, sample, satisfies

_MISSING = object()


def uniform_crossover(spec: ChoiceSpec, a, b, rng, check: bool = True) -> Architecture:
    """A child taking each active choice from ``a`` or ``b`` with equal odds.

    The spec is walked: a choice that both parents have takes one parent's
    value, one that only a parent has takes that parent's, and one that the
    child's own earlier answers activate while neither parent has it is
    sampled uniformly. So conditional choices follow the branch the child is
    on. Returns ``a`` when no child meets the constraints in a few tries.
    """
    for _ in range(20):
        def answer(c: Choice, values):
            va, vb = a.get(c.path, _MISSING), b.get(c.path, _MISSING)
            if va is _MISSING and vb is _MISSING:
                return c.sample(rng)
            if va is _MISSING:
                return vb
            if vb is _MISSING:
                return va
            return va if rng.random() < 0.5 else vb
        values = spec.walk(answer)
        if not check or satisfies(spec, values):
            return Architecture._trusted(values)
    return a if isinstance(a, Architecture) else Architecture(a)


@register_searcher("nsga2", example={"population_size": 6})
class NSGA2(Searcher):
    """NSGA-II (Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective
    genetic algorithm: NSGA-II", IEEE TEC 2002), asynchronous.

    The first ``population_size`` asks are random. Told results collect as
    offspring; once ``population_size`` of them have arrived, parents and
    offspring are merged and the next population is chosen by fast
    non-dominated sorting, ties in the last front broken by crowding
    distance (elitist (mu + lambda) selection). Each ask picks two parents by
    binary tournament (lower rank, then larger crowding distance), crosses
    them over (:func:`uniform_crossover`, respecting conditional choices)
    with probability ``crossover_prob``, and mutates the child
    (:func:`~nasl.searchers.walks.mutate`) with probability ``mutation_prob``.
    Children already proposed are redrawn (a few tries).

    Failed results, and results that lack one of the objectives, never join
    the population. With one objective this is an elitist genetic algorithm.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    population_size : int
        N (default 20).
    crossover_prob, mutation_prob : float
        Per child (defaults 0.9 and 1.0).
    objectives : list of str, optional
        The objectives compared (default: those of the first successful result).
    """

    def __init__(self, spec, seed=None, *, population_size: int = 20, crossover_prob: float = 0.9,
                 mutation_prob: float = 1.0, objectives: list | None = None, **kw):
        super().__init__(spec, seed, **kw)
        if population_size < 2:
            raise ValueError(f"population_size must be at least 2, not {population_size}")
        for name, p in (("crossover_prob", crossover_prob), ("mutation_prob", mutation_prob)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], not {p}")
        self.population_size = population_size
        self.crossover_prob = crossover_prob
        self.mutation_prob = mutation_prob
        self.objectives = list(objectives) if objectives is not None else None
        self.population: list = []     # [arch, scores, rank, crowding]
        self.offspring: list = []      # [arch, scores], told since the last selection
        self.seen = ArchSet()          # journaled (nasl.searchers.journal)
        self._check = has_constraints(self.spec)

    # ------------------------------------------------------------ asks
    def _propose(self) -> Architecture:
        try:
            pool = self.population or _ranked([(a, s) for a, s in self.offspring])
            if self.num_asked < self.population_size or len(pool) < 2:
                child = self._fresh()
            else:
                child = self._child(pool)
        except NoValidArchitecture as e:
            raise Exhausted(str(e)) from None
        self.seen.add(child)
        return child

    def _fresh(self) -> Architecture:
        for _ in range(20):
            arch = sample(self.spec, self.rng, self._check)
            if arch not in self.seen:
                return arch
        return arch

    def _child(self, pool) -> Architecture:
        rng = self.rng
        for _ in range(10):
            p1, p2 = self._tournament(pool), self._tournament(pool)
            child = uniform_crossover(self.spec, p1, p2, rng, self._check) if rng.random() < self.crossover_prob \
                else p1
            if rng.random() < self.mutation_prob or child in self.seen:
                child = mutate(self.spec, child, rng, self._check)
            if child not in self.seen:
                return child
        return child

    def _tournament(self, pool) -> Architecture:
        r, n = self.rng.random, len(pool)
        x, y = pool[int(r() * n)], pool[int(r() * n)]
        return (x if (x[2], -x[3]) <= (y[2], -y[3]) else y)[0]

    # ------------------------------------------------------------ tells
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.seen.add(arch)
        if result.failed:
            return
        if self.objectives is None:
            self.objectives = list(result.objectives)
        scores = signed_scores(result, self.objectives)
        if scores is None:
            return
        self.offspring.append((arch, scores))
        if len(self.offspring) >= self.population_size:
            merged = [(a, s) for a, s, _, _ in self.population] + self.offspring
            self.population = _ranked(merged, self.population_size)
            self.offspring = []

    def _get_state(self):
        return {"objectives": self.objectives,
                "population": [[a.to_json(), list(s), rk, _finite(cd)] for a, s, rk, cd in self.population],
                "offspring": [[a.to_json(), list(s)] for a, s in self.offspring],
                "seen": self.seen.state()}

    def _set_state(self, state) -> None:
        self.objectives = state["objectives"]
        self.population = [[Architecture.from_json(a), tuple(s), rk, float(cd)]
                           for a, s, rk, cd in state["population"]]
        self.offspring = [(Architecture.from_json(a), tuple(s)) for a, s in state["offspring"]]
        self.seen = ArchSet.load(state["seen"])


def _finite(x: float):
    return x if x != float("inf") else "inf"


def _ranked(members, keep: int | None = None) -> list:
    """``[arch, scores, rank, crowding]`` of the best ``keep`` members by NSGA-II's order."""
    if not members:
        return []
    points = [s for _, s in members]
    out = []
    for rank, front in enumerate(fast_non_dominated_sort(points)):
        dist = crowding_distance(points, front)
        ordered = sorted(front, key=lambda i: (-dist[i], i))
        for i in ordered:
            out.append([members[i][0], members[i][1], rank, dist[i]])
        if keep is not None and len(out) >= keep:
            return out[:keep]
    return out
