"""The steps every nasl trainer shares: one training epoch, and an evaluation pass.

:class:`~nasl.study.training.TrainEvaluator` (a trial's whole budget) and PBT's
:class:`~nasl.study.pbt_train.SegmentEvaluator` (one interval of a member) both train through
:func:`train_epoch`, so the two agree on the loss, the cosine schedule, the divergence check and,
because an inline ``--timeout`` is delivered between steps (:mod:`nasl.study.inline_timeout`),
on where a trial may be stopped.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from nasl.study import inline_timeout


def cosine_lr(base: float, step: int, total: int) -> float:
    """The cosine schedule's rate at ``step`` of ``total``: from ``base`` down to zero."""
    return 0.5 * base * (1 + math.cos(math.pi * step / total))


def train_epoch(model, opt, batches, reshape, *, lr: float, schedule: str, done: int, total: int,
                diverged) -> tuple:
    """Train ``model`` over ``batches`` with cross-entropy; ``(loss sum, samples, steps done)``.

    ``done`` is the number of steps before this epoch and ``total`` the schedule's length, both in
    steps; ``diverged(loss, step)`` words the error when a loss is not finite (``step`` counts from 1).
    """
    model.train()
    loss_sum, n = 0.0, 0
    for x, y in batches:
        if reshape is not None:
            x = x.reshape(len(x), *reshape)
        loss = F.cross_entropy(model(x), y)
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(diverged(value, done + 1))
        if schedule == "cosine":
            for group in opt.param_groups:
                group["lr"] = cosine_lr(lr, done, total)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += value * len(y)
        n += len(y)
        done += 1
        inline_timeout.checkpoint()
    return loss_sum, n, done


def evaluate(model: torch.nn.Module, batches) -> tuple:
    """``(mean cross-entropy, accuracy)`` of ``model`` in eval mode over ``(x, y)`` batches."""
    model.eval()
    loss, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in batches:
            out = model(x)
            loss += float(F.cross_entropy(out, y, reduction="sum"))
            correct += int((out.argmax(1) == y).sum())
            n += len(y)
    return loss / n, correct / n


def evaluate_reshaped(model: torch.nn.Module, batches, reshape=None) -> tuple:
    """:func:`evaluate` over batches whose inputs are first reshaped to ``(len, *reshape)`` when given."""
    if reshape is not None:
        batches = ((x.reshape(len(x), *reshape), y) for x, y in batches)
    return evaluate(model, batches)
