"""Sliced forwards: a smaller op run directly on slices of its max module's own tensors.

An elastic op below its widest runs a template (:mod:`nasl.oneshot.elastic`)
on prefix/centre-crop views of the max module's tensors. Doing that through
``torch.func.functional_call`` costs, per call, a walk over the template's
state, freshly computed slice bounds and a swap of every tensor in and out
of the template: about a tenth of a small SPOS step on digits.

:func:`compile_sliced` does the work once per (max module, template) pair,
which is once per architecture plan: it turns the template into a runner
that calls ``F.conv2d(x, big.weight[idx], ...)`` (OFA's dynamic conv),
``F.linear`` and ``F.batch_norm`` on slices of the max module, with the
slice bounds (``idx``) fixed at compile time. What it caches is the plan
(which slices), never the sliced tensors: each call reads ``big.weight``
afresh, so ``functional_call(sn, params)`` (DARTS' second order, which
swaps the supernet's parameters) still sees the tensors it passes, and
gradients and BatchNorm's in-place running-statistics updates land in the
shared storage as before.

Templates of a known shape are compiled: the exact torch classes
``Conv1d/2d/3d`` (zero padding), ``Linear``, ``BatchNorm1d/2d/3d``,
``nn.Sequential`` of those, and modules without tensors (activations,
pools). Anything else (a block with its own ``forward``, OFA's kernel
transform) falls back to the ``functional_call`` path, unchanged.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

_CONV = {nn.Conv1d: F.conv1d, nn.Conv2d: F.conv2d, nn.Conv3d: F.conv3d}
_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def slice_index(have, want, kernel_dims: tuple = ()):
    """The index that takes a tensor of shape ``have`` to ``want`` (a prefix on each dimension, a
    centre crop on ``kernel_dims``), or ``None`` where the shapes are equal."""
    have, want = tuple(have), tuple(want)
    if have == want:
        return None
    if len(have) != len(want):
        raise ValueError(f"cannot slice a tensor of shape {list(have)} to {list(want)}")
    index = []
    for dim, (h, w) in enumerate(zip(have, want)):
        if w > h:
            raise ValueError(f"cannot slice a tensor of shape {list(have)} to the larger {list(want)}")
        lo = (h - w) // 2 if dim in kernel_dims and w < h else 0      # the centre of the max kernel (OFA)
        index.append(slice(lo, lo + w))
    return tuple(index)


def _take(module: nn.Module, name: str, index):
    t = getattr(module, name)           # read now: functional_call may have swapped it
    return t if index is None or t is None else t[index]


def _index(big, small, name, kernel_dims=()):
    """``(present, index)`` of tensor ``name``; ``False`` where big and small disagree on having it."""
    b, s = getattr(big, name, None), getattr(small, name, None)
    if (b is None) != (s is None):
        return False
    return b is not None, (slice_index(b.shape, s.shape, kernel_dims) if b is not None else None)


def _conv(big, small):
    if small.padding_mode != "zeros" or big.padding_mode != "zeros":
        return None
    w, b = _index(big, small, "weight", tuple(range(2, small.weight.dim()))), _index(big, small, "bias")
    if w is False or b is False:
        return None
    fn = _CONV[type(small)]
    (_, wi), (has_b, bi) = w, b
    stride, padding, dilation, groups = small.stride, small.padding, small.dilation, small.groups

    def conv(x):
        return fn(x, _take(big, "weight", wi), _take(big, "bias", bi) if has_b else None,
                  stride, padding, dilation, groups)
    return conv


def _linear(big, small):
    w, b = _index(big, small, "weight"), _index(big, small, "bias")
    if w is False or b is False:
        return None
    (_, wi), (has_b, bi) = w, b

    def linear(x):
        return F.linear(x, _take(big, "weight", wi), _take(big, "bias", bi) if has_b else None)
    return linear


def _batch_norm(big, small):
    got = [_index(big, small, n) for n in ("weight", "bias", "running_mean", "running_var")]
    if False in got or small.track_running_stats != big.track_running_stats:
        return None
    (_, wi), (_, bi), (_, mi), (_, vi) = got
    eps, track = small.eps, small.track_running_stats

    def batch_norm(x):     # _BatchNorm.forward, on slices of big's tensors and statistics
        training, momentum = big.training, big.momentum     # recalibration sets big's momentum to None
        factor = 0.0 if momentum is None else momentum
        if training and track and big.num_batches_tracked is not None:
            big.num_batches_tracked.add_(1)
            factor = 1.0 / float(big.num_batches_tracked) if momentum is None else momentum
        mean, var = _take(big, "running_mean", mi), _take(big, "running_var", vi)
        use_batch = training or (mean is None and var is None)
        keep = not training or track
        return F.batch_norm(x, mean if keep else None, var if keep else None, _take(big, "weight", wi),
                            _take(big, "bias", bi), use_batch, factor, eps)
    return batch_norm


def _stateless(big, small):
    def run(*xs):
        if small.training != big.training:
            small.train(big.training)       # Dropout and kin follow the supernet's mode
        return small(*xs)
    return run


def _sequential(big, small):
    if set(small._modules) - set(big._modules):
        return None
    steps = [_compile(big._modules[name], child) for name, child in small._modules.items()]
    if any(s is None for s in steps):
        return None

    def sequential(x):
        for step in steps:
            x = step(x)
        return x
    return sequential


def _compile(big: nn.Module, small: nn.Module):
    """A runner of ``small`` on ``big``'s sliced tensors, or ``None`` where the shape is unknown."""
    kind = type(small)
    if type(big) is not kind:
        return None
    if kind in _CONV:
        return _conv(big, small)
    if kind is nn.Linear:
        return _linear(big, small)
    if kind in _BN:
        return _batch_norm(big, small)
    if next(small.parameters(), None) is None and next(small.buffers(), None) is None:
        return _stateless(big, small)
    if kind is nn.Sequential:
        return _sequential(big, small)
    return None


class SlicedOp:
    """``small`` (a template at chosen sizes) run on ``big``'s tensors, sliced; compiled once."""

    __slots__ = ("big", "small", "run")

    def __init__(self, big: nn.Module, small: nn.Module, run):
        self.big, self.small, self.run = big, small, run

    def __call__(self, *xs):
        return self.run(*xs)


def compile_sliced(big: nn.Module, small: nn.Module):
    """The :class:`SlicedOp` of template ``small`` on ``big``'s sliced tensors, or ``None`` where
    ``small`` must go through ``functional_call`` (see the module doc)."""
    if getattr(big, "_nasl_kernel_transform", None) is not None:
        return None                     # OFA's kernel transform: its matrices act on the crop
    run = _compile(big, small)
    return SlicedOp(big, small, run) if run is not None else None


__all__ = ["SlicedOp", "compile_sliced", "slice_index"]
