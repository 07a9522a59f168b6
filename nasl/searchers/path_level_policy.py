"""The meta-controller of ``path_level_eas`` (Cai et al. 2018): torch, imported when it is created.

- **Encoder**: a bidirectional tree-LSTM over the cell's tree (:meth:`Trees.vertices`), whose
  vertices are the tree nodes (token: the merge scheme) and the branches' edges (token: the
  layer). The bottom-up pass is a child-sum tree-LSTM (Tai et al. 2015), leaves to root; the
  top-down pass is an LSTM cell from each vertex's parent, root to leaves. A vertex is read as both
  hidden states concatenated. The official code's sizes: embedding 10, 100 units per direction.
- **Actors**: three MLPs (one hidden layer of 500 ReLU units) over a vertex's encoding: the merge
  actor (a softmax over the node's merge values: ``none``, ``add2``, ``add3``, ``concat2``), the
  insert actor (a sigmoid: give the branch a child node) and the replace actor (a softmax over the
  edge layers for an identity edge; choosing ``identity`` keeps it).

Vertices of one depth are computed together, so a pass costs one step per tree level. Sampling
draws from the searcher's ``random.Random``: the policy owns no random state.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from nasl.searchers.controller import single_thread
from nasl.searchers.torch_state import dump_state, load_state, reinforce_step

__all__ = ["TreePolicy", "single_thread", "no_grad"]
no_grad = torch.no_grad
MERGE, INSERT, REPLACE = "merge", "insert", "replace"


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))


class TreePolicy(nn.Module):
    """Tree-LSTM encoder and the three actors.

    Parameters
    ----------
    tokens : int
        Vertex token ids (:attr:`Trees.tokens`, plus one for unknown values).
    merges, layers : int
        Widths of the merge and replace softmaxes (the node and edge vocabularies).
    seed : int
        Seeds the initial weights.
    embedding_dim, hidden_size, actor_hidden, learning_rate
        Token embedding, LSTM units per direction, actor hidden units, Adam's step size.
    """

    def __init__(self, tokens: int, merges: int, layers: int, seed: int, *, embedding_dim: int = 10,
                 hidden_size: int = 100, actor_hidden: int = 500, learning_rate: float = 6e-3):
        super().__init__()
        h = hidden_size
        with torch.random.fork_rng(devices=[]):     # the weights come from the seed, not torch's global RNG
            torch.manual_seed(seed)
            self.embed = nn.Embedding(tokens, embedding_dim)
            self.up_x = nn.Linear(embedding_dim, 4 * h)          # i, o, u, f from the vertex's token
            self.up_iou = nn.Linear(h, 3 * h, bias=False)        # from the sum of its children's states
            self.up_f = nn.Linear(h, h, bias=False)              # one forget gate per child
            self.down = nn.LSTMCell(embedding_dim, h)
            self.merge = _mlp(2 * h, actor_hidden, max(merges, 1))
            self.insert = _mlp(2 * h, actor_hidden, 1)
            self.replace = _mlp(2 * h, actor_hidden, max(layers, 1))
        self.hidden = h
        self.opt = torch.optim.Adam(self.parameters(), lr=learning_rate)

    # ------------------------------------------------------------ encoder
    def encode(self, vertices) -> torch.Tensor:
        """``[V, 2H]``: each vertex's bottom-up and top-down hidden states, in the order given."""
        n, h = len(vertices), self.hidden
        parent = [v[3] for v in vertices]
        depth = [0] * n
        for i in range(n):                       # pre-order: a parent comes before its children
            depth[i] = depth[parent[i]] + 1 if parent[i] >= 0 else 0
        levels = [[i for i in range(n) if depth[i] == d] for d in range(max(depth) + 1)]
        row = {i: r for lv in levels for r, i in enumerate(lv)}
        x = self.embed(torch.tensor([v[2] for v in vertices], dtype=torch.long))
        gx = self.up_x(x)
        up: list = [None] * len(levels)
        for d in range(len(levels) - 1, -1, -1):
            lv = levels[d]
            g = gx[lv]
            if d + 1 < len(levels):
                kids = levels[d + 1]
                where = torch.tensor([row[parent[k]] for k in kids], dtype=torch.long)
                kh, kc = up[d + 1]
                hsum = torch.zeros(len(lv), h).index_add(0, where, kh)
                f = torch.sigmoid(g[where, 3 * h:] + self.up_f(kh))
                csum = torch.zeros(len(lv), h).index_add(0, where, f * kc)
            else:
                hsum = csum = torch.zeros(len(lv), h)
            iou = g[:, :3 * h] + self.up_iou(hsum)
            i, o, u = torch.sigmoid(iou[:, :h]), torch.sigmoid(iou[:, h:2 * h]), torch.tanh(iou[:, 2 * h:])
            c = i * u + csum
            up[d] = (o * torch.tanh(c), c)
        down: list = []
        for d, lv in enumerate(levels):
            if d == 0:
                state = None
            else:
                where = torch.tensor([row[parent[k]] for k in lv], dtype=torch.long)
                state = (down[d - 1][0][where], down[d - 1][1][where])
            down.append(self.down(x[lv], state))
        order = torch.tensor([i for lv in levels for i in lv], dtype=torch.long)
        both = torch.cat([torch.cat([up[d][0], down[d][0]], 1) for d in range(len(levels))])
        return both[torch.argsort(order)]

    # ------------------------------------------------------------ actors
    def actors(self, enc) -> tuple:
        """The three actors over every vertex at once: merge logits ``[V, M]``, insert logits
        ``[V]``, replace logits ``[V, L]`` (one batched call each, not one per decision)."""
        return self.merge(enc), self.insert(enc)[:, 0], self.replace(enc)

    def logp(self, out, kind: str, vertex: int, allowed) -> torch.Tensor:
        """Log-probabilities of one decision's arms from :meth:`actors`' ``out``: over the merge or
        replace softmax with arms not in ``allowed`` masked out, or for ``insert`` [log(1 - p), log p]."""
        merge, insert, replace = out
        if kind == INSERT:
            z = insert[vertex]
            return torch.stack([nn.functional.logsigmoid(-z), nn.functional.logsigmoid(z)])
        logits = (merge if kind == MERGE else replace)[vertex]
        mask = torch.full_like(logits, -math.inf)
        mask[list(allowed)] = 0.0
        return torch.log_softmax(logits + mask, 0)

    @torch.no_grad()
    def sample(self, out, kind: str, vertex: int, allowed, uniform) -> int:
        """One decision: an index among ``allowed`` (merge, replace), or 0/1 (insert)."""
        probs = self.logp(out, kind, vertex, allowed).exp().tolist()
        arms = [0, 1] if kind == INSERT else list(allowed)
        u, acc = uniform(), 0.0
        for a in arms:
            acc += probs[a]
            if u < acc:
                return a
        return arms[-1]

    # ------------------------------------------------------------ learning
    def reinforce(self, batch, entropy_weight: float) -> float:
        """One Adam step on ``batch``, a list of ``(passes, advantage)``; a pass is
        ``[vertices, [[kind, vertex, allowed, action], ...]]``. The loss is
        ``-sum_i adv_i / n * log pi(decisions_i) - entropy_weight * mean entropy``."""
        n = len(batch)
        total = torch.zeros(())
        entropies = []
        for passes, adv in batch:
            logp = torch.zeros(())
            for vertices, decisions in passes:
                out = self.actors(self.encode(vertices))
                for kind, vertex, allowed, action in decisions:
                    lp = self.logp(out, kind, vertex, allowed)
                    logp = logp + lp[action]
                    arms = lp if kind == INSERT else lp[list(allowed)]
                    entropies.append(-(arms.exp() * arms).sum())
            total = total + adv / n * logp
        return reinforce_step(self.opt, total, entropies, entropy_weight)

    # ------------------------------------------------------------ state
    def state(self) -> dict:
        return dump_state(self, self.opt)

    def load(self, state: dict) -> None:
        load_state(self, self.opt, state)
