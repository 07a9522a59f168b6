"""A generational genetic algorithm, from Genetic CNN."""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Exhausted, Result, Searcher
from nasl.searchers.journal import LogDict
from nasl.searchers.novelty import Novelty
from nasl.searchers.recombine import crossover, mutate_each
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import NoValidArchitecture, has_constraints, sample

SELECTIONS = ("roulette", "rank")


@register_searcher("genetic", example={"population_size": 6})
class GeneticAlgorithm(Searcher):
    """Genetic CNN (Xie & Yuille, "Genetic CNN", ICCV 2017), over any ChoiceSpec.

    Generation 0 is ``population_size`` random architectures. Once a
    generation is told, the next one is bred from it, in the paper's order:

    1. **selection**: ``population_size`` draws with replacement, by
       ``"roulette"`` (the paper's Russian roulette: probability in
       proportion to the score minus the generation's lowest) or ``"rank"``
       (in proportion to the rank, the worst ranked 1);
    2. **crossover**: consecutive pairs cross with probability
       ``crossover_prob``; each unit (an unconditional choice together with
       the choices it activates) is swapped with probability
       ``crossover_swap``. Only active choices are exchanged, and a subtree
       that neither parent has active is sampled anew
       (:func:`~nasl.searchers.recombine.crossover`);
    3. **mutation**: each individual mutates with probability
       ``mutation_prob``, each of its active choices then re-sampled with
       probability ``mutation_rate`` (the paper's flip probability).

    A child equal to an architecture already told keeps its known score
    without being evaluated again; children not yet seen are proposed, in
    order. Failed trials take no part in selection.

    Tells may lag: when the next generation is due but none of the current
    one is told yet, asks are random; otherwise the next generation is bred
    from the members told so far.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    population_size : int
        N (the paper: 20).
    generations : int, optional
        T (the paper: 50): after generation T is proposed, asks raise
        :class:`~nasl.searchers.base.Exhausted`. None (the default): no end.
    crossover_prob, crossover_swap : float
        p_C and q_C (the paper: 0.2 and 0.2).
    mutation_prob, mutation_rate : float
        p_M and q_M (the paper: 0.8 and 0.05).
    selection : {"roulette", "rank"}
    objective : str, optional
        The objective that ranks members (default: each result's first).
    dedup : bool
        Never propose an architecture twice (default True).
    """

    def __init__(self, spec, seed=None, *, population_size: int = 20, generations: int | None = None,
                 crossover_prob: float = 0.2, crossover_swap: float = 0.2, mutation_prob: float = 0.8,
                 mutation_rate: float = 0.05, selection: str = "roulette", objective: str | None = None,
                 dedup: bool = True, **kw):
        super().__init__(spec, seed, **kw)
        if population_size < 2:
            raise ValueError(f"population_size must be at least 2, not {population_size}")
        if generations is not None and generations < 1:
            raise ValueError(f"generations must be at least 1 (or None), not {generations}")
        for name, p in (("crossover_prob", crossover_prob), ("crossover_swap", crossover_swap),
                        ("mutation_prob", mutation_prob), ("mutation_rate", mutation_rate)):
            if not 0 <= p <= 1:
                raise ValueError(f"{name} is a probability in [0, 1], not {p}")
        if selection not in SELECTIONS:
            raise ValueError(f"selection is one of {', '.join(SELECTIONS)}, not {selection!r}")
        self.population_size = population_size
        self.generations = generations
        self.crossover_prob, self.crossover_swap = crossover_prob, crossover_swap
        self.mutation_prob, self.mutation_rate = mutation_prob, mutation_rate
        self.selection = selection
        self.objective = objective
        self._check = has_constraints(self.spec)
        self.novelty = Novelty(self.spec, self._check, dedup)
        self.generation = 0            # the generation being proposed
        self.queue: list = []          # its members still to propose
        self.told: list = []           # (arch, score) told since the last breeding, plus carried members
        self.scores = LogDict()        # every architecture told successfully -> score (journaled)
        self._barren = None            # num_told when breeding last gave no new child

    def _propose(self) -> Architecture:
        if self.generation == 0 and not self.queue and self.num_asked < self.population_size:
            return self.novelty.propose(lambda: sample(self.spec, self.rng, self._check), self.rng)
        if not self.queue and self.num_asked >= self.population_size:
            self._breed()
        if self.queue:
            child = self.queue.pop(0)
            return self.novelty.propose(lambda: child if child not in self.novelty.seen else self._vary(child),
                                        self.rng)
        return self.novelty.propose(lambda: sample(self.spec, self.rng, self._check), self.rng)

    def _breed(self) -> None:
        """Make the next generation from the members told since the last one.

        A generation whose children are all known already is complete at
        once, and the next is bred; after a few such rounds (a small space,
        mostly explored) the queue stays empty and asks fall back to novel
        random architectures. Breeding is then tried again only once
        ``population_size`` more results are told (they join the pool), not
        on every ask: ten barren rounds per ask made a nearly explored space
        17 times as costly per trial (BENCHMARKS.md, section 35).
        """
        if self._barren is not None and self.num_told - self._barren < self.population_size:
            return
        self._barren = None
        for _ in range(10):
            if not self.told:
                return                      # nothing told yet: stay random
            if self.generations is not None and self.generation >= self.generations:
                raise Exhausted(f"the genetic algorithm has run its {self.generations} generations")
            self.generation += 1
            self._offspring(self.told)
            if self.queue:
                return
        self._barren = self.num_told

    def _offspring(self, pool: list) -> None:
        parents = self._select(pool)
        children = []
        for i in range(0, len(parents) - 1, 2):
            a, b = parents[i], parents[i + 1]
            if self.rng.random() < self.crossover_prob:
                a, b = self._safe(lambda: crossover(self.spec, a, b, self.rng, self.crossover_swap, self._check))
            children += [a, b]
        if len(parents) % 2:
            children.append(parents[-1])
        out = []
        for c in children:
            if self.rng.random() < self.mutation_prob:
                c = self._safe(lambda: mutate_each(self.spec, c, self.rng, self.mutation_rate, self._check))
            out.append(c)
        self.told = []
        for c in out:
            if c in self.scores:
                self.told.append((c, self.scores[c]))     # known: carried into the generation as it is
            else:
                self.queue.append(c)

    def _select(self, pool: list) -> list:
        pool = sorted(pool, key=lambda m: m[1])          # worst first; the sort is stable, so deterministic
        if self.selection == "rank":
            weights = [i + 1.0 for i in range(len(pool))]
        else:
            low = pool[0][1]
            weights = [s - low for _, s in pool]
            if not any(w > 0 for w in weights):
                weights = [1.0] * len(pool)
        return [m[0] for m in self.rng.choices(pool, weights=weights, k=self.population_size)]

    def _vary(self, arch: Architecture) -> Architecture:
        return self._safe(lambda: mutate_each(self.spec, arch, self.rng, max(self.mutation_rate, 0.05),
                                              self._check, at_least_one=True))

    def _safe(self, make):
        try:
            return make()
        except NoValidArchitecture as e:
            raise Exhausted(str(e)) from None

    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        if not result.failed:
            score = result.score(self.objective)
            self.scores[arch] = score
            self.told.append((arch, score))

    def _get_state(self):
        return {"generation": self.generation, "queue": [a.to_json() for a in self.queue],
                "told": [[a.to_json(), s] for a, s in self.told],
                "scores": self.scores.state(),
                "novelty": self.novelty.state(), "barren": self._barren}

    def _set_state(self, state) -> None:
        self.generation = state["generation"]
        self.queue = [Architecture.from_json(a) for a in state["queue"]]
        self.told = [(Architecture.from_json(a), s) for a, s in state["told"]]
        self.scores = LogDict.load(state["scores"])
        self.novelty.load(state["novelty"])
        self._barren = state.get("barren")         # absent in states written before it
