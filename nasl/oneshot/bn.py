"""BatchNorm recalibration: running statistics that belong to one subnet.

With shared weights, a BatchNorm's running mean and variance are averaged
over every architecture trained through it, so they fit none in particular;
an inherited-weight subnet scored in eval mode with them ranks badly (SPOS is
unstable without recalibration, megvii-model/ShuffleNet-Series#9; OFA
re-estimates them, once-for-all#15). The fix both use: reset the running
statistics, run a few training batches forward in train mode without
gradients, with ``momentum=None`` so that the statistics are the cumulative
average over those batches (not an exponential average dominated by the last
one), then go back to eval mode.
"""
from __future__ import annotations

import itertools

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def batchnorms(model: nn.Module) -> list:
    """The BatchNorm layers of ``model`` that keep running statistics."""
    return [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]


def recalibrate(model: nn.Module, batches, max_batches: int | None = None, forward=None) -> int:
    """Re-estimate the running statistics of ``model``'s BatchNorms on ``batches``; returns how many
    batches ran.

    ``batches`` yields inputs, or ``(inputs, labels)`` pairs (the labels are ignored); ``max_batches``
    caps how many are used. ``forward(x)`` runs the model (default ``model(x)``; a supernet passes
    ``lambda x: sn(x, arch)``). The model ends in eval mode, each BatchNorm with its momentum as before.
    A model without BatchNorm is left as it is (and put in eval mode).
    """
    bns = batchnorms(model)
    forward = forward or model
    n = 0
    if bns:
        momenta = [m.momentum for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None               # cumulative average over the batches
        model.train()
        try:
            with torch.inference_mode():   # in-place updates of the (normal) running-statistics buffers
                for batch in itertools.islice(batches, max_batches):
                    x = batch[0] if isinstance(batch, (tuple, list)) else batch
                    forward(x)
                    n += 1
        finally:
            for m, momentum in zip(bns, momenta):
                m.momentum = momentum
    model.eval()
    return n


__all__ = ["recalibrate", "batchnorms"]
