"""The initial values of torch's convolutions and linear layers, drawn without ``reset_parameters()``.

A copied module (:mod:`nasl.compiler.clone`) gets fresh tensors, and its leaves' ``reset_parameters()``
draws their values as their constructors would. For ``Conv2d`` and ``Linear`` that call is mostly
Python around two ``uniform_`` draws: a ``no_grad`` block, ``kaiming_uniform_``'s torch-function and
zero-size checks, its mode and gain look-ups, the fan computed from the shape, and the same again
for the bias: about half of a light NB201 network's time in ``reset_parameters`` is not the draws
(BENCHMARKS.md section 63). Both bounds depend only on the weight's shape, so :func:`bounds` works
them out once per prototype, and each copy draws ``uniform_(-bound, bound)`` on its new tensors
directly, in the same order, from the same generator: the same values, bit for bit.

That holds only while torch's ``reset_parameters()`` is the formula written here, so the first use
of each class in a process draws both ways from one seed and compares them (:func:`_same_draws`);
if they differ (a torch that changed its initialization), or the class's ``reset_parameters`` is not
the one torch shipped, :func:`bounds` returns ``None`` and the copy calls ``reset_parameters()``.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

_A = math.sqrt(5)           # the a= torch's Conv and Linear pass to kaiming_uniform_ (fan_in, leaky_relu)
_OWN_RESET = {cls: cls.reset_parameters for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)}
_verified: dict = {}        # class -> whether the draws below matched its reset_parameters()


def bounds(m: nn.Module) -> tuple | None:
    """``(weight bound, [bias bound])``: ``m``'s ``reset_parameters()`` fills each of its parameters
    (in ``_parameters`` order) from ``uniform(-bound, bound)``; ``None`` where that is not known."""
    cls = type(m)
    if _OWN_RESET.get(cls) is not getattr(cls, "reset_parameters", None):
        return None
    w, names = m._parameters.get("weight"), [k for k, p in m._parameters.items() if p is not None]
    if w is None or names not in (["weight"], ["weight", "bias"]) or w.dim() < 2 or w.numel() == 0 \
            or not w.is_contiguous():
        return None         # zero-size (kaiming_uniform_ only warns) or channels-last (a copy back)
    fan_in = w.shape[1] * math.prod(w.shape[2:])
    gain = math.sqrt(2.0 / (1 + _A ** 2))                       # calculate_gain("leaky_relu", a)
    out = (math.sqrt(3.0) * (gain / math.sqrt(fan_in)),)        # kaiming_uniform_'s bound
    if len(names) == 2:
        out += (1 / math.sqrt(fan_in),)                         # the bias's, from the same fan-in
    verified = _verified.get(cls)
    if verified is None:
        verified = _verified[cls] = _same_draws(m, out)
    return out if verified else None


def draw(p: torch.Tensor, bound: float) -> nn.Parameter:
    """A new parameter shaped as ``p``, drawn as ``reset_parameters()`` would draw it."""
    return nn.Parameter(torch.empty_like(p).uniform_(-bound, bound), p.requires_grad)


def _same_draws(m: nn.Module, out: tuple) -> bool:
    """Whether :func:`draw` with ``out`` gives what ``m.reset_parameters()`` gives from one seed."""
    ref = copy.deepcopy(m)
    params = [p for p in ref._parameters.values() if p is not None]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(20261202)
        ref.reset_parameters()
        torch.manual_seed(20261202)
        mine = [draw(p, b) for p, b in zip(params, out)]
    return all(torch.equal(a, b) for a, b in zip(params, mine))


__all__ = ["bounds", "draw"]
