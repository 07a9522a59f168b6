"""One-shot training checkpoints: a loop's whole state, in the supernet file format of
:mod:`nasl.oneshot.saving`.

A training run's checkpoint is a supernet file (mode, space fingerprint,
supernet options, ``sn.state_dict()``) with the loop's state beside it under
``trainer`` (:meth:`nasl.oneshot.loops_base.Trainer.state_dict` less the
supernet's weights: epoch, optimiser buffers, RNG states, history). So the
file a run writes every epoch is also one that ``load_supernet``,
``--supernet`` and ``supernet:PATH`` read, and one module reads and writes
both. Writing is atomic, reading runs no code (``weights_only``), and every
problem (no file, not a checkpoint, damaged, another space, another mode, a
newer version) is one :class:`CheckpointError` line, raised before anything
is changed. This module only moves the trainer's state in and out of that
layout.
"""
from __future__ import annotations

import json
import os

from nasl.oneshot.saving import FORMAT, VERSION, CheckpointError, payload, space_fingerprint
from nasl.oneshot.saving import check as check_file
from nasl.oneshot.saving import load_supernet as load_file
from nasl.oneshot.saving import read as read_file
from nasl.oneshot.saving import write as write_file

_TRAINER_KEYS = ("epoch", "epochs", "rng", "history", "options")


def fingerprint(sn) -> str:
    """What a checkpoint records of ``sn``'s space (:func:`nasl.oneshot.saving.space_fingerprint`)."""
    return space_fingerprint(sn.space)


def save(path, state: dict, sn) -> str:
    """Write ``state`` (a trainer's state dict, with ``supernet_options`` as JSON where the run has
    them) for ``sn`` to ``path`` atomically; returns the path."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot write the checkpoint '{path}': no folder '{folder}'")
    trainer = {k: v for k, v in state.items() if k not in ("model", "supernet", "supernet_options", "mode")}
    options = json.loads(state.get("supernet_options") or "{}")
    data = payload(sn, sn.space, options, trainer)
    data["mode"] = state.get("mode", sn.mode)
    try:
        return write_file(data, path)
    except CheckpointError as e:
        raise CheckpointError(str(e).replace("the supernet checkpoint", "the checkpoint", 1)) from None


def read(path) -> dict:
    """The trainer state of the checkpoint at ``path`` (as :meth:`Trainer.state_dict` gave it, the
    supernet's weights as ``model``), checked for its format and version only."""
    data = read_file(path)
    trainer = data.get("trainer")
    if trainer is None:
        raise CheckpointError(f"'{os.fspath(path)}' is a supernet file without a training run's state: "
                              f"there is nothing to resume")
    missing = [k for k in _TRAINER_KEYS if k not in trainer]
    if missing:
        raise CheckpointError(f"the checkpoint '{os.fspath(path)}' is damaged: it has no '{missing[0]}'")
    supernet = {k: v for k, v in data.items() if k != "trainer"}
    return {**trainer, "format": data["format"], "version": data["version"], "mode": data["mode"],
            "space": data["space"], "legacy_space": data.get("legacy_space", False), "model": data["state"],
            "supernet": supernet, "supernet_options": json.dumps(data["options"])}


def load(path, sn=None, mode: str | None = None) -> dict:
    """The checkpoint at ``path``, checked against the supernet ``sn`` (its space) and ``mode``."""
    return check(read(path), path, sn, mode)


def check(state: dict, path, sn=None, mode: str | None = None) -> dict:
    """``state`` (read from ``path``) if it belongs to ``sn`` and ``mode``; CheckpointError otherwise."""
    mode = mode if mode is not None else getattr(sn, "mode", None)
    hint = f"; resume it with mode '{state['mode']}', or start a new run"
    check_file(state, path, getattr(sn, "space", None), mode, hint=hint)
    return state


def load_supernet(path, space, **supernet_options):
    """The supernet trained into the checkpoint at ``path``, on ``space`` (:func:`nasl.oneshot.saving.load_supernet`)."""
    return load_file(path, space, **supernet_options)


__all__ = ["CheckpointError", "FORMAT", "VERSION", "fingerprint", "save", "read", "load", "check", "load_supernet"]
