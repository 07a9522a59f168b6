"""The relaxed modes' rule at a select node: weights over its labels, and which branches run.

Each mode turns the logits ``alpha`` of one choice (one row of a 2-D alpha)
into label weights ``w`` and the labels whose branches must run:

- ``darts`` / ``pcdarts``: ``w = softmax(alpha)``, every branch runs (Liu et al. 2019);
- ``snas``: ``w = softmax((log_softmax(alpha) + g) / tau)`` with Gumbel noise ``g``
  (Xie et al. 2019), every branch runs;
- ``gdas``: the hard straight-through Gumbel sample (Dong & Yang 2019):
  ``w = onehot - soft.detach() + soft``; only the sampled branch runs, and
  every other label adds its weight (zero in value, not in gradient), as the
  official GDAS forward does, so that every alpha gets a gradient;
- ``proxyless``: binary gates (Cai et al. 2019): two labels are drawn from
  ``softmax(alpha)`` without replacement, one of them is the active gate,
  ``w = gate - p2.detach() + p2`` over the two (``p2`` their renormalised
  probabilities); only those two branches run.

In eval mode every mode but ``snas``'s soft mixture becomes deterministic:
``darts``/``pcdarts``/``snas`` use the softmax, ``gdas``/``proxyless`` the argmax.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

RELAXED = ("darts", "snas", "gdas", "pcdarts", "proxyless")


def gumbel_like(x: torch.Tensor, generator=None) -> torch.Tensor:
    # the generator (seeded, on the CPU) decides the draw; the noise then moves to alpha's device
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    e = -torch.log(u.clamp_min(1e-20))          # Exp(1); the Gumbel sample is -log of it
    return -torch.log(e.clamp_min(1e-20))


def label_weights(mode: str, alpha: torch.Tensor, tau: float, training: bool, generator=None):
    """``(w, run)``: weights over the labels of ``alpha``, and the label indices whose branches run
    (None: all)."""
    if mode in ("darts", "pcdarts") or (not training and mode == "snas"):
        return F.softmax(alpha, dim=-1), None
    if mode == "snas":
        return F.softmax((F.log_softmax(alpha, -1) + gumbel_like(alpha, generator)) / tau, dim=-1), None
    if mode == "gdas":
        if training:
            soft = F.softmax((F.log_softmax(alpha, -1) + gumbel_like(alpha, generator)) / tau, dim=-1)
        else:
            soft = F.softmax(alpha, dim=-1)
        i = int(soft.argmax())
        hard = torch.zeros_like(soft)
        hard[i] = 1.0
        return hard - soft.detach() + soft, [i]
    if mode == "proxyless":
        p = F.softmax(alpha, dim=-1)
        if not training or alpha.numel() == 1:
            i = int(p.argmax())
            return (F.one_hot(torch.tensor(i), alpha.numel()).to(p) - p.detach() + p), [i]
        pair = torch.multinomial(p.detach().cpu(), 2, replacement=False, generator=generator).tolist()
        p2 = F.softmax(alpha[pair], dim=-1)
        active = int(torch.multinomial(p2.detach().cpu(), 1, generator=generator))
        gate = torch.zeros_like(p2)
        gate[active] = 1.0
        w = torch.zeros_like(p).index_put((torch.tensor(pair, device=p.device),), gate - p2.detach() + p2)
        return w, pair
    raise ValueError(mode)


def mix(w_branch: torch.Tensor, run: list, outputs: dict, zeros):
    """``sum_i w_i h_i`` over the branches that ran (``outputs``: ``{branch: tensor or None}``, None for a
    zero branch); the other branches add their (zero-valued) weight so they still get a gradient."""
    out = None
    for i in run:
        h = outputs.get(i)
        if h is None:
            continue
        term = w_branch[i] * h
        out = term if out is None else out + term
    if out is None:
        out = zeros()
    rest = [i for i in range(w_branch.numel()) if i not in run]
    if rest and w_branch.requires_grad:
        out = out + w_branch[rest].sum()        # exactly 0 in value (GDAS: 0 - p + p), not in gradient
    return out


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle, as PC-DARTS applies after each partial-channel edge."""
    n, c = x.shape[:2]
    rest = x.shape[2:]
    return x.view(n, groups, c // groups, *rest).transpose(1, 2).contiguous().view(n, c, *rest)


def partial_channels(x: torch.Tensor, k: int, run_branches, out_hw) -> torch.Tensor:
    """PC-DARTS's edge (Xu et al. 2020): the mixture runs on the first C/K channels of ``x``;
    the rest bypass it (max-pooled 2x2 where the edge reduces), and the channels are shuffled."""
    c = x.shape[1]
    head, tail = x[:, : c // k], x[:, c // k:]
    mixed = run_branches(head)
    if tuple(mixed.shape[2:]) != tuple(tail.shape[2:]):
        tail = F.max_pool2d(tail, 2, 2)
    return channel_shuffle(torch.cat([mixed, tail], dim=1), k)


__all__ = ["RELAXED", "label_weights", "mix", "channel_shuffle", "partial_channels", "gumbel_like"]
