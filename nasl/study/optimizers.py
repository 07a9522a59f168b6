"""Optimizers by name for :class:`~nasl.study.training.TrainEvaluator`: any of ``torch.optim``'s.

A name is matched case-insensitively against the optimizer classes of
``torch.optim`` (``adam``, ``adamw``, ``sgd``, ``rmsprop``, ``adagrad`` ...),
except LBFGS (it steps with a closure) and SparseAdam (sparse gradients only).
Two keep nasl's own settings: ``sgd`` is SGD with Nesterov momentum 0.9
(plain SGD trains these small networks poorly), and the default learning rate
is 0.1 for SGD and 0.01 for every other optimizer.
"""
from __future__ import annotations

import torch


# LBFGS steps with a closure and SparseAdam needs sparse gradients: neither fits a plain training step
_EXCLUDED = ("lbfgs", "sparseadam")


def _classes() -> dict:
    out = {}
    for name in dir(torch.optim):
        cls = getattr(torch.optim, name)
        if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and cls is not torch.optim.Optimizer:
            out[name.lower()] = cls
    for name in _EXCLUDED:
        out.pop(name, None)
    return out


def names() -> list[str]:
    """The accepted names, lower case, sorted."""
    return sorted(_classes())


def resolve(name) -> str:
    """The canonical (lower-case) name; ValueError for one torch does not have."""
    if not isinstance(name, str) or name.lower() not in _classes():
        raise ValueError(f"unknown optimizer {name!r}; choose one of torch.optim's: {', '.join(names())}")
    return name.lower()


def default_lr(name: str) -> float:
    return 0.1 if name == "sgd" else 1e-2


def make(name: str, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """The optimizer ``name`` over ``params``."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    return _classes()[name](params, lr=lr, weight_decay=weight_decay)
