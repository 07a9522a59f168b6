"""PNAS's LSTM surrogate: an ensemble of LSTMs that read an architecture's decisions as tokens (torch, CPU).

Liu et al. (ECCV 2018) rank a cell's expansions with an LSTM that reads the
cell block by block, one token per input and per operation, each kind of
token with its own shared embedding; the final hidden state goes through a
fully connected layer and a sigmoid to the predicted accuracy, trained with
an L1 loss and Adam (hidden and embedding sizes 100), in an ensemble of 5,
each member fitted to 4/5 of the data. Here a token is one decision of the
architecture (:class:`DecisionTokens`), so any space reads as a sequence
whose length follows the architecture, as a cell's does with its blocks.

The members train at once: their weights are stacked along a leading axis
and every step is a batched matrix product, so 5 members cost little more
than one. A fit continues from the weights of the last fit when there is
one (a warm start across PNAS's stages); the vocabulary of tokens grows as
new ones are met, each new token getting a fresh embedding row. The whole
model (weights, vocabulary, target scaling) round-trips through
:meth:`LSTMEnsemble.state` / :meth:`LSTMEnsemble.load` exactly, so a resumed
search fits from the same weights as the uninterrupted one.
"""
from __future__ import annotations

import base64
import math
from typing import Sequence

EMBED_INIT = 0.1        # embeddings start uniform in [-0.1, 0.1], as in the paper


class LSTMEnsemble:
    """``members`` LSTM regressors of token sequences, sigmoid output, L1 loss.

    Parameters
    ----------
    members : int
        Ensemble size (the paper: 5).
    hidden, embedding : int
        The LSTM's hidden size and the tokens' embedding size (the paper: 100 each).
    epochs : int
        Full-batch Adam steps of a fit from fresh weights.
    warm_epochs : int
        Adam steps of a fit that continues from the last fit's weights.
    lr : float
        Adam's step size.
    holdout : float
        Each member leaves out this fraction of the data in every fit (the paper: 1/5), which is
        where the members' spread comes from besides their initial weights.
    seed : int
        Seeds the initial weights and the new embedding rows.
    """

    def __init__(self, members: int = 5, hidden: int = 100, embedding: int = 100, epochs: int = 100,
                 warm_epochs: int = 30, lr: float = 0.01, holdout: float = 0.2, seed: int = 0):
        if members < 1 or hidden < 1 or embedding < 1 or epochs < 1 or warm_epochs < 1:
            raise ValueError("an LSTM ensemble needs members, hidden, embedding, epochs and warm_epochs >= 1")
        if not 0.0 <= holdout < 1.0:
            raise ValueError(f"holdout must be in [0, 1), not {holdout}")
        self.members, self.hidden, self.embedding = members, hidden, embedding
        self.epochs, self.warm_epochs, self.lr, self.holdout, self.seed = epochs, warm_epochs, lr, holdout, seed
        self.vocab: dict = {}           # token -> embedding row, in the order the tokens were first met
        self.params: dict | None = None
        self.lo, self.span = 0.0, 1.0   # targets are mapped to [0, 1] by the training set's range
        self.fits = 0

    # ------------------------------------------------------------ tokens
    def ids(self, seqs: Sequence[Sequence], grow: bool = False) -> list:
        """Token sequences as embedding rows; ``grow``: new tokens get rows (else they read as row 0)."""
        vocab, out = self.vocab, []
        for s in seqs:
            row = []
            for t in s:
                i = vocab.get(t)
                if i is None:
                    if grow:
                        i = vocab[t] = len(vocab) + 1      # row 0 is padding and unknown tokens
                    else:
                        i = 0
                row.append(i)
            out.append(row)
        return out

    # ------------------------------------------------------------ model
    def _init(self, torch, g):
        M, H, E = self.members, self.hidden, self.embedding
        k = 1.0 / math.sqrt(H)      # torch.nn.LSTM's initialisation

        def u(shape, scale):
            return (torch.rand(shape, generator=g) * 2 - 1) * scale
        return {"emb": u((M, len(self.vocab) + 1, E), EMBED_INIT), "w_ih": u((M, E, 4 * H), k),
                "w_hh": u((M, H, 4 * H), k), "b": u((M, 1, 4 * H), k), "w_out": u((M, H, 1), k),
                "b_out": torch.zeros(M, 1, 1)}

    def _grow(self, torch, g) -> None:
        """New embedding rows for the tokens met since the last fit."""
        emb = self.params["emb"]
        extra = len(self.vocab) + 1 - emb.shape[1]
        if extra > 0:
            new = (torch.rand((self.members, extra, self.embedding), generator=g) * 2 - 1) * EMBED_INIT
            self.params["emb"] = torch.cat([emb, new], 1)

    def _forward(self, torch, p, tokens, lengths):
        """``(members, n)`` logits: the hidden state after each sequence's last token, through the output layer."""
        M, H = self.members, self.hidden
        n, T = tokens.shape
        # a token's input projection is the same wherever it occurs: project the embedding table once
        proj = torch.bmm(p["emb"], p["w_ih"]) + p["b"]                  # (M, V, 4H)
        x = proj[:, tokens]                                               # (M, n, T, 4H)
        h = torch.zeros(M, n, H)
        c = torch.zeros(M, n, H)
        for t in range(T):
            gates = x[:, :, t] + torch.bmm(h, p["w_hh"])
            i, f, gg, o = gates.chunk(4, dim=-1)
            c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            h2 = torch.sigmoid(o) * torch.tanh(c2)
            live = (lengths > t)[None, :, None]                           # past its end a sequence keeps its state
            c = torch.where(live, c2, c)
            h = torch.where(live, h2, h)
        return (torch.bmm(h, p["w_out"]) + p["b_out"])[..., 0]

    @staticmethod
    def _pad(torch, ids):
        T = max([len(s) for s in ids] + [1])
        tokens = torch.zeros(len(ids), T, dtype=torch.long)
        for r, s in enumerate(ids):
            if s:
                tokens[r, :len(s)] = torch.tensor(s)
        return tokens, torch.tensor([len(s) for s in ids])

    def fit(self, seqs: Sequence[Sequence], y, seed: int = 0) -> "LSTMEnsemble":
        """Train on token sequences and their scores; ``seed`` draws this fit's held-out rows
        (and the first fit's weights are drawn from ``self.seed``)."""
        import torch

        from nasl.searchers.controller import single_thread
        y = [float(v) for v in y]
        if not y:
            raise ValueError("an LSTM ensemble needs at least one training point")
        ids = self.ids(seqs, grow=True)
        with single_thread():
            g = torch.Generator().manual_seed(self.seed if self.params is None else seed)
            warm = self.params is not None
            if warm:
                self._grow(torch, g)
            else:
                self.params = self._init(torch, g)
            self.lo = min(y)
            self.span = (max(y) - self.lo) or 1.0
            target = (torch.tensor(y, dtype=torch.float32) - self.lo) / self.span
            if not warm:        # the output starts at the mean target, as the paper's output bias does
                m = float(target.mean().clamp(0.02, 0.98))
                self.params["b_out"].fill_(math.log(m / (1 - m)))
            n = len(y)
            keep = torch.ones(self.members, n)
            drop = int(self.holdout * n)
            if drop:
                mg = torch.Generator().manual_seed(seed)
                for m in range(self.members):
                    keep[m, torch.randperm(n, generator=mg)[:drop]] = 0.0
            weight = keep / keep.sum(1, keepdim=True)
            tokens, lengths = self._pad(torch, ids)
            params = [v.requires_grad_(True) for v in self.params.values()]
            opt = torch.optim.Adam(params, lr=self.lr)
            for _ in range(self.warm_epochs if warm else self.epochs):
                opt.zero_grad()
                pred = torch.sigmoid(self._forward(torch, self.params, tokens, lengths))
                loss = ((pred - target).abs() * weight).sum()
                loss.backward()
                opt.step()
            for v in params:
                v.requires_grad_(False)
        self.fits += 1
        return self

    def predict(self, seqs: Sequence[Sequence]):
        """``(members, len(seqs))`` numpy predictions in the units of the training scores."""
        import torch

        from nasl.searchers.controller import single_thread
        if self.params is None:
            raise RuntimeError("fit the ensemble before predicting")
        with single_thread(), torch.no_grad():
            tokens, lengths = self._pad(torch, self.ids(seqs))
            out = torch.sigmoid(self._forward(torch, self.params, tokens, lengths))
        return out.double().numpy() * self.span + self.lo

    # ------------------------------------------------------------ state
    def state(self) -> dict:
        """JSON-serializable and exact: float32 weights as base64 of their little-endian bytes."""
        params = None if self.params is None else {
            k: [list(v.shape), base64.b64encode(v.numpy().astype("<f4").tobytes()).decode("ascii")]
            for k, v in self.params.items()}
        return {"vocab": list(self.vocab), "params": params, "lo": self.lo, "span": self.span, "fits": self.fits}

    def load(self, state: dict) -> "LSTMEnsemble":
        """Restore :meth:`state` (the options must be the ones it was saved with)."""
        import numpy as np
        import torch
        self.vocab = {t: i + 1 for i, t in enumerate(state["vocab"])}
        self.lo, self.span, self.fits = state["lo"], state["span"], state["fits"]
        self.params = None
        if state["params"] is not None:
            self.params = {}
            for k, (shape, text) in state["params"].items():
                a = np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32).reshape(shape)
                self.params[k] = torch.from_numpy(a.copy())
            if self.params["w_hh"].shape[1:] != (self.hidden, 4 * self.hidden) or \
                    self.params["emb"].shape[2] != self.embedding or self.params["emb"].shape[0] != self.members:
                raise ValueError("the saved LSTM surrogate has other sizes than this one's options")
        return self


