"""What the ``eas`` and ``path_level_eas`` meta-controllers share: one REINFORCE step, and a
policy's weights and Adam moments as JSON lists, for searchers' ``state_dict``
(float32 -> Python float -> float32 is lossless, so a study resumed from the JSON continues exactly).
"""
from __future__ import annotations

import torch


def reinforce_step(opt: torch.optim.Optimizer, objective, entropies: list, entropy_weight: float) -> float:
    """One ascent step on ``objective`` (the advantage-weighted log-probabilities) plus
    ``entropy_weight`` times the mean of ``entropies``; returns the loss."""
    entropy = torch.stack(entropies).mean() if entropies else torch.zeros(())
    loss = -objective - entropy_weight * entropy
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())


def dump_state(module: torch.nn.Module, opt: torch.optim.Optimizer) -> dict:
    """``module``'s weights and ``opt``'s per-parameter state as JSON-safe lists."""
    state = opt.state_dict()
    return {"weights": {k: dump_tensor(v) for k, v in module.state_dict().items()},
            "adam": {str(i): {k: dump_tensor(v) for k, v in s.items()} for i, s in state["state"].items()}}


def load_state(module: torch.nn.Module, opt: torch.optim.Optimizer, state: dict) -> None:
    """Restore what :func:`dump_state` gave."""
    module.load_state_dict({k: undump_tensor(v) for k, v in state["weights"].items()})
    saved = opt.state_dict()
    saved["state"] = {int(i): {k: undump_tensor(v) for k, v in s.items()} for i, s in state["adam"].items()}
    opt.load_state_dict(saved)


def dump_tensor(t) -> list:
    t = torch.as_tensor(t)
    return [list(t.shape), str(t.dtype).rsplit(".", 1)[-1], t.reshape(-1).tolist()]


def undump_tensor(item) -> torch.Tensor:
    shape, dtype, flat = item
    return torch.tensor(flat, dtype=getattr(torch, dtype)).reshape(shape)
