"""The autoregressive LSTM controller of the REINFORCE searcher (torch; imported lazily).

One LSTM cell steps through the decisions of an architecture
(:class:`~nasl.searchers.decisions.Decisions`). Its input at each step is
the embedding of the previous decision's answer (a learned start vector at
the first); its output is scored by a softmax of the decision's own arms,
as in Zoph & Le. Because a conditional or recursive space reveals its
decisions only as they become active, each decision's rows (output weights
and bias, and input embeddings, one per arm) are allocated on first use and
initialised from a generator seeded by the seed and the decision's key, so
the same key gets the same rows in whatever order keys appear.

The optimiser is Adam, written out here so that its moments grow with the
tables and the whole state is a few lists of floats (see :meth:`state`).
"""
from __future__ import annotations

import contextlib
import zlib

import numpy as np
import torch

INIT = 0.08          # Zoph & Le: weights uniform in [-0.08, 0.08]
MASKED = -1e9        # finite, so that 0 * log(0) terms stay 0 in the entropy and its gradient


class Controller:
    """An LSTM policy over decision steps, trained by REINFORCE with Adam.

    Parameters
    ----------
    hidden_size : int
        Width of the LSTM cell and of the embeddings.
    seed : int
        Seeds the initial weights.
    learning_rate : float
        Adam's step size.
    """

    def __init__(self, hidden_size: int, seed: int, learning_rate: float):
        self.h = hidden_size
        self.seed = seed
        self.lr = learning_rate
        g = torch.Generator().manual_seed(seed)
        h = hidden_size
        self.core = [_uniform(g, (4 * h, h)), _uniform(g, (4 * h, h)), _uniform(g, (4 * h,)), _uniform(g, (h,))]
        self.out_w = torch.zeros(0, h)
        self.out_b = torch.zeros(0)
        self.inp = torch.zeros(0, h)
        self.rows: dict[str, int] = {}       # decision key -> first row in the tables
        self._np = None                       # numpy copy of the weights for sampling
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params()]
        self.v = [torch.zeros_like(p) for p in self.params()]

    def params(self) -> list:
        return self.core + [self.out_w, self.out_b, self.inp]

    def _set_params(self, ps) -> None:
        self.core, (self.out_w, self.out_b, self.inp) = list(ps[:4]), ps[4:]

    # ------------------------------------------------------------ tables
    def row(self, key: str, arms: int) -> int:
        """The first row of ``key``'s block, allocating it on first use."""
        r = self.rows.get(key)
        if r is None:
            r = self.rows[key] = self.out_w.shape[0]
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + zlib.crc32(key.encode())) % 2 ** 62)
            new = [_uniform(g, (arms, self.h)), torch.zeros(arms), _uniform(g, (arms, self.h))]
            self.out_w, self.out_b, self.inp = (torch.cat([a, b]) for a, b in
                                                zip((self.out_w, self.out_b, self.inp), new))
            for moments in (self.m, self.v):
                for i, b in zip((4, 5, 6), new):
                    moments[i] = torch.cat([moments[i], torch.zeros_like(b)])
            self._np = None
        return r

    # ------------------------------------------------------------ sampling (numpy)
    def _mirror(self):
        """The weights as float64 numpy arrays, for sampling: a torch call per tiny op costs
        more than the arithmetic, and asks outnumber updates. Rebuilt after each change."""
        if self._np is None:
            w_ih, w_hh, b, start = (t.detach().double().numpy() for t in self.core)
            self._np = (np.concatenate([w_ih, w_hh], 1), b, start, self.out_w.detach().double().numpy(),
                        self.out_b.detach().double().numpy(), self.inp.detach().double().numpy())
        return self._np

    def start_sample(self):
        z = np.zeros(self.h)
        return self._mirror()[2], (z, z)

    def sample_step(self, x, state, key: str, arms: int, allowed):
        """One LSTM step in numpy: the probabilities of the arms (0 where not allowed), the new
        state, and the first row of the decision's block."""
        r = self.row(key, arms)
        w, b, _, out_w, out_b, _ = self._mirror()
        hx, cx = state
        h = self.h
        gates = w @ np.concatenate([x, hx]) + b
        sig = 1.0 / (1.0 + np.exp(-gates))
        cx = sig[h:2 * h] * cx + sig[:h] * np.tanh(gates[2 * h:3 * h])
        hx = sig[3 * h:] * np.tanh(cx)
        logits = out_w[r:r + arms] @ hx + out_b[r:r + arms]
        if allowed is not None:
            keep = np.full(arms, -np.inf)
            keep[list(allowed)] = 0.0
            logits = logits + keep
        e = np.exp(logits - logits.max())
        return (e / e.sum()).tolist(), (hx, cx), r

    def sample_embed(self, r: int, action: int):
        return self._mirror()[5][r + action]

    # ------------------------------------------------------------ forward
    def start(self):
        z = torch.zeros(self.h)
        return self.core[3], (z, z)

    def step(self, x, state, key: str, arms: int, allowed):
        """One LSTM step; the log-probabilities of the arms (disallowed ones -inf) and the new state."""
        w_ih, w_hh, b, _ = self.core
        hx, cx = state
        gates = w_ih @ x + w_hh @ hx + b
        i, f, g, o = gates.chunk(4)
        cx = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
        hx = torch.sigmoid(o) * torch.tanh(cx)
        r = self.row(key, arms)
        logits = self.out_w[r:r + arms] @ hx + self.out_b[r:r + arms]
        if allowed is not None:
            mask = torch.full((arms,), MASKED)
            mask[list(allowed)] = 0.0
            logits = logits + mask
        return torch.log_softmax(logits, 0), (hx, cx), r

    def embed(self, r: int, action: int):
        return self.inp[r + action]

    # ------------------------------------------------------------ learning
    def reinforce(self, batch, entropy_weight: float) -> float:
        """One Adam step on ``batch``, a list of (steps, advantage); returns the loss.

        The sequences run through the LSTM side by side (one batched step
        per position), each with its own decision and arms at that position;
        arms are padded to the widest and masked, and a sequence that has
        ended contributes nothing.
        """
        for steps, _ in batch:          # allocate first: the parameters must not change under autograd
            for key, arms, _, _ in steps:
                self.row(key, arms)
        ps = self.params()
        for p in ps:
            p.requires_grad_(True)
        w_ih, w_hh, bias, start = self.core
        n, h = len(batch), self.h
        hx = cx = torch.zeros(n, h)
        x = start.expand(n, h)
        logp, ent = torch.zeros(n), torch.zeros(n)
        for t in range(max(len(s) for s, _ in batch)):
            width = max(st[t][1] for st, _ in batch if t < len(st))
            idx, mask, act, alive, nxt = [], [], [], [], []
            for steps, _ in batch:
                if t < len(steps):
                    key, arms, allowed, action = steps[t]
                    r = self.rows[key]
                    ok = range(arms) if allowed is None else set(allowed)
                    idx.append([r + a if a < arms else 0 for a in range(width)])
                    mask.append([0.0 if a in ok else MASKED for a in range(width)])
                    act.append(action)
                    alive.append(1.0)
                    nxt.append(r + action)
                else:
                    idx.append([0] * width)
                    mask.append([0.0] + [MASKED] * (width - 1))
                    act.append(0)
                    alive.append(0.0)
                    nxt.append(0)
            gates = x @ w_ih.T + hx @ w_hh.T + bias
            i, f, g, o = gates.chunk(4, dim=1)
            cx = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
            hx = torch.sigmoid(o) * torch.tanh(cx)
            idx_t = torch.tensor(idx)
            logits = (self.out_w[idx_t] @ hx.unsqueeze(-1)).squeeze(-1) + self.out_b[idx_t] + torch.tensor(mask)
            lp = torch.log_softmax(logits, 1)
            live = torch.tensor(alive)
            logp = logp + live * lp.gather(1, torch.tensor(act).unsqueeze(1)).squeeze(1)
            ent = ent - live * (lp.exp() * lp).sum(1)
            x = self.inp[torch.tensor(nxt)]
        adv = torch.tensor([a for _, a in batch], dtype=torch.float32)
        loss = -(adv * logp + entropy_weight * ent).mean()
        grads = torch.autograd.grad(loss, ps, allow_unused=True)
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        new = []
        with torch.no_grad():
            for i, (p, gr) in enumerate(zip(ps, grads)):
                gr = torch.zeros_like(p) if gr is None else gr
                self.m[i] = b1 * self.m[i] + (1 - b1) * gr
                self.v[i] = b2 * self.v[i] + (1 - b2) * gr * gr
                mhat = self.m[i] / (1 - b1 ** self.t)
                vhat = self.v[i] / (1 - b2 ** self.t)
                new.append((p - self.lr * mhat / (vhat.sqrt() + eps)).detach())
        self._set_params(new)
        self._np = None
        return float(loss.detach())

    # ------------------------------------------------------------ state
    def state(self) -> dict:
        """Weights, Adam moments and the table of rows, as JSON-safe lists."""
        def dump(ts):
            return [[list(t.shape), t.reshape(-1).tolist()] for t in ts]
        return {"params": dump(self.params()), "m": dump(self.m), "v": dump(self.v),
                "rows": list(self.rows.items()), "t": self.t, "seed": self.seed}

    def load(self, state: dict) -> None:
        def undump(items):
            return [torch.tensor(flat, dtype=torch.float32).reshape(shape) for shape, flat in items]
        self._set_params(undump(state["params"]))
        self._np = None
        self.m, self.v = undump(state["m"]), undump(state["v"])
        self.rows = {k: r for k, r in state["rows"]}
        self.t, self.seed = state["t"], state["seed"]


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread: the controller's tensors are tiny, and on a busy machine
    the intra-op thread pool makes each op wait for the others (measured 15x slower
    under load), never faster. The caller's setting is restored."""
    n = torch.get_num_threads()
    if n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _uniform(g, shape):
    return (torch.rand(shape, generator=g) * 2 - 1) * INIT
