"""EAS (Cai et al., "Efficient Architecture Search by Network Transformation", AAAI 2018).

A meta-controller grows trained networks by function-preserving transformations. It is a
bidirectional-LSTM encoder of the network's layer sequence with two actors
(:mod:`nasl.searchers.eas_policy`), trained by REINFORCE. Every child is
made from an episode's start network by ``wider_steps`` Net2Wider actions and then
``deeper_steps`` Net2Deeper actions; the official code uses 4 and 5. Each action reads the
encoding of the network as the previous action left it:

- **Net2Wider**: for each width choice that can still grow, widen it or not, to the next larger
  value of its domain. The paper decides per layer; here one width choice sizes all the layers
  it names.
- **Net2Deeper**: pick one depth choice that can still grow and add one layer (block) to it.
  The paper also picks a position and a kernel size. A repeat's layers are alike, so there is
  no position to pick, and the choices a new block brings take their domain's first value, as
  :func:`nasl.morph.net2deeper` fills them.

Only the final child is trained. Its reward is the paper's ``tan(acc * pi / 2)``, with ``acc``
the accuracy as a fraction: an objective above 1 is read as a percentage, and ``acc`` is capped
at 0.999. A failed child has ``acc = 0``. Each batch of ``batch_size`` rewards makes one
Adam step. The baseline is the official code's: ``b += baseline_decay * (mean(R) - b)`` from
``b = 0``, and the loss is ``-sum (R - b) / batch_size * log pi``. As in the official code's
network pool, a child whose result is already known is not proposed again: the controller
learns from the known reward and samples again (at most ``network_pool.TRIES`` times; after that, the last
sample is retrained).

Lineage: every child names its parent, which is the episode's start network. That is the best
network told so far (``parent="best"``), or always the start network (``parent="start"``, as in
the official code). It also names its transformation: ``net2wider width``, or a chain of steps
in order, ``net2wider width; net2deeper depth`` (:mod:`nasl.morph.chain`). The ``digits``
evaluator applies the transformation to the parent's weights. The first ask is the start network
itself: given by ``start``, else the smallest widths and depths with the other choices drawn.

The width and depth choices come from the ``widths`` / ``depths`` options, else from their names
(:data:`~nasl.searchers.n2n.WIDTH_NAMES`, :data:`~nasl.searchers.n2n.DEPTH_NAMES`). In a space
without them the controller cannot act: every ask after the first retrains the start network
from its own weights (``identity``). A Net2Deeper that the evaluator refuses fails its trial
(a new block that cannot be the identity, as in most of digits' cells). After that, the
controller no longer deepens that choice for networks whose other choices are the same.
"""
from __future__ import annotations

import json
import math
import re
import zlib
from itertools import islice

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher
from nasl.searchers.journal import PAIR, PLAIN, Log, LogDict
from nasl.searchers.n2n import DEPTH_NAMES, WIDTH_NAMES
from nasl.searchers.network_pool import TRIES as _TRIES, learn_batch, learn_told, propose_new
from nasl.searchers.option_checks import at_least, decay, positive
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import has_constraints, numeric_values, sample, satisfies

WIDER, DEEPER = "net2wider", "net2deeper"
ACC_CAP = 0.999          # tan(acc * pi / 2) is infinite at 1
MAX_PATHS = 255          # choice ids; a larger (recursive) space shares one id for the rest
VALUES = 32              # value ids: a domain's index, else a hash bucket; a depth's layer index


def reward(accuracy: float) -> float:
    """The paper's reward ``tan(acc * pi / 2)``, ``acc`` capped at :data:`ACC_CAP`.

    >>> round(reward(0.5), 6), round(reward(0.9), 4)
    (1.0, 6.3138)
    """
    return math.tan(min(max(accuracy, 0.0), ACC_CAP) * math.pi / 2)


