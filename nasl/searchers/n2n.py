"""N2N learning (Ashok et al., "N2N Learning: Network to Network Compression via Policy Gradient
Reinforcement Learning", ICLR 2018).

A large trained *teacher* is compressed into a *student* in two stages, each a policy trained by
REINFORCE with an exponential-moving-average baseline:

1. **layer removal**: one keep/remove action per layer that a depth choice counts; the student
   keeps as many layers as the actions keep (the largest value of the domain not above that);
2. **layer shrinkage**: from the best student of stage 1, one action per width choice, picking
   a value of the domain not above the student's (the paper's discrete shrink fractions).

Every student is rewarded with the paper's ``R = C (2 - C) * A / A_teacher``, where
``C = 1 - params_student / params_teacher`` is the compression and ``A`` the accuracy; a failed
student scores -1, as the paper's invalid ones do (:func:`reward`).

Over a space's choices: the depth choices (``removal``) and width choices (``shrinkage``) are
named by option, else found by their names (:data:`DEPTH_NAMES`, :data:`WIDTH_NAMES`). Each
student names its parent (the teacher in stage 1, the stage-1 student in stage 2) and its
transformation, ``remove_layer depth`` or ``shrink width`` (:mod:`nasl.morph`) where one choice
changed, ``inherit`` where several did, so the ``digits`` evaluator starts it from the parent's
weights. The parameter counts come from the result's ``params`` objective (``--cost params``),
else the study's ``cost``, else a proxy: the product of each compressed choice's value over the
teacher's (stated so in docs/searchers.md).

Differences from the paper: its policies are bidirectional LSTMs over the layer sequence; here
each action has its own logits (a repeat's layers are alike in a choice space, so an LSTM over
them sees the same input at every step), and students are not distilled from the teacher's
outputs: they train on the labels from the parent's weights.
"""
from __future__ import annotations

import math
import re

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher
from nasl.searchers.journal import PLAIN, Log
from nasl.searchers.option_checks import decay, positive
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import has_constraints, numeric_values, sample, satisfies

DEPTH_NAMES = re.compile(r"(depth|layers|repeat|blocks|num_cells|n_cells)", re.I)
WIDTH_NAMES = re.compile(r"(width|channels|filters|hidden|units|expand)", re.I)
_TRIES = 50


def reward(accuracy: float, teacher_accuracy: float, params: float, teacher_params: float) -> float:
    """Ashok et al.'s reward ``C (2 - C) * A / A_teacher``, ``C = 1 - params / teacher_params``.

    >>> round(reward(0.9, 0.9, 50, 100), 4)        # half the size, the teacher's accuracy
    0.75
    >>> reward(0.9, 0.9, 100, 100)                 # no compression earns nothing
    0.0
    """
    c = 1.0 - params / teacher_params
    return c * (2.0 - c) * accuracy / teacher_accuracy


