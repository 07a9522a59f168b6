"""Monte-Carlo tree search with UCT over the decision sequence."""
from __future__ import annotations

import math
from collections import Counter

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher
from nasl.searchers.decisions import Decisions
from nasl.searchers.journal import NODE, LogDict
from nasl.searchers.novelty import Novelty
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import MAX_TRIES, NoValidArchitecture, has_constraints, satisfies


@register_searcher("mcts")
class MCTS(Searcher):
    """Monte-Carlo tree search with UCT (Kocsis & Szepesvári 2006), as used for
    architecture search by Negrinho & Gordon (DeepArchitect, 2017) and Wang et
    al. (AlphaX, 2019).

    The tree's nodes are prefixes of the decision sequence
    (:class:`~nasl.searchers.decisions.Decisions`): walking the spec top-down,
    each active choice is a level. An ask descends from the root by UCT,

        z(child) + exploration * sqrt(ln N(node) / N(child)),

    where z is the child's mean score in standard deviations from the mean
    of all scores told (a child with no score yet takes its parent's); it
    expands the first node that has an untried arm (one new node per ask),
    and completes the architecture with uniformly random decisions (the
    rollout). Visits count at ask time, so outstanding asks spread over the
    tree (a virtual loss); a tell adds the score to every node on the
    architecture's path, whoever asked it. A proposal that repeats an
    architecture whose score is known is backed up at once and the search
    goes on, so the tree learns even where it has converged.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    exploration : float
        The UCT constant, in standard deviations of the scores (0.5 was best
        of 0.1, 0.25, 0.5 and 1 on NAS-Bench-201 at 200 queries).
    objective : str, optional
        The objective to maximise (default: each result's first).
    failure_score : float, optional
        The score a failed trial backs up; None: the worst score told so far
        (failures before any success back up nothing).
    max_arms, bins
        How choices become decisions; see :class:`~nasl.searchers.decisions.Decisions`.
    dedup : bool
        Never propose an architecture twice (default True).
    """

    def __init__(self, spec, seed=None, *, exploration: float = 0.5, failure_score: float | None = None,
                 objective: str | None = None, max_arms: int = 32, bins: int = 8, dedup: bool = True, **kw):
        super().__init__(spec, seed, **kw)
        if exploration < 0:
            raise ValueError(f"exploration must be at least 0, not {exploration}")
        self.exploration = exploration
        self.failure_score = failure_score
        self.objective = objective
        self.decisions = Decisions(self.spec, max_arms, bins)
        self._check = has_constraints(self.spec)
        self.novelty = Novelty(self.spec, self._check, dedup)
        # prefix -> [visits, score sum, scores told]; journaled, so in-place changes are touch()ed
        self.tree = LogDict({(): [0, 0.0, 0]}, NODE)
        self.inflight: Counter = Counter()                  # asked by this searcher, not told yet
        self.scores = LogDict()                             # Architecture -> score (journaled)
        self.lo = None                        # the worst score: what a failure backs up
        self.n_scores, self.sum_scores, self.sum_squares = 0, 0.0, 0.0

    # ------------------------------------------------------------ selection
    def _propose(self) -> Architecture:
        arch = self.novelty.propose(self._episode, self.rng, on_repeat=self._repeat)
        self.inflight[arch] += 1
        return arch

    def _episode(self) -> Architecture:
        for _ in range(MAX_TRIES):
            values, path = self._descend()
            if not self._check or satisfies(self.spec, values):
                for node in path:
                    self.tree[node][0] += 1
                    self.tree.touch(node)
                return Architecture._trusted(values)
        raise NoValidArchitecture(f"no architecture met the constraints in {MAX_TRIES} descents")

    def _descend(self):
        tree, r = self.tree, self.rng.random
        node, path, inside = (), [()], [True]

        def pick(key, arms, allowed):
            nonlocal node
            opts = range(arms) if allowed is None else allowed
            if not inside[0]:
                return opts[int(r() * len(opts))]
            untried = [a for a in opts if node + (a,) not in tree]
            if untried:
                a = untried[int(r() * len(untried))]
                node = node + (a,)
                tree[node] = [0, 0.0, 0]
                inside[0] = False
            else:
                a = self._uct(node, opts)
                node = node + (a,)
            path.append(node)
            return a
        values, _ = self.decisions.sample(pick, self.rng)
        return values, path

    def _uct(self, node: tuple, opts) -> int:
        tree, c = self.tree, self.exploration
        visits, total, told = tree[node]
        log_n = math.log(max(visits, 1))
        parent_mean = total / told if told else None
        best, best_a = -math.inf, opts[0]
        for a in opts:
            n, w, t = tree[node + (a,)]
            if n == 0:
                return a
            mean = w / t if t else parent_mean
            value = self._unit(mean) + c * math.sqrt(log_n / n)
            if value > best:
                best, best_a = value, a
        return best_a

    def _unit(self, mean) -> float:
        """A node's mean score in standard deviations from the mean of all scores told
        (min-max scaling, the textbook choice, lets one outlier, such as a network
        that did not train, squash every other difference)."""
        n = self.n_scores
        if mean is None or n < 2:
            return 0.0
        mu = self.sum_scores / n
        var = max(self.sum_squares / n - mu * mu, 0.0)
        return 0.0 if var <= 1e-24 else (mean - mu) / math.sqrt(var)

    # ------------------------------------------------------------ backup
    def _repeat(self, arch: Architecture) -> None:
        score = self.scores.get(arch)
        if score is not None:
            self._backup(arch, score, count_visit=False)

    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        mine = self.inflight.get(arch, 0) > 0
        if mine:
            self.inflight[arch] -= 1
            if not self.inflight[arch]:
                del self.inflight[arch]
        if result.failed:
            score = self.failure_score if self.failure_score is not None else self.lo
            if score is None:
                return
        else:
            score = result.score(self.objective)
            self.scores[arch] = score
            self.lo = score if self.lo is None else min(self.lo, score)
            self.n_scores += 1
            self.sum_scores += score
            self.sum_squares += score * score
        self._backup(arch, score, count_visit=not mine)

    def _backup(self, arch: Architecture, score: float, count_visit: bool) -> None:
        try:
            steps = self.decisions.encode(arch)
        except ValueError:
            return
        tree, node = self.tree, ()
        for i in range(len(steps) + 1):
            if i:
                node = node + (steps[i - 1].action,)
            stats = tree.get(node)
            if stats is None:
                break
            stats[1] += score
            stats[2] += 1
            if count_visit:
                stats[0] += 1
            tree.touch(node)

    def _get_state(self):
        return {"tree": self.tree.state(),
                "inflight": [[a.to_json(), n] for a, n in self.inflight.items()],
                "scores": self.scores.state(),
                "lo": self.lo, "moments": [self.n_scores, self.sum_scores, self.sum_squares],
                "novelty": self.novelty.state()}

    def _set_state(self, state) -> None:
        self.tree = LogDict.load(state["tree"], NODE)
        self.inflight = Counter({Architecture.from_json(a): n for a, n in state["inflight"]})
        self.scores = LogDict.load(state["scores"])
        self.lo = state["lo"]
        self.n_scores, self.sum_scores, self.sum_squares = state["moments"]
        self.novelty.load(state["novelty"])