@register_searcher("eas", example={"batch_size": 2, "wider_steps": 1, "deeper_steps": 1})
class EAS(Searcher):
    """Cai et al. 2018: a bidirectional-LSTM meta-controller whose Net2Wider and Net2Deeper actors
    grow the best network so far, every child inheriting its parent's weights.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    start : mapping, optional
        The start network (default: the smallest widths and depths, other choices drawn).
    parent : {"best", "start"}
        Each episode starts from the best network told so far, or always from ``start``.
    batch_size : int
        Children per episode, and rewards per REINFORCE step (the official code: 10).
    wider_steps, deeper_steps : int
        Net2Wider and Net2Deeper actions per child (the official code: 4 and 5).
    learning_rate, entropy_weight : float
        Adam's step size and the entropy bonus (the official code: 2e-3 and 1e-5).
    baseline_decay : float
        The baseline's step toward each batch's mean reward (the official code: 0.95).
    embedding_dim, hidden_size : int
        Token embedding and LSTM units per direction (the official code: 16 and 50).
    objective : str, optional
        The accuracy objective (default: each result's first).
    widths, depths : list of str, optional
        The width and depth choice paths (default: found by name).
    """

    def __init__(self, spec, seed=None, *, start=None, parent: str = "best", batch_size: int = 10,
                 wider_steps: int = 4, deeper_steps: int = 5, learning_rate: float = 2e-3,
                 entropy_weight: float = 1e-5, baseline_decay: float = 0.95, embedding_dim: int = 16,
                 hidden_size: int = 50, objective: str | None = None, widths=None, depths=None, **kw):
        super().__init__(spec, seed, **kw)
        if parent not in ("best", "start"):
            raise ValueError(f"parent must be 'best' or 'start', not {parent!r}")
        if batch_size < 1 or wider_steps < 0 or deeper_steps < 0:
            raise ValueError(f"batch_size must be >= 1 and the steps >= 0, not {batch_size}, "
                             f"{wider_steps}, {deeper_steps}")
        at_least(1, embedding_dim=embedding_dim, hidden_size=hidden_size)
        positive(learning_rate=learning_rate)
        at_least(0, entropy_weight=entropy_weight)
        decay(baseline_decay=baseline_decay)
        self.parent, self.batch_size = parent, batch_size
        self.wider_steps, self.deeper_steps = wider_steps, deeper_steps
        self.entropy_weight, self.baseline_decay, self.objective = entropy_weight, baseline_decay, objective
        self._check = has_constraints(self.spec)
        listed = list(islice(self.spec.all_choices(), MAX_PATHS))
        self.index = {c.path: i for i, c in enumerate(listed)}
        numeric = [c.path for c in listed if numeric_values(c)]
        self.depths = self._paths(depths, numeric, lambda p: DEPTH_NAMES.search(_leaf(p)))
        self.widths = self._paths(widths, numeric, lambda p: p not in self.depths and WIDTH_NAMES.search(_leaf(p)))
        self.start = self._start(start)
        from nasl.searchers.eas_policy import Policy      # torch, only now
        self.policy = Policy(len(listed) + 1, VALUES, len(self.depths), self.rng.getrandbits(62),
                             embedding_dim=embedding_dim, hidden_size=hidden_size, learning_rate=learning_rate)
        self.baseline = 0.0
        self.batch: list = []            # [steps, reward] awaiting the next REINFORCE step
        self.rollouts: dict = {}         # arch id -> [steps, ...] of children asked and not yet told
        # arch id -> reward of every network told; journaled, so a study's snapshot stores only the new ones
        # (a plain dict was written whole every 100 trials: 1.6 MB at 20,000, BENCHMARKS.md section 61)
        self.known = LogDict(codec=PAIR)
        self.best = None                 # [score, arch json] of the best network told
        self.base = None                 # the current episode's start network (json)
        self.episode_asks = 0
        self.refused: list = []          # [[signature, depth path], ...] the evaluator refused to deepen
        self.rewards = Log(codec=PLAIN)   # the reward of each child told, in order

    def _paths(self, given, numeric, by_name) -> list:
        if given is None:
            return [p for p in numeric if by_name(p)]
        for p in given:
            if p not in numeric:
                raise ValueError(f"'{p}' is not a numeric choice of the space; numeric: {', '.join(numeric) or 'none'}")
        return list(given)

    def _start(self, start) -> Architecture:
        grown = set(self.widths) | set(self.depths)

        def answer(c, values):
            if start is not None:
                return start[c.path] if c.path in start else c.first()
            return min(numeric_values(c)) if c.path in grown else c.sample(self.rng)
        for _ in range(1 if start is not None else _TRIES):
            values = self.spec.walk(answer)
            if not self._check or satisfies(self.spec, values):
                return Architecture(values)
        if start is not None:
            raise ValueError("the start network breaks the space's constraints")
        return sample(self.spec, self.rng, self._check)

    # ------------------------------------------------------------ the layer sequence
    def tokens(self, values) -> list:
        """The network as a sequence of ``[choice id, value id]``: one token per active choice in
        walk order, and one per layer that a depth choice counts. Returns ``(tokens, {width path:
        position})``."""
        out, where = [], {}
        oov = len(self.index)
        for c in self.spec.active_choices(values):
            pid, v = self.index.get(c.path, oov), values[c.path]
            if c.path in self.depths and isinstance(v, (int, float)):
                out.extend([pid, min(i, VALUES - 1)] for i in range(int(v)))
                continue
            if c.path in self.widths:
                where[c.path] = len(out)
            out.append([pid, _value_id(c, v)])
        return (out or [[oov, 0]]), where

    def _grown(self, values, path):
        """``values`` with ``path`` at its next larger value, or None where it is the largest."""
        cur = values[path]
        larger = [v for v in numeric_values(self.spec[path]) if v > cur]
        if not larger:
            return None
        given = {**values, path: min(larger)}

        def answer(c, vals):     # newly active choices take their domain's first value, as nasl.morph does
            return given[c.path] if c.path in given else c.first()
        return self.spec.walk(answer)

    def _signature(self, values) -> str:
        grown = set(self.widths) | set(self.depths)
        return json.dumps(sorted([k, repr(v)] for k, v in values.items() if k not in grown))

    # ------------------------------------------------------------ ask
    def _propose(self) -> Architecture:
        if self.num_asked == 0:
            return self.start
        if self.base is None or self.episode_asks >= self.batch_size:
            self.base = (self.best[1] if self.parent == "best" and self.best else self.start.to_json())
            self.episode_asks = 0
        self.episode_asks += 1
        parent = Architecture.from_json(self.base)
        from nasl.searchers.eas_policy import single_thread

        def rollout(values):
            values, steps, actions = self._rollout(values)
            return values, steps, "; ".join(f"{kind} {path}" for kind, path in actions)
        with single_thread():
            return propose_new(self, parent, rollout)

    def _rollout(self, values):
        """Apply the episode's actions to ``values``: ``(child values, steps, [(kind, path), ...])``."""
        steps, actions = [], []
        for _ in range(self.wider_steps):
            tokens, where = self.tokens(values)
            paths = [p for p in self.widths if p in where and self._grown(values, p) is not None]
            if not paths:
                break
            positions = [where[p] for p in paths]
            decision = self.policy.sample_wider(tokens, positions, self.rng.random)
            steps.append(["wider", tokens, positions, decision])
            for p, d in zip(paths, decision):
                if d:
                    values = self._grown(values, p)
                    actions.append((WIDER, p))
        for _ in range(self.deeper_steps):
            sig = self._signature(values)
            allowed = [i for i, p in enumerate(self.depths) if p in values and [sig, p] not in self.refused
                       and self._grown(values, p) is not None]
            if not allowed:
                break
            tokens, _ = self.tokens(values)
            i = self.policy.sample_deeper(tokens, allowed, self.rng.random)
            steps.append(["deeper", tokens, allowed, i])
            values = self._grown(values, self.depths[i])
            actions.append((DEEPER, self.depths[i]))
        return values, steps, actions

    # ------------------------------------------------------------ tell
    def _feedback(self, arch: Architecture, result: Result) -> None:
        acc = 0.0 if result.failed else result.score(self.objective)
        if not result.failed and (self.best is None or acc > self.best[0]):
            self.best = [acc, arch.to_json()]
        acc = acc / 100 if acc > 1 else acc            # a percentage
        r = reward(acc)
        self.known[arch.id] = r
        if result.failed and DEEPER in (result.error or ""):
            sig = self._signature(arch)
            for p in re.findall(r"'([^']+)'", result.error):
                if p in self.depths and [sig, p] not in self.refused:
                    self.refused.append([sig, p])
        learn_told(self, arch, r)

    def _learn(self, memory, r) -> None:
        learn_batch(self, memory, r)

    # ------------------------------------------------------------ state
    def _get_state(self):
        return {"policy": self.policy.state(), "baseline": self.baseline, "batch": self.batch,
                "rollouts": self.rollouts, "known": self.known.state(), "best": self.best, "base": self.base,
                "episode_asks": self.episode_asks, "refused": self.refused, "rewards": self.rewards.state()}

    def _set_state(self, state) -> None:
        state = dict(state)
        self.policy.load(state.pop("policy"))
        self.rewards = Log.load(state.pop("rewards"), PLAIN)
        known = state.pop("known")
        if isinstance(known, dict) and "$log" not in known:     # a state saved before it was journaled
            self.known = LogDict(known.items(), PAIR)
        else:
            self.known = LogDict.load(known, PAIR)
        for k, v in state.items():
            setattr(self, k, v)


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _value_id(c, v) -> int:
    """A value's index in its choice's domain where that has under :data:`VALUES` values, else a
    stable hash bucket (float ranges, subsets, large int ranges)."""
    if c.cardinality() < VALUES:
        table = c.value_table()
        if v in table:
            return list(table).index(v)
    return zlib.crc32(json.dumps(v, sort_keys=True, default=repr).encode()) % VALUES
