"""The bookkeeping that the tournament searchers share: a scored population and no repeats."""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher


class ScoredPopulation(Searcher):
    """A searcher whose state is ``self.population`` (``(arch, score)`` pairs) and ``self.novelty``.

    Every told architecture counts as seen; a successful one joins the
    population with its score on ``self.objective``. Subclasses set
    ``population``, ``novelty`` and ``objective`` in their constructor, and
    decide who leaves the population and who is mutated.
    """

    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        if not result.failed:
            self.population.append((arch, result.score(self.objective)))

    def _get_state(self):
        return {"population": [[a.to_json(), s] for a, s in self.population], "novelty": self.novelty.state()}

    def _set_state(self, state) -> None:
        self.population = [(Architecture.from_json(a), s) for a, s in state["population"]]
        self.novelty.load(state["novelty"])
