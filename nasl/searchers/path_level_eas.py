"""Path-level EAS (Cai et al., "Path-Level Network Transformation for Efficient Architecture
Search", ICML 2018).

A tree-structured meta-controller grows a trained network's tree cells by function-preserving
path-level transformations. The cell's tree is encoded by a bidirectional tree-LSTM and three
actors decide (:mod:`nasl.searchers.path_level_policy`), visiting the tree depth-first from the
root. At each node that is a single path (``none``), the merge actor picks ``none`` (keep),
``add2``/``add3`` (replicate the path: :func:`nasl.morph.replicate_path`) or ``concat2`` (split
it: :func:`nasl.morph.split_path`, offered only where the split preserves the function); then, on
each branch, the replace actor picks a layer for an ``identity`` edge (``identity`` keeps it:
:func:`nasl.morph.replace_identity`), before the insert actor decides whether the branch gets a
child node (:func:`nasl.morph.insert_node`). Branches and nodes made in the same pass are left
for later children. ``passes`` such traversals make one child, each reading the tree as the last
left it.

Every child names its parent (the episode's start network: the best told so far, or always the
start network) and its transformation, the steps in order as a chain (:mod:`nasl.morph.chain`),
``replicate_path cell 2; insert_node cell.deeper[0]``, which the ``digits`` evaluator applies to
the parent's weights. A replacement is never exactly the identity on path_level.nas (its edges
are BN-ReLU-conv reading a conv's signed output; docs/decisions.md): that child starts near its
parent. ``replace_ops=["identity"]`` turns the replace actor off, and every child then computes
its parent's function.

REINFORCE with Adam as the official code: the reward ``tan(acc * pi / 2)`` of the final child
(:func:`nasl.searchers.eas.reward`), one step per ``batch_size`` rewards against a baseline that
starts at the start network's reward and moves ``b += baseline_decay * (mean(R) - b)``. A child
whose result is already known is not trained again: the controller learns from the known reward
and samples again (the official code's network pool).

A space without tree cells (no ``{P}.node`` choice of ``none`` and ``add``/``concat`` schemes)
gets plain mutation instead: each child is one choice of the episode's parent re-drawn, named
``mutate <path>``, so its unchanged layers inherit the parent's weights.
"""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher
from nasl.searchers.eas import reward
from nasl.searchers.journal import PAIR, PLAIN, Log, LogDict
from nasl.searchers.network_pool import TRIES as _TRIES, learn_batch, learn_told, propose_new
from nasl.searchers.option_checks import at_least, decay, positive
from nasl.searchers.path_tree import IDENTITY, Trees
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import NoValidArchitecture, has_constraints, mutate, sample, satisfies



