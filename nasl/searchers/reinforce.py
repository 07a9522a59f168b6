"""REINFORCE with an autoregressive LSTM controller, from Zoph & Le."""
from __future__ import annotations

import math

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher, score_or_fallback
from nasl.searchers.decisions import Decisions
from nasl.searchers.novelty import Novelty
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import MAX_TRIES, NoValidArchitecture, has_constraints, satisfies


@register_searcher("reinforce", example={"hidden_size": 8, "batch_size": 4})
class Reinforce(Searcher):
    """Policy-gradient search (Zoph & Le, "Neural Architecture Search with
    Reinforcement Learning", ICLR 2017).

    An LSTM controller (:class:`~nasl.searchers.controller.Controller`)
    walks the ChoiceSpec top-down, one softmax per decision, each fed the
    embedding of the previous answer; only active choices are decided, and
    int/float ranges, subsets and permutations become decisions as
    :class:`~nasl.searchers.decisions.Decisions` describes. Told results
    gather in a buffer; every ``batch_size`` of them make one Adam step on

        - mean over the batch of (R - b) * log p(arch) + entropy_weight * H(arch),

    where ``b`` is an exponential moving average of the scores told before
    (decay ``baseline_decay``) and ``H`` the summed entropy of the
    decisions. With ``normalize`` (the default), R - b is divided by a moving
    estimate of the scores' spread, so the learning rate and the entropy
    weight mean the same whether scores are accuracies in [0, 1] or in
    percent. Results of architectures this searcher did not propose, and
    late tells, are learned from as they come (off-policy, as with Zoph &
    Le's asynchronous workers).

    torch is imported when the searcher is created, not when ``nasl.searchers`` is.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    hidden_size : int
        LSTM and embedding width (the paper: 35 per layer, two layers).
    learning_rate : float
        Adam's step size (the paper: 0.0006, over 12,800 architectures; larger suits shorter searches).
    batch_size : int
        Results per update (the paper: one per worker).
    baseline_decay : float
        Decay of the moving-average baseline.
    entropy_weight : float
        Weight of the entropy bonus.
    normalize : bool
        Scale advantages by the moving spread of the scores.
    objective : str, optional
        The objective to maximise (default: each result's first).
    failure_score : float, optional
        The reward of a failed trial; None: the worst score told so far
        (failures before any success are not learned from).
    max_arms, bins
        How choices become decisions; see :class:`~nasl.searchers.decisions.Decisions`.
    dedup : bool
        Never propose an architecture twice (default True).
    """

    def __init__(self, spec, seed=None, *, hidden_size: int = 32, learning_rate: float = 0.05,
                 batch_size: int = 10, baseline_decay: float = 0.9, entropy_weight: float = 0.1,
                 normalize: bool = True, failure_score: float | None = None, objective: str | None = None,
                 max_arms: int = 32, bins: int = 8, dedup: bool = True, **kw):
        super().__init__(spec, seed, **kw)
        if hidden_size < 1 or batch_size < 1:
            raise ValueError("hidden_size and batch_size must be at least 1")
        if not learning_rate > 0 or entropy_weight < 0 or not 0 <= baseline_decay < 1:
            raise ValueError("learning_rate must be > 0, entropy_weight >= 0 and baseline_decay in [0, 1)")
        from nasl.searchers.controller import Controller      # torch, only now
        self.batch_size = batch_size
        self.baseline_decay = baseline_decay
        self.entropy_weight = entropy_weight
        self.normalize = normalize
        self.failure_score = failure_score
        self.objective = objective
        self.decisions = Decisions(self.spec, max_arms, bins)
        self._check = has_constraints(self.spec)
        self.novelty = Novelty(self.spec, self._check, dedup)
        self.controller = Controller(hidden_size, self.rng.getrandbits(62), learning_rate)
        self.buffer: list = []              # (steps, score) told, not yet learned from
        self.baseline = None
        self.spread = None                  # moving mean of squared deviations from the baseline
        self.worst = None
        self.updates = 0

    # ------------------------------------------------------------ sampling
    def _propose(self) -> Architecture:
        return self.novelty.propose(self._sample, self.rng)

    def _sample(self) -> Architecture:
        ctl, r = self.controller, self.rng.random
        for _ in range(MAX_TRIES):
            x, state = ctl.start_sample()
            cur = [x, state]

            def pick(key, arms, allowed):
                probs, cur[1], row = ctl.sample_step(cur[0], cur[1], key, arms, allowed)
                u, acc, a = r(), 0.0, 0
                for a, q in enumerate(probs):
                    acc += q
                    if u < acc:
                        break
                if allowed is not None and a not in allowed:   # rounding at the top end
                    a = allowed[-1]
                cur[0] = ctl.sample_embed(row, a)
                return a
            values, _ = self.decisions.sample(pick, self.rng)
            if not self._check or satisfies(self.spec, values):
                return Architecture._trusted(values)
        raise NoValidArchitecture(f"the controller sampled no architecture that met the constraints "
                                  f"in {MAX_TRIES} tries")

    # ------------------------------------------------------------ learning
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        score, self.worst = score_or_fallback(result, self.objective, self.failure_score, self.worst)
        if score is None:
            return
        try:
            steps = [list(s) for s in self.decisions.encode(arch)]
        except ValueError:
            return
        self.buffer.append((steps, score))
        if len(self.buffer) >= self.batch_size:
            self._update()

    def _update(self) -> None:
        batch, self.buffer = self.buffer, []
        d = self.baseline_decay
        out = []
        for steps, score in batch:
            if self.baseline is None:
                self.baseline, self.spread = score, 0.0
            adv = score - self.baseline
            if self.normalize:
                adv = adv / math.sqrt(self.spread) if self.spread > 1e-12 else 0.0
            out.append((steps, adv))
            self.spread = d * self.spread + (1 - d) * (score - self.baseline) ** 2
            self.baseline = d * self.baseline + (1 - d) * score
        from nasl.searchers.controller import single_thread
        with single_thread():
            self.controller.reinforce(out, self.entropy_weight)
        self.updates += 1

    def _get_state(self):
        return {"controller": self.controller.state(), "buffer": self.buffer, "baseline": self.baseline,
                "spread": self.spread, "worst": self.worst, "updates": self.updates,
                "novelty": self.novelty.state()}

    def _set_state(self, state) -> None:
        self.controller.load(state["controller"])
        self.buffer = [(s, v) for s, v in state["buffer"]]
        self.baseline, self.spread, self.worst = state["baseline"], state["spread"], state["worst"]
        self.updates = state["updates"]
        self.novelty.load(state["novelty"])