@register_searcher("n2n", example={"removal_rollouts": 6, "batch_size": 3})
class N2N(Searcher):
    """Ashok et al. 2018: a removal policy, then a shrinkage policy, compressing a teacher.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    teacher : mapping, optional
        The teacher architecture (default: every numeric choice at its largest value, every
        other choice at its first; a random one where that breaks the space's constraints).
    removal_rollouts : int
        Students of the removal stage; the rest are shrinkage students.
    batch_size : int
        Rewards per policy-gradient step (the paper: 5 rollouts).
    learning_rate : float
        Step size on the logits.
    baseline_decay : float
        Decay of the moving-average baseline.
    objective : str, optional
        The accuracy objective (default: each result's first).
    size : str
        The objective that holds the parameter count, where a result has it.
    removal, shrinkage : list of str, optional
        The depth and width choice paths (default: found by name).
    """

    def __init__(self, spec, seed=None, *, teacher=None, removal_rollouts: int = 30, batch_size: int = 5,
                 learning_rate: float = 0.5, baseline_decay: float = 0.8, objective: str | None = None,
                 size: str = "params", removal=None, shrinkage=None, **kw):
        super().__init__(spec, seed, **kw)
        if removal_rollouts < 0 or batch_size < 1:
            raise ValueError(f"removal_rollouts must be >= 0 and batch_size >= 1, not {removal_rollouts}, {batch_size}")
        positive(learning_rate=learning_rate)
        decay(baseline_decay=baseline_decay)
        self.removal_rollouts, self.batch_size = removal_rollouts, batch_size
        self.learning_rate, self.baseline_decay = learning_rate, baseline_decay
        self.objective, self.size = objective, size
        self._check = has_constraints(self.spec)
        self.teacher = self._teacher(teacher)
        numeric = [p for p in self.teacher if _numeric(self.spec[p])]
        self.removal = list(removal) if removal is not None else [p for p in numeric if DEPTH_NAMES.search(_leaf(p))]
        self.shrinkage = list(shrinkage) if shrinkage is not None else [
            p for p in numeric if p not in self.removal and WIDTH_NAMES.search(_leaf(p))]
        for p in self.removal + self.shrinkage:
            if p not in self.teacher or not _numeric(self.spec[p]):
                raise ValueError(f"'{p}' is not a numeric choice of the teacher; numeric: {', '.join(numeric) or 'none'}")
        self.logits: dict = {}            # action key -> list of logits
        self.baseline = {"removal": None, "shrinkage": None}
        self.spread = {"removal": None, "shrinkage": None}      # moving mean square of the advantage
        self.batch = {"removal": [], "shrinkage": []}
        self.rollouts: dict = {}          # arch id -> [[stage, [[key, action], ...]], ...] not yet told
        self.teacher_result = None        # [accuracy, params] once told
        self.waiting: list = []           # students told before the teacher: [stage, actions, acc, size, arch]
        self.best = None                  # [reward, arch json] of the best removal student
        self.base = None                  # the shrinkage stage's parent (json), fixed at its first ask
        self.history = Log(codec=PLAIN)    # [stage, reward] per student, in order of tells (snapshots: O(new))

    def _teacher(self, teacher) -> Architecture:
        if teacher is not None:
            values = self.spec.walk(lambda c, v: teacher[c.path] if c.path in teacher else _first(c))
            if self._check and not satisfies(self.spec, values):
                raise ValueError("the teacher breaks the space's constraints")
            return Architecture(values)
        values = self.spec.walk(lambda c, v: max(_numeric(c)) if _numeric(c) else _first(c))
        if self._check and not satisfies(self.spec, values):
            return sample(self.spec, self.rng, self._check)
        return Architecture(values)

    # ------------------------------------------------------------ ask
    @property
    def stage(self) -> str:
        if self.num_asked == 0:
            return "teacher"
        if self.removal and self.num_asked <= self.removal_rollouts:
            return "removal"
        return "shrinkage" if self.shrinkage else ("removal" if self.removal else "none")

    def _propose(self) -> Architecture:
        stage = self.stage
        if stage == "teacher":
            return self.teacher
        if stage == "none":                    # nothing to remove or shrink: train the teacher on
            return self.child(self.teacher, self.teacher, "identity")
        if stage == "shrinkage" and self.base is None:
            self.base = self.best[1] if self.best else self.teacher.to_json()
        parent = self.teacher if stage == "removal" else Architecture.from_json(self.base)
        paths = self.removal if stage == "removal" else self.shrinkage
        for _ in range(_TRIES):
            actions, new = self._roll(stage, parent)
            values = self.spec.walk(lambda c, v: new[c.path] if c.path in new else
                                    (parent[c.path] if c.path in parent else _first(c)))
            if self._check and not satisfies(self.spec, values):
                self._learn(stage, actions, -1.0)       # an invalid student: the paper's -1
                continue
            arch = Architecture(values)
            self.rollouts.setdefault(arch.id, []).append([stage, actions])
            changed = [p for p in paths if arch.get(p) != parent.get(p)]
            kind = "remove_layer" if stage == "removal" else "shrink"
            name = f"{kind} {changed[0]}" if len(changed) == 1 else ("inherit" if changed else "identity")
            return self.child(arch, parent, name)
        return self.child(parent, parent, "identity")

    def _roll(self, stage, parent):
        """Sample the stage's actions: ``([[key, action], ...], {path: new value})``."""
        actions, new = [], {}
        if stage == "removal":
            for p in self.removal:
                kept = 0
                for i in range(int(parent[p])):
                    a = self._draw(f"remove {p}[{i}]", 2)      # 0 keep, 1 remove
                    actions.append([f"remove {p}[{i}]", a])
                    kept += a == 0
                dom = sorted(_numeric(self.spec[p]))
                new[p] = max([v for v in dom if v <= kept], default=dom[0])
        else:
            for p in self.shrinkage:
                dom = sorted(v for v in _numeric(self.spec[p]) if v <= parent[p])
                a = self._draw(f"shrink {p}", len(dom))
                actions.append([f"shrink {p}", a])
                new[p] = dom[a]
        return actions, new

    def _draw(self, key: str, arms: int) -> int:
        logits = self.logits.setdefault(key, [0.0] * arms)
        probs = _softmax(logits)
        u, acc = self.rng.random(), 0.0
        for i, p in enumerate(probs):
            acc += p
            if u < acc:
                return i
        return arms - 1

    # ------------------------------------------------------------ tell
    def _feedback(self, arch: Architecture, result: Result) -> None:
        acc = None if result.failed else result.score(self.objective)
        size = None if result.failed else self._params(arch, result)
        if arch == self.teacher and self.teacher_result is None:
            # the first result of the teacher's architecture is the teacher's (a student that kept
            # every layer is the same network: its own result, told later, is learned from then)
            self.teacher_result = [acc if acc else 1.0, size]      # a failed teacher: ratios against 1
            for stage, actions, a, n, js in self.waiting:
                self._student(stage, actions, a, n, Architecture.from_json(js))
            self.waiting = []
            return
        queue = self.rollouts.get(arch.id)
        if not queue:
            return                                  # not a student of this searcher: nothing to learn
        stage, actions = queue.pop(0)
        if not queue:
            del self.rollouts[arch.id]
        if self.teacher_result is None:
            self.waiting.append([stage, actions, acc, size, arch.to_json()])
        else:
            self._student(stage, actions, acc, size, arch)

    def _params(self, arch, result) -> float | None:
        """The student's size: the result's ``size`` objective, else the study's ``cost``, else None."""
        if self.size in result.objectives:
            return abs(result.objectives[self.size])
        return float(self.cost(arch)) if self.cost is not None else None

    def _proxy(self, arch) -> float:
        """A size where none is known: the product of the compressed choices' ratios to the teacher's."""
        n = 1.0
        for p in self.removal + self.shrinkage:
            if p in arch and self.teacher[p]:
                n *= arch[p] / self.teacher[p]
        return n

    def _student(self, stage, actions, acc, size, arch) -> None:
        t_acc, t_size = self.teacher_result
        if acc is None:
            r = -1.0
        elif size is None or t_size is None:        # both sizes by the proxy, never one of each
            r = reward(acc, t_acc, self._proxy(arch), 1.0)
        else:
            r = reward(acc, t_acc, size, t_size)
        self.history.append([stage, r])
        if stage == "removal" and (self.best is None or r > self.best[0]):
            self.best = [r, arch.to_json()]
        self._learn(stage, actions, r)

    def _learn(self, stage, actions, r) -> None:
        """Batch the reward; every ``batch_size`` rewards, one REINFORCE step:
        logits += lr * mean (R - b) / s * d log pi(actions), ``s`` the advantage's moving spread."""
        b, var = self.baseline[stage], self.spread[stage]
        adv = 0.0 if b is None else r - b
        # the advantage in units of its moving spread, so that one learning rate suits rewards
        # of any scale (a variance reduction the paper does not state; reinforce does the same)
        var = adv * adv if var is None else self.baseline_decay * var + (1 - self.baseline_decay) * adv * adv
        self.spread[stage] = var
        self.batch[stage].append([actions, adv / math.sqrt(var) if var > 1e-12 else 0.0])
        self.baseline[stage] = r if b is None else self.baseline_decay * b + (1 - self.baseline_decay) * r
        if len(self.batch[stage]) < self.batch_size:
            return
        grads: dict = {}
        for acts, adv in self.batch[stage]:
            for key, a in acts:
                probs = _softmax(self.logits[key])
                g = grads.setdefault(key, [0.0] * len(probs))
                for i, p in enumerate(probs):
                    g[i] += adv * ((i == a) - p)
        n = len(self.batch[stage])
        for key, g in grads.items():
            self.logits[key] = [x + self.learning_rate * gi / n for x, gi in zip(self.logits[key], g)]
        self.batch[stage] = []

    # ------------------------------------------------------------ state
    def _get_state(self):
        return {"logits": self.logits, "baseline": self.baseline, "spread": self.spread, "batch": self.batch,
                "rollouts": self.rollouts, "teacher_result": self.teacher_result, "waiting": self.waiting,
                "best": self.best, "base": self.base, "history": self.history.state()}

    def _set_state(self, state) -> None:
        state = dict(state)
        self.history = Log.load(state.pop("history"), PLAIN)
        for k, v in state.items():
            setattr(self, k, v)


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _numeric(c) -> list:
    return list(numeric_values(c))


def _first(c):
    return c.first()


def _softmax(xs):
    m = max(xs)
    es = [math.exp(x - m) for x in xs]
    s = sum(es)
    return [e / s for e in es]
