"""Random search with de-duplication."""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.ir.counting import NotStructural
from nasl.ir.sampling import UNIFORM_ARCHITECTURE, UNIFORM_CHOICE, TreeSampler, check_mode
from nasl.searchers.base import Exhausted, Searcher
from nasl.searchers.journal import ARCH, ArchSet, Log
from nasl.searchers.option_checks import at_least
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import (MAX_TRIES, NoValidArchitecture, Odometer, has_constraints, mostly_seen, sample,
                                  satisfies)


@register_searcher("random")
class RandomSearch(Searcher):
    """Random search (Bergstra & Bengio 2012; the NAS baseline of Li & Talwalkar 2019).

    By default it walks the decision tree answering each active choice
    uniformly in its domain (uniform per decision; on a space without
    conditional choices that is uniform over architectures), and never
    proposes an architecture twice: neither one it asked before nor one told
    to it from elsewhere.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    dedup : bool
        Skip architectures already proposed or told (default True).
    max_retries : int
        Consecutive duplicate draws after which the searcher lists the
        architectures not yet seen, by exhaustive enumeration, and serves them
        in a random order; raises :class:`Exhausted` when that list is empty.
        In a space without constraints whose size is known, it lists them as
        soon as half the space has been seen (past 1,000 architectures), so
        an ask costs O(1) draws up to the last architecture.
    mode : str
        ``"uniform-choice"`` (default, the walk above) or
        ``"uniform-architecture"``: every architecture equally likely, each
        choice weighted by the number of completions under each value (in a
        space whose depth is a choice, mostly the deepest networks). The
        second needs a tree-shaped space (choices conditioned on one choice
        each).
    """

    def __init__(self, spec, seed=None, *, dedup: bool = True, max_retries: int = 100,
                 mode: str = UNIFORM_CHOICE, **kw):
        super().__init__(spec, seed, **kw)
        self.mode = check_mode(mode)
        self._tree = None
        if self.mode == UNIFORM_ARCHITECTURE:
            self._tree = TreeSampler(self.spec, {})
            try:
                self._tree.plan(self.spec.root)
            except NotStructural as e:
                raise ValueError(f"random search: mode 'uniform-architecture' needs a tree-shaped space, but "
                                 f"choices are conditioned on '{e}' across blocks; use mode 'uniform-choice'") \
                    from None
        at_least(0, max_retries=max_retries)
        self.dedup = dedup
        self.max_retries = max_retries
        self.seen = ArchSet()
        self._rest: Log | None = None    # the unseen ones, once draws keep repeating
        self._check = has_constraints(self.spec)

    def _propose(self) -> Architecture:
        if not self.dedup:
            return self._sample()
        if self._rest is None:
            unseen = mostly_seen(self.spec, len(self.seen))
            if unseen is not None and unseen <= 0.5:
                self._rest = self._unseen()     # half the space is used up: list the rest, no more rejection
                return self._propose()
            for _ in range(self.max_retries):
                arch = self._sample()
                if arch not in self.seen:
                    self.seen.add(arch)
                    return arch
            self._rest = self._unseen()
        while self._rest:
            arch = self._rest.pop()
            if arch not in self.seen:
                self.seen.add(arch)
                return arch
        raise Exhausted(f"random search has proposed all {len(self.seen)} architectures of the space")

    def _sample(self) -> Architecture:
        if self._tree is not None:
            return self._sample_tree()
        try:
            return sample(self.spec, self.rng, self._check)
        except NoValidArchitecture as e:
            raise Exhausted(str(e)) from None

    def _sample_tree(self) -> Architecture:
        for _ in range(MAX_TRIES):
            values, constraints = self._tree.draw(self.rng)
            if all(c.satisfied(values) for c in constraints):
                return Architecture._trusted(values)
        raise Exhausted(f"no architecture met the constraints in {MAX_TRIES} draws")

    def _unseen(self) -> Log:
        rest = [a for a in Odometer(self.spec) if a not in self.seen and (not self._check or satisfies(self.spec, a))]
        self.rng.shuffle(rest)
        return Log(rest, ARCH)

    def _feedback(self, arch, result) -> None:
        if self.dedup:
            self.seen.add(arch)

    def _get_state(self):
        return {"seen": self.seen.state(), "rest": None if self._rest is None else self._rest.state()}

    def _set_state(self, state) -> None:
        self.seen = ArchSet.load(state["seen"])
        rest = state["rest"]
        self._rest = None if rest is None else Log.load(rest, ARCH)
