"""The encoder, predictor and decoder of the NAO searcher (torch; imported lazily).

An architecture is a sequence of decisions; position ``t`` holds the
decision's hashed key ``k_t`` and the arm taken ``a_t`` (both ids below
``vocab``). The parts follow Luo et al. (2018), section 3:

- the **encoder**, an LSTM over ``K[k_t] + A[a_t]``; its outputs,
  normalised per position, are the embedding ``H`` (one vector per decision);
- the **predictor**, an MLP with a sigmoid on ``e = normalise(mean_t H_t)``;
- the **decoder**, an LSTM whose initial state is ``(e, e)``, with dot
  attention over ``H``; at step ``t`` its input is ``K[k_t] + A[a_{t-1}]``
  (the decision it is to answer and the answer before), and it scores only
  the arms of that decision (tied to ``A``), so decoding follows the spec.

The gradient step of the paper moves every ``H_t`` up the predictor's
gradient, normalises again and pools again (:meth:`Model.step_up`).
Decoding runs a batch of walks in lock step (:meth:`Model.start`,
:meth:`Model.decode_step`): one LSTM step for the whole batch per round.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Batch:
    """Padded decision sequences: key ids, arm ids, the mask of real positions and of allowed arms.

    Each sequence is ``[(key id, arm id, allowed arm ids)]``.
    """

    def __init__(self, seqs, vocab: int):
        n = max(1, max((len(s) for s in seqs), default=1))
        b = len(seqs)
        keys, arms = np.zeros((b, n), np.int64), np.zeros((b, n), np.int64)
        mask = np.zeros((b, n), np.float32)
        allowed = np.ones((b, n, vocab), bool)          # padding: all allowed, so no row is all -inf
        for i, s in enumerate(seqs):
            for t, (k, a, ok) in enumerate(s):
                keys[i, t], arms[i, t], mask[i, t] = k, a, 1.0
                allowed[i, t] = False
                allowed[i, t, list(ok)] = True
        self.keys, self.arms = torch.from_numpy(keys), torch.from_numpy(arms)
        self.mask, self.allowed = torch.from_numpy(mask), torch.from_numpy(allowed)


class Model(nn.Module):
    def __init__(self, vocab: int, hidden: int):
        super().__init__()
        self.vocab = vocab
        self.key_emb = nn.Embedding(vocab, hidden)
        self.arm_emb = nn.Embedding(vocab + 1, hidden)      # the last row: "no answer yet" (the start)
        self.enc = nn.LSTM(hidden, hidden, batch_first=True)
        self.pred = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.dec = nn.LSTM(hidden, hidden, batch_first=True)
        self.attn = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    # ------------------------------------------------------------ encoder and predictor
    def encode(self, batch: Batch):
        h, _ = self.enc(self.key_emb(batch.keys) + self.arm_emb(batch.arms))
        return F.normalize(h, dim=-1) * batch.mask[..., None]

    @staticmethod
    def pool(H, mask):
        return F.normalize(H.sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0), dim=-1)

    def predict(self, e):
        return torch.sigmoid(self.pred(e)).squeeze(-1)

    def step_up(self, batch: Batch, size: float):
        """``H`` moved ``size`` along the predictor's gradient in every position, normalised again."""
        H = self.encode(batch).detach().requires_grad_(True)
        grad, = torch.autograd.grad(self.predict(self.pool(H, batch.mask)).sum(), H)
        H2 = F.normalize(H + size * grad, dim=-1) * batch.mask[..., None]
        return H2.detach()

    # ------------------------------------------------------------ decoder
    def _attend(self, h, H, mask):
        """Luong's dot attention: the output vector of decoder states ``h`` (B, T', d) over ``H`` (B, T, d)."""
        w = (h @ H.transpose(1, 2)).masked_fill(mask[:, None, :] == 0, -1e9).softmax(-1)
        return torch.tanh(self.attn(torch.cat([h, w @ H], -1)))

    def _logits(self, o, allowed):
        logits = self.out(o) @ self.arm_emb.weight[:self.vocab].T
        return logits.masked_fill(~allowed, -1e9)

    def reconstruction_loss(self, H, batch: Batch):
        """Cross-entropy of the decoder rebuilding ``batch`` from ``H``, teacher-forced (one LSTM pass)."""
        e = self.pool(H, batch.mask)
        prev = torch.cat([torch.full_like(batch.arms[:, :1], self.vocab), batch.arms[:, :-1]], 1)
        h, _ = self.dec(self.key_emb(batch.keys) + self.arm_emb(prev), (e[None], e[None]))
        logits = self._logits(self._attend(h, H, batch.mask), batch.allowed)
        ce = F.cross_entropy(logits.reshape(-1, self.vocab), batch.arms.reshape(-1), reduction="none")
        m = batch.mask.reshape(-1)
        return (ce * m).sum() / m.sum().clamp(min=1.0)

    def start(self, H, mask):
        """The decoder state of a batch of walks from embeddings ``H``."""
        e = self.pool(H, mask)
        return {"H": H, "mask": mask, "state": (e[None], e[None]),
                "prev": torch.full((H.shape[0],), self.vocab, dtype=torch.long)}

    @torch.no_grad()
    def decode_step(self, run, keys, allowed):
        """One decision for every walk of ``run``: key ids (B,), allowed arms (B, vocab); the arms (B,)."""
        x = (self.key_emb(keys) + self.arm_emb(run["prev"]))[:, None]
        h, run["state"] = self.dec(x, run["state"])
        o = self._attend(h, run["H"], run["mask"])[:, 0]
        arms = self._logits(o, allowed).argmax(-1)
        run["prev"] = arms
        return arms


def new_model(vocab: int, hidden: int, seed: int) -> Model:
    """A model with weights drawn under ``seed`` (torch's global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Model(vocab, hidden)


def fit(model: Model, batch: Batch, scores, steps: int, lr: float, tradeoff: float) -> None:
    """``steps`` full-batch Adam steps on ``tradeoff * MSE + (1 - tradeoff) * CE``, from the model's weights.

    Scores are scaled to [0, 1] by their minimum and maximum, as the official
    code does, to match the predictor's sigmoid. Nothing here is random, so
    the same weights and data give the same model.
    """
    y = torch.tensor(scores, dtype=torch.float32)
    span = float(y.max() - y.min()) if len(y) else 0.0
    y = (y - y.min()) / span if span > 0 else torch.full_like(y, 0.5)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(steps):
        H = model.encode(batch)
        loss = (tradeoff * F.mse_loss(model.predict(model.pool(H, batch.mask)), y)
                + (1 - tradeoff) * model.reconstruction_loss(H, batch))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    model.eval()


def get_weights(model: Model) -> bytes:
    """The parameters as little-endian float32 bytes, in ``parameters()`` order: exact."""
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()
    return flat.astype("<f4").tobytes()


def set_weights(model: Model, data: bytes) -> None:
    flat = torch.from_numpy(np.frombuffer(data, dtype="<f4").astype(np.float32))
    n = sum(p.numel() for p in model.parameters())
    if flat.numel() != n:
        raise ValueError(f"the saved NAO weights hold {flat.numel()} numbers, the model has {n} "
                         f"(other hidden_size or vocab?)")
    i = 0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(flat[i:i + p.numel()].reshape(p.shape))
            i += p.numel()