@register_searcher("path_level_eas", example={"batch_size": 2})
class PathLevelEAS(Searcher):
    """Cai et al. 2018: a tree-LSTM meta-controller whose merge, insert and replace actors grow the
    tree cells of the best network so far, every child inheriting its parent's weights.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    start : mapping, optional
        The start network (default: every tree node a single path without child nodes, i.e.
        path_level's plain bottleneck; other choices drawn).
    parent : {"best", "start"}
        Each episode starts from the best network told so far, or always from ``start``.
    batch_size : int
        Children per episode, and rewards per REINFORCE step (the official code: 10).
    passes : int
        Depth-first traversals of the tree per child.
    learning_rate, entropy_weight : float
        Adam's step size and the entropy bonus (the official code: 6e-3 and 1e-2).
    baseline_decay : float
        The baseline's step toward each batch's mean reward (0.95).
    embedding_dim, hidden_size, actor_hidden : int
        Token embedding, tree-LSTM units per direction, actor hidden units (10, 100, 500).
    replace_ops : list, optional
        The layers an identity edge may become (default: every edge layer of the space).
    objective : str, optional
        The accuracy objective (default: each result's first).
    """

    def __init__(self, spec, seed=None, *, start=None, parent: str = "best", batch_size: int = 10,
                 passes: int = 1, learning_rate: float = 6e-3, entropy_weight: float = 1e-2,
                 baseline_decay: float = 0.95, embedding_dim: int = 10, hidden_size: int = 100,
                 actor_hidden: int = 500, replace_ops=None, objective: str | None = None, **kw):
        super().__init__(spec, seed, **kw)
        if parent not in ("best", "start"):
            raise ValueError(f"parent must be 'best' or 'start', not {parent!r}")
        if batch_size < 1 or passes < 1:
            raise ValueError(f"batch_size and passes must be >= 1, not {batch_size}, {passes}")
        at_least(1, embedding_dim=embedding_dim, hidden_size=hidden_size, actor_hidden=actor_hidden)
        positive(learning_rate=learning_rate)
        at_least(0, entropy_weight=entropy_weight)
        decay(baseline_decay=baseline_decay)
        self.parent, self.batch_size, self.passes = parent, batch_size, passes
        self.entropy_weight, self.baseline_decay, self.objective = entropy_weight, baseline_decay, objective
        self._check = has_constraints(self.spec)
        self.trees = Trees(self.spec)
        layers = self.trees.edge_values
        if replace_ops is not None:
            bad = [op for op in replace_ops if op not in layers]
            if bad:
                raise ValueError(f"replace_ops {bad} are not edge layers of the space; its layers: "
                                 f"{', '.join(map(str, layers)) or 'none'}")
        wanted = set(layers if replace_ops is None else replace_ops) | {IDENTITY}
        self.replace_arms = [i for i, v in enumerate(layers) if v in wanted] if IDENTITY in layers else []
        self.start = self._start(start)
        self.policy = None
        if self.trees:
            from nasl.searchers.path_level_policy import TreePolicy       # torch, only now
            self.policy = TreePolicy(self.trees.oov + 1, len(self.trees.node_values), len(layers),
                                     self.rng.getrandbits(62), embedding_dim=embedding_dim,
                                     hidden_size=hidden_size, actor_hidden=actor_hidden,
                                     learning_rate=learning_rate)
        self.baseline = None             # the start network's reward once told
        self.batch: list = []            # [passes, reward] awaiting the next REINFORCE step
        self.rollouts: dict = {}         # arch id -> [passes, ...] of children asked and not yet told
        self.known = LogDict(codec=PAIR)  # arch id -> reward of every network told (snapshots log new ones)
        self.best = None                 # [score, arch json] of the best network told
        self.base = None                 # the current episode's start network (json)
        self.episode_asks = 0
        self.rewards = Log(codec=PLAIN)   # the reward of each child told, in order

    def _start(self, start) -> Architecture:
        nodes = {f"{r}.node" for r in self.trees.roots}

        def answer(c, values):
            if start is not None:
                return start[c.path] if c.path in start else c.first()
            if c.path in nodes:
                return "none"
            if any(c.path.startswith(f"{r}.deeper[") for r in self.trees.roots):
                return False           # a single path without child nodes: the plain network
            return c.sample(self.rng)
        for _ in range(1 if start is not None else _TRIES):
            values = self.spec.walk(answer)
            if not self._check or satisfies(self.spec, values):
                return Architecture(values)
        if start is not None:
            raise ValueError("the start network breaks the space's constraints")
        return sample(self.spec, self.rng, self._check)

    # ------------------------------------------------------------ ask
    def _propose(self) -> Architecture:
        if self.num_asked == 0:
            return self.start
        if self.base is None or self.episode_asks >= self.batch_size:
            self.base = self.best[1] if self.parent == "best" and self.best else self.start.to_json()
            self.episode_asks = 0
        self.episode_asks += 1
        parent = Architecture.from_json(self.base)
        if self.policy is None:
            return self._mutation(parent)
        from nasl.searchers.path_level_policy import single_thread

        def rollout(values):
            values, passes, steps = self._rollout(values)
            return values, passes, "; ".join(steps)
        with single_thread():
            return propose_new(self, parent, rollout)

    def _rollout(self, values):
        """``(child values, [[vertices, decisions], ...], [chain step, ...])``, one entry per pass."""
        from nasl.searchers.path_level_policy import INSERT, MERGE, REPLACE, no_grad
        trees, passes, steps = self.trees, [], []
        merge_index = {v: i for i, v in enumerate(trees.node_values)}
        for _ in range(self.passes):
            vertices = trees.vertices(values)
            if not vertices:
                break
            with no_grad():
                out = self.policy.actors(self.policy.encode(vertices))
            decisions = []

            def decide(kind, i, allowed=()):
                a = self.policy.sample(out, kind, i, allowed, self.rng.random)
                decisions.append([kind, i, list(allowed), a])
                return a
            for i, (kind, where, _, _) in enumerate(vertices):      # pre-order: depth-first
                if kind == "node":
                    opts = trees.merges(values, where)
                    if len(opts) > 1:
                        a = decide(MERGE, i, [merge_index[v] for v in opts])
                        values, step = trees.merge(values, where, trees.node_values[a])
                        steps += [step] if step else []
                    continue
                prefix, b = where
                edge, deeper = f"{prefix}.edge[{b}]", f"{prefix}.deeper[{b}]"
                if values.get(edge) == IDENTITY and len(self.replace_arms) > 1:     # replace, then insert
                    op = trees.edge_values[decide(REPLACE, i, self.replace_arms)]
                    if op != IDENTITY:
                        values, step = trees.replace(values, edge, op)
                        steps.append(step)
                if values.get(deeper) is False and decide(INSERT, i):
                    values, step = trees.insert(values, prefix, b)
                    steps.append(step)
            if decisions:
                passes.append([vertices, decisions])
        return values, passes, steps

    def _mutation(self, parent: Architecture) -> Architecture:
        """The fallback on a space without tree cells: one choice of ``parent`` re-drawn."""
        try:
            for attempt in range(_TRIES):
                arch = mutate(self.spec, parent, self.rng, self._check)
                if arch.id not in self.known:
                    break
        except NoValidArchitecture:
            arch = parent
        changed = next((c.path for c in self.spec.active_choices(arch) if parent.get(c.path) != arch[c.path]), None)
        return self.child(arch, parent, f"mutate {changed}" if changed else "identity")

    # ------------------------------------------------------------ tell
    def _feedback(self, arch: Architecture, result: Result) -> None:
        acc = 0.0 if result.failed else result.score(self.objective)
        if not result.failed and (self.best is None or acc > self.best[0]):
            self.best = [acc, arch.to_json()]
        r = reward(acc / 100 if acc > 1 else acc)        # an objective above 1 is a percentage
        self.known[arch.id] = r
        if arch == self.start and self.baseline is None:
            self.baseline = r                            # the official code's start: the start network's reward
        learn_told(self, arch, r)

    def _learn(self, memory, r) -> None:
        learn_batch(self, memory, r)

    # ------------------------------------------------------------ state
    def _get_state(self):
        return {"policy": self.policy.state() if self.policy is not None else None, "baseline": self.baseline,
                "batch": self.batch, "rollouts": self.rollouts, "known": self.known.state(), "best": self.best,
                "base": self.base, "episode_asks": self.episode_asks, "rewards": self.rewards.state()}

    def _set_state(self, state) -> None:
        state = dict(state)
        policy = state.pop("policy")
        if self.policy is not None:
            self.policy.load(policy)
        self.rewards = Log.load(state.pop("rewards"), PLAIN)
        self.known = LogDict.load(state.pop("known"), PAIR)
        for k, v in state.items():
            setattr(self, k, v)
