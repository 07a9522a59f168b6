"""One-shot checkpoints: a loop's whole state in one file, written atomically, read without running code.

A checkpoint is a ``torch.save`` of a dict of tensors, numbers, strings and
lists (:meth:`nasl.oneshot.loops.Trainer.state_dict`) plus:

- ``format`` (:data:`FORMAT`) and ``version`` (:data:`VERSION`);
- ``space``: the fingerprint of the supernet (:func:`fingerprint`: its
  space's choices and its state dict's names and shapes), so that a
  checkpoint of another space is refused before anything is loaded.

Writing goes to a temporary file in the same folder, flushed and
``os.replace``d over the old one: a kill at any instant leaves the previous
checkpoint or the new one, never half of one. Reading uses
``torch.load(weights_only=True)``: a checkpoint is data, and unpickling
anything but tensors and plain containers is refused. Every problem (no
file, not a checkpoint, damaged, another space, another mode, a newer
version) is one :class:`CheckpointError` line, raised before anything is
changed.
"""
from __future__ import annotations

import hashlib
import json
import os

import torch

from nasl.ir.errors import NaslError

FORMAT = "nasl-oneshot-checkpoint"
VERSION = 1


class CheckpointError(NaslError):
    """A one-shot checkpoint that cannot be used."""


def fingerprint(sn) -> str:
    """A hash of the supernet's space: its source text and params (as a supernet file records them,
    :func:`nasl.oneshot.saving.space_fingerprint`) and its choices. The mode is checked separately, for a
    clearer message; the weights' names and shapes when they are loaded (a bank's grow in training)."""
    from nasl.oneshot.saving import space_fingerprint
    choices = [[c.path, [repr(v) for v in c.domain]] for c in sn.space.spec.all_choices()]
    text = json.dumps([space_fingerprint(sn.space), choices], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def save(path, state: dict, sn) -> str:
    """Write ``state`` (a trainer's state dict) for ``sn`` to ``path`` atomically; returns the path."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot write the checkpoint '{path}': no folder '{folder}'")
    tmp = f"{path}.tmp{os.getpid()}"
    payload = {"format": FORMAT, "version": VERSION, "space": fingerprint(sn), **state}
    try:
        with open(tmp, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CheckpointError(f"cannot write the checkpoint '{path}': {e.strerror or e}") from None
    return path


def read(path) -> dict:
    """The checkpoint at ``path``, checked for its format and version only."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"no one-shot checkpoint at '{path}'")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - zip, pickle, EOF, the weights-only refusal: all mean "not usable"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise CheckpointError(f"'{path}' is not a readable nasl one-shot checkpoint ({type(e).__name__}: "
                              f"{first})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"'{path}' is not a nasl one-shot checkpoint (it has no '{FORMAT}' mark)")
    version = state.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f"'{path}' has checkpoint version {version!r}; this nasl reads version {VERSION}")
    missing = [k for k in ("mode", "epoch", "epochs", "model", "space", "rng", "history", "options")
               if k not in state]
    if missing:
        raise CheckpointError(f"the checkpoint '{path}' is damaged: it has no '{missing[0]}'")
    return state


def load(path, sn=None, mode: str | None = None) -> dict:
    """The checkpoint at ``path``, checked against the supernet ``sn`` (its space and weights) and ``mode``."""
    return check(read(path), path, sn, mode)


def check(state: dict, path, sn=None, mode: str | None = None) -> dict:
    """``state`` (read from ``path``) if it belongs to ``sn`` and ``mode``; CheckpointError otherwise."""
    mode = mode if mode is not None else getattr(sn, "mode", None)
    if mode is not None and state["mode"] != mode:
        raise CheckpointError(f"the checkpoint '{os.fspath(path)}' is of a '{state['mode']}' supernet, not "
                              f"'{mode}'; resume it with mode '{state['mode']}', or start a new run")
    if sn is not None and state["space"] != fingerprint(sn):
        raise CheckpointError(f"the checkpoint '{os.fspath(path)}' is from another space (its choices or its "
                              f"supernet's weights differ from this one's)")
    return state


def load_supernet(path, space, **supernet_options):
    """The supernet trained into the checkpoint at ``path``, on ``space`` (for searching it afterwards, e.g.
    with a SupernetEvaluator). It is built with the options it was trained with (recorded as
    ``supernet_options``), or ``supernet_options`` where given."""
    from nasl.oneshot import compile_supernet
    state = read(path)
    options = {**json.loads(state.get("supernet_options") or "{}"), **supernet_options}
    sn = compile_supernet(space, state["mode"], **options)
    check(state, path, sn)
    sn.load_state_dict(state["model"])
    return sn
