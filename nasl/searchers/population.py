"""The bookkeeping that the tournament searchers share: a scored population and no repeats."""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher
from nasl.searchers.journal import ARCH_SCORE, Log


class ScoredPopulation(Searcher):
    """A searcher whose state is ``self.population`` (``(arch, score)`` pairs) and ``self.novelty``.

    Every told architecture counts as seen; a successful one joins the
    population with its score on ``self.objective``. Subclasses set
    ``population`` (a :class:`~nasl.searchers.journal.Log` of pairs, so that a
    study's snapshots of a population that only grows store only its new
    members), ``novelty`` and ``objective`` in their constructor, and decide
    who leaves the population and who is mutated.
    """

    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        if not result.failed:
            self.population.append((arch, result.score(self.objective)))

    def _get_state(self):
        return {"population": self.population.state(), "novelty": self.novelty.state()}

    def _set_state(self, state) -> None:
        self.population = Log.load(state["population"], ARCH_SCORE)
        self.novelty.load(state["novelty"])
