"""The encoder, predictor and decoder of the NAO searcher (torch; imported lazily)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Model(nn.Module):
    """Token embeddings shared by the encoder's input, the decoder's input and its output (tied)."""

    def __init__(self, vocab: int, hidden: int):
        super().__init__()
        self.vocab = vocab
        self.emb = nn.Embedding(vocab + 1, hidden)        # the last row: the decoder's start token
        self.enc = nn.LSTM(hidden, hidden, batch_first=True)
        self.pred = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.dec = nn.LSTM(hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, hidden)

    def _pad(self, seqs):
        n = max(1, max(len(s) for s in seqs))
        tokens = torch.zeros(len(seqs), n, dtype=torch.long)
        mask = torch.zeros(len(seqs), n)
        for i, s in enumerate(seqs):
            if s:
                tokens[i, :len(s)] = torch.tensor(s)
                mask[i, :len(s)] = 1.0
        return tokens, mask

    def embed(self, seqs):
        """The unit-norm mean of the encoder's hidden states over each sequence."""
        tokens, mask = self._pad(seqs)
        h, _ = self.enc(self.emb(tokens))
        mean = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return F.normalize(mean, dim=-1)

    def predict(self, e):
        return self.pred(e).squeeze(-1)

    def reconstruction_loss(self, e, seqs):
        tokens, mask = self._pad(seqs)
        start = torch.full((len(seqs), 1), self.vocab, dtype=torch.long)
        inputs = torch.cat([start, tokens[:, :-1]], 1)
        h, _ = self.dec(self.emb(inputs), (e[None], torch.zeros_like(e)[None]))
        logits = self.out(h) @ self.emb.weight[:self.vocab].T
        ce = F.cross_entropy(logits.reshape(-1, self.vocab), tokens.reshape(-1), reduction="none")
        return (ce * mask.reshape(-1)).sum() / mask.sum().clamp(min=1.0)

    def decoder(self, e):
        return _Decoding(self, e)


class _Decoding:
    """Greedy decoding step by step; each step chooses among the tokens the spec allows there."""

    def __init__(self, model: Model, e):
        self.model = model
        self.state = (e[None], torch.zeros_like(e)[None])
        self.x = torch.tensor([[model.vocab]])

    @torch.no_grad()
    def step(self, tokens, actions):
        m = self.model
        h, self.state = m.dec(m.emb(self.x), self.state)
        scores = m.out(h[0, -1]) @ m.emb.weight[torch.tensor(tokens)].T
        best = int(torch.argmax(scores))
        self.x = torch.tensor([[tokens[best]]])
        return actions[best]


def train(seqs, scores, vocab: int, hidden: int, epochs: int, lr: float, tradeoff: float, seed: int) -> Model:
    """A model trained from scratch, full batch with Adam, under ``seed`` (the caller's RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Model(vocab, hidden)
    y = torch.tensor(scores, dtype=torch.float32)
    y = (y - y.mean()) / (y.std() if len(y) > 1 and float(y.std()) > 0 else 1.0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        e = model.embed(seqs)
        loss = tradeoff * F.mse_loss(model.predict(e), y) + (1 - tradeoff) * model.reconstruction_loss(e, seqs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model