class DecisionTokens:
    """An architecture as the token of each of its decisions, in walk order
    (:class:`~nasl.searchers.decisions.Decisions`: the steps pnas grows by).

    A token names the *value* a decision picks, not the decision, so that one
    embedding serves every position that can take the value: PNAS shares one
    embedding among all the blocks' inputs and another among all their
    operations, and here "sep_conv_3x3" on any edge, or the input pair (0, 1)
    of any block, is one token; the LSTM tells the positions apart by their
    order. A binned number's token is its bin within its domain, an item of a
    large subset or permutation is its own token, and an in/out step of a
    large subset is the item with its answer.
    """

    def __init__(self, decisions):
        self.decisions = decisions

    def __call__(self, arch) -> list:
        out: list = []
        plan_of = self.decisions.plan

        def answer(c, values):
            try:
                v = arch[c.path]
            except KeyError:
                raise ValueError(f"the architecture gives no value for the active choice '{c.path}'") from None
            plan = plan_of(c)
            steps: list = []
            plan.encode(v, steps)
            mode = plan.mode
            for s in steps:
                if mode == "values":
                    x = plan.values[s.action]
                    out.append(f"{type(x).__name__}:{x!r}")
                elif mode == "bins":
                    out.append(f"bin:{s.key.rsplit(':', 1)[-1]}:{s.action}")   # the domain's digest: ranges alike share
                elif mode == "include":
                    out.append(f"in:{plan.items[int(s.key.rsplit('#', 1)[-1])]!r}:{s.action}")
                else:
                    out.append(f"item:{plan.items[s.action]!r}")
            return v
        self.decisions.spec.walk(answer)
        return out
