"""Tabular Q-learning over the decision sequence, from MetaQNN."""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher, score_or_fallback
from nasl.searchers.decisions import Decisions
from nasl.searchers.journal import Log
from nasl.searchers.novelty import Novelty
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import MAX_TRIES, NoValidArchitecture, has_constraints, satisfies

START = "^"


@register_searcher("q_learning", example={"replay": 5, "epsilon_asks": 10})
class QLearning(Searcher):
    """MetaQNN (Baker et al., "Designing Neural Network Architectures using
    Reinforcement Learning", ICLR 2017), with the ChoiceSpec as the MDP.

    An architecture is a sequence of decisions, one per active choice
    (:class:`~nasl.searchers.decisions.Decisions`). The state of a decision
    is the decision itself and the previous one with its answer (MetaQNN's
    state: the layer to choose, given the layer before); the actions are the
    arms of the decision. Each ask follows the table epsilon-greedily. Each
    tell stores the sequence and its score in the replay memory, then
    ``replay`` sequences drawn from the memory are replayed, each from its
    last decision backwards::

        Q[s_T, a_T] += lr * (score - Q[s_T, a_T])
        Q[s_t, a_t] += lr * (discount * max_a Q[s_t+1, a] - Q[s_t, a_t])

    Pairs not yet updated hold the mean score told so far (0.5 before any),
    the analogue of the paper's 0.5 for accuracies in [0, 1].

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    epsilon_start, epsilon_end, epsilon_asks : float, float, int
        Epsilon falls linearly from ``epsilon_start`` to ``epsilon_end`` over
        the first ``epsilon_asks`` asks, then stays.
    epsilon_schedule : list of [asks, epsilon], optional
        MetaQNN's stepwise schedule instead, e.g. ``[[1500, 1.0], [100, 0.9],
        ..., [150, 0.1]]``: each epsilon for that many asks; the last one stays.
    learning_rate : float
        Alpha (the paper: 0.01, over thousands of models; 0.1 learns within a few hundred).
    discount : float
        Gamma (the paper: 1).
    replay : int
        Sequences replayed after each tell (the paper: 100).
    objective : str, optional
        The objective to maximise (default: each result's first).
    failure_score : float, optional
        The score a failed trial is stored with; None: the worst score told
        so far (failures before any success are not stored).
    max_arms, bins
        How choices become decisions; see :class:`~nasl.searchers.decisions.Decisions`.
    dedup : bool
        Never propose an architecture twice (default True).
    """

    def __init__(self, spec, seed=None, *, epsilon_start: float = 1.0, epsilon_end: float = 0.1,
                 epsilon_asks: int = 100, epsilon_schedule=None, learning_rate: float = 0.1,
                 discount: float = 1.0, replay: int = 100, failure_score: float | None = None,
                 objective: str | None = None, max_arms: int = 32, bins: int = 8, dedup: bool = True, **kw):
        super().__init__(spec, seed, **kw)
        for name, v in (("epsilon_start", epsilon_start), ("epsilon_end", epsilon_end), ("discount", discount)):
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must be in [0, 1], not {v}")
        if not 0 < learning_rate <= 1:
            raise ValueError(f"learning_rate must be in (0, 1], not {learning_rate}")
        if epsilon_asks < 0 or replay < 0:
            raise ValueError("epsilon_asks and replay must be at least 0")
        if epsilon_schedule is not None:
            epsilon_schedule = [(int(n), float(e)) for n, e in epsilon_schedule]
            if not epsilon_schedule or any(n < 0 or not 0 <= e <= 1 for n, e in epsilon_schedule):
                raise ValueError("epsilon_schedule is a non-empty list of [asks >= 0, epsilon in [0, 1]]")
        self.epsilon_start, self.epsilon_end, self.epsilon_asks = epsilon_start, epsilon_end, epsilon_asks
        self.epsilon_schedule = epsilon_schedule
        self.learning_rate, self.discount, self.replay = learning_rate, discount, replay
        self.failure_score = failure_score
        self.objective = objective
        self.decisions = Decisions(self.spec, max_arms, bins)
        self._check = has_constraints(self.spec)
        self.novelty = Novelty(self.spec, self._check, dedup)
        self.q: dict[str, list] = {}        # state -> one value per arm
        self.memory = Log()      # journaled; (steps as [key, arms, allowed, action], score)
        self.total, self.count, self.worst = 0.0, 0, None

    # ------------------------------------------------------------ policy
    def epsilon(self) -> float:
        """Epsilon at the current ask."""
        t = self.num_asked
        if self.epsilon_schedule is not None:
            for n, e in self.epsilon_schedule:
                if t < n:
                    return e
                t -= n
            return self.epsilon_schedule[-1][1]
        if t >= self.epsilon_asks:
            return self.epsilon_end
        return self.epsilon_start + (self.epsilon_end - self.epsilon_start) * t / self.epsilon_asks

    def _default(self) -> float:
        return self.total / self.count if self.count else 0.5

    def _row(self, state: str, arms: int) -> list:
        row = self.q.get(state)
        if row is None or len(row) != arms:
            row = self.q[state] = [self._default()] * arms
        return row

    def _propose(self) -> Architecture:
        return self.novelty.propose(self._episode, self.rng)

    def _episode(self) -> Architecture:
        eps, r = self.epsilon(), self.rng.random
        prev = [START]
        q = self.q

        def pick(key, arms, allowed):
            opts = range(arms) if allowed is None else allowed
            row = q.get(f"{key}|{prev[0]}")
            if r() < eps or row is None or len(row) != arms:
                a = opts[int(r() * len(opts))]          # explore; or an unvisited state, where all arms tie
            else:
                best = max(row[i] for i in opts)
                ties = [i for i in opts if row[i] == best]
                a = ties[int(r() * len(ties))] if len(ties) > 1 else ties[0]
            prev[0] = f"{key}={a}"
            return a
        for _ in range(MAX_TRIES):
            prev[0] = START
            values, _steps = self.decisions.sample(pick, self.rng)
            if not self._check or satisfies(self.spec, values):
                return Architecture._trusted(values)
        raise NoValidArchitecture(f"no architecture met the constraints in {MAX_TRIES} episodes")

    # ------------------------------------------------------------ learning
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        score, self.worst = score_or_fallback(result, self.objective, self.failure_score, self.worst)
        if score is None:
            return
        if not result.failed:
            self.total += score
            self.count += 1
        try:
            steps = [list(s) for s in self.decisions.encode(arch)]
        except ValueError:
            return      # told an architecture of another space: nothing to learn from it
        self.memory.append((steps, score))
        self._update(steps, score)
        for _ in range(self.replay):
            steps, score = self.memory[int(self.rng.random() * len(self.memory))]
            self._update(steps, score)

    def _update(self, steps: list, score: float) -> None:
        lr, prev = self.learning_rate, START
        states = []
        for key, arms, allowed, action in steps:
            states.append((f"{key}|{prev}", arms, allowed, action))
            prev = f"{key}={action}"
        target = score
        for state, arms, allowed, action in reversed(states):
            row = self._row(state, arms)
            row[action] += lr * (target - row[action])
            target = self.discount * max(row[a] for a in (range(arms) if allowed is None else allowed))

    def _get_state(self):
        return {"q": self.q, "memory": self.memory.state(), "total": self.total, "count": self.count,
                "worst": self.worst, "novelty": self.novelty.state()}

    def _set_state(self, state) -> None:
        self.q = {k: list(v) for k, v in state["q"].items()}
        self.memory = Log.load(state["memory"])
        self.total, self.count, self.worst = state["total"], state["count"], state["worst"]
        self.novelty.load(state["novelty"])
