"""Grid search: every architecture, once, in a fixed order."""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Exhausted, Searcher
from nasl.searchers.option_checks import at_least
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import Odometer, failed_constraint, has_constraints

MAX_SKIPPED = 100_000        # architectures in a row that break a constraint before grid search gives up


@register_searcher("grid")
class GridSearch(Searcher):
    """Lazy exhaustive search in the spec's order (the last choice varies fastest).

    One walk of the decision tree per ask, whatever the size of the space, so
    it starts at once even on 10^18 points; conditional choices are walked
    only under the branch that activates them. Architectures that break a
    constraint are skipped; after ``MAX_SKIPPED`` of them in a row (a rare
    constraint, ``require a == 777`` over ``int_range(1, 10**6)``, that the
    fixed order would take hours to reach) it raises :class:`Exhausted`
    naming the constraint, rather than scan on without a word. Raises
    :class:`Exhausted` after the last one too.
    The seed is not used: the order is fixed.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    float_points : int
        Values tried for a float range: evenly spaced, log-spaced if it is a
        log range, ends included (default 5).
    """

    def __init__(self, spec, seed=None, *, float_points: int = 5, **kw):
        super().__init__(spec, seed, **kw)
        at_least(1, float_points=float_points)
        self._odometer = Odometer(self.spec, float_points)
        self._check = has_constraints(self.spec)

    def _propose(self) -> Architecture:
        skipped = 0
        for arch in self._odometer:
            con = failed_constraint(self.spec, arch) if self._check else None
            if con is None:
                return arch
            skipped += 1
            if skipped >= MAX_SKIPPED:
                raise Exhausted(f"grid search skipped {skipped:,} architectures in a row that break "
                                f"'{con.message}'; the grid order reaches too few that meet it (try 'random')")
        raise Exhausted(f"grid search has proposed every architecture of the space ({self.num_asked})")

    def _get_state(self):
        return {"position": self._odometer.position}

    def _set_state(self, state) -> None:
        self._odometer.position = state["position"]
