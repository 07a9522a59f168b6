"""MDENAS: multinomial distribution learning (Zheng et al., ICCV 2019)."""
from __future__ import annotations

import bisect
from itertools import accumulate

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher, score_or_fallback
from nasl.searchers.decisions import Decisions
from nasl.searchers.flat_draw import BlockDraw
from nasl.searchers.novelty import Novelty
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import MAX_TRIES, NoValidArchitecture, has_constraints, satisfies

STATISTICS = ("last", "mean")


@register_searcher("mdenas")
class MDENAS(Searcher):
    """Multinomial distribution learning (Zheng, Ji, Tang, Zhang, Liu & Tian,
    "Multinomial Distribution Learning for Effective Neural Architecture
    Search", ICCV 2019).

    Every decision of the space (each choice, walked top-down as
    :class:`~nasl.searchers.decisions.Decisions` describes: only active
    choices are decided) has a multinomial distribution over its arms,
    uniform at first; an architecture is a draw from them. For every arm the
    searcher records how often it was evaluated (the paper's epoch count
    ``H^e``) and the accuracy of the last architecture that used it (``H^a``).
    After each result, for every decision it touched and every pair of arms
    ``i, j`` (the paper's ranking update):

        if H^e_i >= H^e_j and H^a_i < H^a_j: move ``learning_rate`` of probability from i to j;
        if H^e_i <= H^e_j and H^a_i > H^a_j: move it from j to i;

    (an arm with less than ``learning_rate`` left gives all it has). An arm
    trained no more than another yet doing better gains. The paper trains a
    one-shot network and compares per epoch; here each told result is one
    such comparison. The paper's ``H^a`` is the last accuracy, which in a
    one-shot network is already an average over an epoch's many sampled
    paths; one architecture's result is far noisier, so by default
    (``statistic="mean"``) an arm's accuracy is the mean over the results
    that used it. On the NAS-Bench-201 table at 200 queries, "last" does not
    beat random search and "mean" does (BENCHMARKS.md, section 28).

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    learning_rate : float
        The probability moved per won comparison (the paper's alpha).
    statistic : {"last", "mean"}
        An arm's accuracy: the mean of the results that used it (default), or the last one (the paper's).
    failure_score : float, optional
        The score of a failed trial; None: the worst told so far (failures before any success are skipped).
    objective : str, optional
        The objective to maximise (default: each result's first).
    max_arms, bins
        How choices become decisions; see :class:`~nasl.searchers.decisions.Decisions`.
    dedup : bool
        Never propose an architecture twice (default True).
    """

    def __init__(self, spec, seed=None, *, learning_rate: float = 0.01, statistic: str = "mean",
                 failure_score: float | None = None, objective: str | None = None, max_arms: int = 32,
                 bins: int = 8, dedup: bool = True, **kw):
        super().__init__(spec, seed, **kw)
        if not 0 < learning_rate < 1:
            raise ValueError(f"learning_rate must be in (0, 1), not {learning_rate}")
        if statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, not {statistic!r}")
        self.learning_rate, self.statistic = learning_rate, statistic
        self.failure_score, self.objective = failure_score, objective
        self.decisions = Decisions(self.spec, max_arms, bins)
        self._check = has_constraints(self.spec)
        self.novelty = Novelty(self.spec, self._check, dedup)
        # per decision key: [probabilities], [evaluations], [accuracy or None], [sum of accuracies]
        self.arms: dict = {}
        self.worst = None
        # per decision key: the running sums of its probabilities, kept until a tell changes them. De-duplication
        # redraws a whole architecture for every repeat, and the repeats grow as the distributions concentrate
        # (BENCHMARKS.md, section 43), so a draw should not re-add every arm's probability each time.
        self._cumulative: dict = {}
        self._table = None      # for Decisions.flat(): (path, values, running sums, total, arms) per choice
        # the redraws of one ask in one vectorised block (flat spaces without constraints; flat_draw.py)
        flat = self.decisions.flat()
        self._block = BlockDraw(flat) if flat is not None and dedup and not self._check else None
        if self._block is not None and not self._block.usable():
            self._block = None
        # the uniform fallback when every redraw repeats (most asks late on a 5^15 space): sample()'s draw
        # without its spec walk, the same stream (BENCHMARKS.md, section 61, second round)
        uniform = self._block.uniform_for(self.spec) if self._block is not None else None
        self._uniform = None if uniform is None else (lambda: uniform(self.rng))
        self._block_stale = True

    def _entry(self, key, n):
        e = self.arms.get(key)
        if e is None or len(e[0]) != n:
            e = self.arms[key] = [[1.0 / n] * n, [0] * n, [None] * n, [0.0] * n]
            self._cumulative.pop(key, None)
            self._table = None
            self._block_stale = True
        return e

    def _sums(self, key, n):
        c = self._cumulative.get(key)
        if c is None:
            # the same additions, in the same order, as a running total from 0: the same floats as before
            c = self._cumulative[key] = list(accumulate(self._entry(key, n)[0]))
        return c

    # ------------------------------------------------------------ sampling
    def _propose(self) -> Architecture:
        if self._block is None:
            return self.novelty.propose(self._sample, self.rng)
        return self.novelty.propose(self._sample, self.rng, block=self._block_draw, uniform=self._uniform)

    def _block_draw(self, tries: int):
        """The first unseen of up to ``tries`` draws, or None: one draw as before (early in a search it is
        nearly always new), then the other ``tries - 1`` in one block."""
        seen = self.novelty.seen
        arch = self._sample()
        if arch not in seen:
            return arch
        if tries <= 1:
            return None
        if self._block_stale:       # the sums of the table _sample just drew from (its multi-valued rows, in order)
            if self._table is not None:
                sums = [c for _, _, c, _, _ in self._table if c is not None]
            else:       # the first draw walked the spec (no flat table)
                b = self._block
                sums = [self._sums(key, len(b.values[i])) for key, i in zip(b.keys, b.multi)]
            self._block.set_sums(sums)
            self._block_stale = False
        return self._block.first_unseen(self.rng, tries - 1, seen)

    def _sample(self) -> Architecture:
        r = self.rng.random

        def pick(key, arms, allowed):
            if allowed is None:
                c = self._sums(key, arms)
                total = c[-1]
                if total <= 0:
                    return int(r() * arms)
                return min(bisect.bisect_right(c, r() * total), arms - 1)   # the first arm whose sum passes u
            p = self._entry(key, arms)[0]
            idx = allowed
            total = sum(p[a] for a in idx)
            if total <= 0:                     # every allowed arm lost all its mass: uniform among them
                return idx[int(r() * len(idx))]
            u, acc = r() * total, 0.0
            for a in idx:
                acc += p[a]
                if u < acc:
                    return a
            return idx[-1]
        flat = self.decisions.flat()
        for _ in range(MAX_TRIES):
            if flat is not None:
                values = self._flat_draw(flat)
            else:
                values, _ = self.decisions.sample(pick, self.rng)
            if not self._check or satisfies(self.spec, values):
                return Architecture._trusted(values)
        raise NoValidArchitecture(f"the distributions gave no architecture that met the constraints in "
                                  f"{MAX_TRIES} tries")

    def _flat_draw(self, flat) -> dict:
        """The draw of ``pick`` above, step by step in the walk's order, without walking the spec."""
        r, right = self.rng.random, bisect.bisect_right
        table = self._table
        if table is None:       # rebuilt after a tell changed the probabilities
            table = self._table = [(path, vs, None, 0.0, 1) if len(vs) == 1 else
                                   (path, vs, self._sums(key, len(vs)), self._sums(key, len(vs))[-1], len(vs))
                                   for path, key, vs in flat]
        values = {}
        for path, vs, c, total, n in table:
            if c is None:
                values[path] = vs[0]
            elif total <= 0:
                values[path] = vs[int(r() * n)]
            else:
                a = right(c, r() * total)
                values[path] = vs[a if a < n else n - 1]
        return values

    # ------------------------------------------------------------ learning
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        score, self.worst = score_or_fallback(result, self.objective, self.failure_score, self.worst)
        if score is None:
            return
        try:
            steps = self.decisions.encode(arch)
        except ValueError:
            return
        for step in steps:
            p, count, acc, total = self._entry(step.key, step.arms)
            count[step.action] += 1
            total[step.action] += score
            acc[step.action] = score if self.statistic == "last" else total[step.action] / count[step.action]
            self._rank_update(p, count, acc)
            self._cumulative.pop(step.key, None)
            self._table = None
            self._block_stale = True

    def _rank_update(self, p, count, acc) -> None:
        lr = self.learning_rate
        n = len(p)
        for i in range(n):
            if acc[i] is None:
                continue
            for j in range(i + 1, n):
                if acc[j] is None:
                    continue
                if count[i] >= count[j] and acc[i] < acc[j]:
                    loser, winner = i, j
                elif count[i] <= count[j] and acc[i] > acc[j]:
                    loser, winner = j, i
                else:
                    continue
                moved = min(lr, p[loser])
                p[loser] -= moved
                p[winner] += moved

    def probabilities(self) -> dict:
        """``{decision key: [probability per arm]}`` learned so far (decisions seen at least once)."""
        return {k: list(e[0]) for k, e in self.arms.items()}

    def _get_state(self):
        return {"arms": self.arms, "worst": self.worst, "novelty": self.novelty.state()}

    def _set_state(self, state) -> None:
        self.arms = {k: [list(v) for v in e] for k, e in state["arms"].items()}
        self.worst = state["worst"]
        self._cumulative, self._table, self._block_stale = {}, None, True
        self.novelty.load(state["novelty"])
