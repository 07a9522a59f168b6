"""The meta-controller of the ``eas`` searcher (Cai et al. 2018): torch, imported when it is created.

- **Encoder**: a bidirectional LSTM over the network's layer sequence. A token is a pair
  (which choice, which value); its embedding is the sum of the two embeddings.
- **Net2Wider actor**: one shared sigmoid classifier. It reads the encoder's output at each
  width token and gives the probability of widening that width.
- **Net2Deeper actor**: an LSTM decoder cell started from the encoder's final state (both
  directions, concatenated). Its output is scored by a softmax over the depth choices that can
  still grow.

The sizes default to the official code's: embedding 16, LSTM 50 units. Training is REINFORCE
with Adam, and the loss has an entropy bonus (:meth:`Policy.reinforce`). Sampling draws from the
searcher's ``random.Random``, so the controller owns no random state. The whole state goes
through :meth:`Policy.state` as JSON lists, exactly (float32 → float → float32 is lossless).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from nasl.searchers.controller import single_thread
from nasl.searchers.torch_state import dump_state, load_state, reinforce_step

__all__ = ["Policy", "single_thread"]


class Policy(nn.Module):
    """Encoder and both actors.

    Parameters
    ----------
    paths : int
        Number of choice ids (the last one stands for any choice not listed).
    values : int
        Number of value ids.
    depths : int
        Number of depth choices, which is the width of the Net2Deeper softmax.
    seed : int
        Seeds the initial weights.
    embedding_dim, hidden_size, learning_rate
        Token embedding size, LSTM units per direction, Adam's step size.
    """

    def __init__(self, paths: int, values: int, depths: int, seed: int, *, embedding_dim: int = 16,
                 hidden_size: int = 50, learning_rate: float = 2e-3):
        super().__init__()
        with torch.random.fork_rng(devices=[]):     # the weights come from the seed, not from torch's global RNG
            torch.manual_seed(seed)
            self.path_embed = nn.Embedding(paths, embedding_dim)
            self.value_embed = nn.Embedding(values, embedding_dim)
            self.encoder = nn.LSTM(embedding_dim, hidden_size, batch_first=True, bidirectional=True)
            self.wider = nn.Linear(2 * hidden_size, 1)
            self.deeper_start = nn.Parameter(torch.zeros(embedding_dim))
            self.deeper_cell = nn.LSTMCell(embedding_dim, 2 * hidden_size)
            self.deeper = nn.Linear(2 * hidden_size, max(depths, 1))
        self.opt = torch.optim.Adam(self.parameters(), lr=learning_rate)

    # ------------------------------------------------------------ forward
    def encode(self, tokens):
        """``(outputs [T, 2H], (h, c) [1, 2H])`` for one sequence of ``(path id, value id)`` tokens."""
        t = torch.tensor(tokens, dtype=torch.long).reshape(-1, 2)
        x = (self.path_embed(t[:, 0]) + self.value_embed(t[:, 1])).unsqueeze(0)
        out, (h, c) = self.encoder(x)
        # the final state of each direction: forward's at the end, backward's at the start
        return out[0], (h.transpose(0, 1).reshape(1, -1), c.transpose(0, 1).reshape(1, -1))

    def wider_probs(self, outputs, positions):
        """The probability of widening, at each of ``positions`` of the sequence."""
        return torch.sigmoid(self.wider(outputs[list(positions)]).squeeze(-1))

    def deeper_logp(self, state, allowed):
        """Log-probabilities over the depth choices; those not in ``allowed`` get -inf."""
        h, _ = self.deeper_cell(self.deeper_start.unsqueeze(0), state)
        logits = self.deeper(h)[0]
        mask = torch.full_like(logits, -math.inf)
        mask[list(allowed)] = 0.0
        return torch.log_softmax(logits + mask, 0)

    # ------------------------------------------------------------ sampling (no gradients)
    @torch.no_grad()
    def sample_wider(self, tokens, positions, uniform):
        """One Net2Wider action: widen (1) or not (0) at each position, ``uniform()`` per draw."""
        if not positions:
            return []
        out, _ = self.encode(tokens)
        return [int(uniform() < p) for p in self.wider_probs(out, positions).tolist()]

    @torch.no_grad()
    def sample_deeper(self, tokens, allowed, uniform) -> int:
        """One Net2Deeper action: the index of the depth choice to grow, among ``allowed``."""
        _, state = self.encode(tokens)
        probs = self.deeper_logp(state, allowed).exp().tolist()
        u, acc = uniform(), 0.0
        for i in allowed:
            acc += probs[i]
            if u < acc:
                return i
        return allowed[-1]

    # ------------------------------------------------------------ learning
    def reinforce(self, batch, entropy_weight: float) -> float:
        """One Adam step on ``batch``: a list of ``(steps, advantage)``.

        Each step is ``["wider", tokens, positions, actions]`` or
        ``["deeper", tokens, allowed, action]``. The loss is
        ``-sum_i adv_i / n * sum_steps log pi(step) - entropy_weight * mean entropy``.
        Dividing by the batch size follows the official code.
        """
        n = len(batch)
        logp_total = torch.zeros(())
        entropies = []
        for steps, adv in batch:
            logp = torch.zeros(())
            for kind, tokens, where, action in steps:
                out, state = self.encode(tokens)
                if kind == "wider":
                    p = self.wider_probs(out, where).clamp(1e-6, 1 - 1e-6)
                    a = torch.tensor(action, dtype=torch.float32)
                    logp = logp + (a * p.log() + (1 - a) * (1 - p).log()).sum()
                    entropies.append(-(p * p.log() + (1 - p) * (1 - p).log()).mean())
                else:
                    lp = self.deeper_logp(state, where)
                    logp = logp + lp[action]
                    ok = lp[list(where)]
                    entropies.append(-(ok.exp() * ok).sum())
            logp_total = logp_total + adv / n * logp
        return reinforce_step(self.opt, logp_total, entropies, entropy_weight)

    # ------------------------------------------------------------ state
    def state(self) -> dict:
        """Weights and Adam's moments as JSON-safe lists."""
        return dump_state(self, self.opt)

    def load(self, state: dict) -> None:
        load_state(self, self.opt, state)
