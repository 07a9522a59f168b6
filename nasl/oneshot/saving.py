"""Supernet checkpoint files: the one format that ``sn.save``, :func:`load_supernet` and the training
loops' checkpoints (:mod:`nasl.oneshot.checkpoint`) all read and write.

A checkpoint is plain data, read with ``torch.load(weights_only=True)``, so
opening one runs no code::

    {"format": "nasl-supernet", "version": 2, "mode": "bank",
     "space": <fingerprint of the space's source and params>,
     "options": {constructor options of the mode}, "state": {name: tensor},
     "trainer": {epoch, epochs, optimiser, RNG states, history, ...}}   # a training run's file only

A supernet file is a checkpoint without ``trainer``; a training run writes
the same file with it, so ``--supernet``, ``supernet:PATH`` and
:func:`load_supernet` take either. :func:`write` goes to a temporary file
beside the target, flushed and renamed over it: a kill at any instant leaves
the old file or the new one. :func:`read` also takes the two formats of
before (``nasl-supernet`` version 1, and a training loop's
``nasl-oneshot-checkpoint`` version 1), rewritten to this layout. A file from
another space or another mode, a newer version, or one that is not a
checkpoint, is a one-line :class:`CheckpointError`, and nothing is written.
"""
from __future__ import annotations

import hashlib
import json
import os

from nasl.ir.errors import NaslError

FORMAT = "nasl-supernet"
VERSION = 2
LEGACY_TRAINER_FORMAT = "nasl-oneshot-checkpoint"  # a training loop's checkpoint before version 2
_LEGACY_TOP = ("format", "version", "mode", "space", "model", "supernet", "supernet_options")


class CheckpointError(NaslError):
    """A supernet checkpoint that cannot be used."""


def space_fingerprint(space) -> str:
    """What a checkpoint records of its space: the hash of its source text and param values."""
    from nasl.compiler.build import source_of
    text = repr((source_of(space) or repr(space.spec), sorted((k, repr(v)) for k, v in space.params.items())))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _legacy_trainer_fingerprint(space) -> str:
    """The space mark of a version-1 training checkpoint: the fingerprint above and the choices, hashed."""
    choices = [[c.path, [repr(v) for v in c.domain]] for c in space.spec.all_choices()]
    text = json.dumps([space_fingerprint(space), choices], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def load_error(e: Exception) -> str:
    """The telling line of a ``load_state_dict`` error (torch's first line only names the class)."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Error(s) in loading state_dict"):
        lines = lines[1:]
    text = lines[0] if lines else type(e).__name__
    return text if len(text) <= 240 else text[:237] + "..."


def payload(sn, space, options: dict, trainer: dict | None = None) -> dict:
    """The checkpoint of supernet ``sn`` of ``space`` built with ``options``; ``trainer``: a run's state."""
    data = {"format": FORMAT, "version": VERSION, "mode": sn.mode, "space": space_fingerprint(space),
            "options": dict(options), "state": {k: v.detach().cpu() for k, v in sn.state_dict().items()}}
    if trainer is not None:
        data["trainer"] = trainer
    return data


def write(data: dict, path) -> str:
    """``torch.save`` to a temporary file beside ``path``, flushed, then renamed over ``path``."""
    import torch
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(tmp, "wb") as f:
            torch.save(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as e:           # torch.save reports a missing folder as RuntimeError
        why = getattr(e, "strerror", None) or str(e).splitlines()[0][:200]
        raise CheckpointError(f"cannot write the supernet checkpoint '{path}': {why}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


save_checkpoint = write         # the name sn.save and the study used before version 2


def read(path) -> dict:
    """The checked contents of a checkpoint file in this version's layout (not yet checked against a space)."""
    import pickle
    import zipfile

    import torch
    path = os.fspath(path)
    where = f"the supernet checkpoint '{path}'"
    if not os.path.isfile(path):
        raise CheckpointError(f"no supernet checkpoint at '{path}'")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, OSError,
            AttributeError, KeyError, TypeError) as e:
        why = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        if why.startswith("Weights only load failed"):      # torch's line goes on about its defaults
            why = "torch.load(weights_only=True) refused it: not only tensors and plain containers"
        raise CheckpointError(f"{where} cannot be read (corrupt, or not a checkpoint: {why})") from None
    if isinstance(data, dict) and data.get("format") == LEGACY_TRAINER_FORMAT:
        data = _from_legacy_trainer(data, where)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a nasl supernet checkpoint (saved by sn.save or a one-shot run)")
    version = data.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise CheckpointError(f"{where} has version {version!r}; this nasl reads versions 1 to {VERSION}")
    if not isinstance(data.get("state"), dict) or not isinstance(data.get("options", {}), dict):
        raise CheckpointError(f"{where} is damaged: no state dict")
    if not isinstance(data.get("mode"), str):
        raise CheckpointError(f"{where} is damaged: it names no mode")
    data.setdefault("options", {})
    if "trainer" in data and not isinstance(data["trainer"], dict):
        raise CheckpointError(f"{where} is damaged: its training state is not a dict")
    return data


read_checkpoint = read


def _from_legacy_trainer(old: dict, where: str) -> dict:
    """A version-1 training checkpoint (the trainer's state at the top, the supernet's as ``model``)."""
    version = old.get("version")
    if not isinstance(version, int) or version > 1:
        raise CheckpointError(f"{where} has version {version!r}; this nasl reads versions 1 to {VERSION}")
    for key in ("mode", "model", "space"):
        if key not in old:
            raise CheckpointError(f"{where} is damaged: it has no '{key}'")
    try:
        options = json.loads(old.get("supernet_options") or "{}")
    except ValueError:
        options = None
    if not isinstance(options, dict):
        raise CheckpointError(f"{where} is damaged: its supernet options are not a JSON object")
    return {"format": FORMAT, "version": 1, "mode": old["mode"], "space": old["space"], "legacy_space": True,
            "options": options, "state": old["model"],
            "trainer": {k: v for k, v in old.items() if k not in _LEGACY_TOP}}


def check(data: dict, path, space=None, mode: str | None = None, *, hint: str = "") -> dict:
    """``data`` (read from ``path``) if it is of ``mode`` and was trained on ``space``; else CheckpointError."""
    where = f"the supernet checkpoint '{os.fspath(path)}'"
    if mode is not None and data["mode"] != mode:
        raise CheckpointError(f"{where} is a '{data['mode']}' supernet, not '{mode}'{hint}")
    if space is not None:
        want = _legacy_trainer_fingerprint(space) if data.get("legacy_space") else space_fingerprint(space)
        if data.get("space") != want:
            raise CheckpointError(f"{where} was trained on another space (or other param values) than "
                                  f"{getattr(space, 'name', None) or 'this one'}")
    return data


def load_into(sn, data: dict, path) -> None:
    """Load the checkpoint's weights into ``sn`` (a bank rebuilds its modules first); nothing on a misfit."""
    where = f"the supernet checkpoint '{os.fspath(path)}'"
    if hasattr(sn, "load_checkpoint"):
        sn.load_checkpoint(data, where)
        return
    mine = {k: tuple(v.shape) for k, v in sn.state_dict().items()}
    theirs = {k: tuple(getattr(v, "shape", ())) for k, v in data["state"].items()}
    if mine != theirs:                  # checked first: load_state_dict copies what fits before it refuses
        k = sorted(set(mine) ^ set(theirs)) or [k for k in mine if mine[k] != theirs[k]]
        raise CheckpointError(f"{where} does not fit this supernet (other supernet options?): the tensor "
                              f"'{k[0]}' is missing or has another shape")
    try:
        sn.load_state_dict(data["state"], strict=True)
    except (RuntimeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{where} does not fit this supernet: {load_error(e)}") from None


def load_supernet(path, space, mode: str | None = None, **supernet_options):
    """The supernet that ``sn.save(path)`` or a one-shot run's checkpoint holds, rebuilt on ``space`` (the
    space it was trained on) with the options it was built with (``supernet_options`` override them);
    ``mode``, when given, must be the checkpoint's."""
    from nasl.oneshot import MODES, compile_supernet
    data = read(path)
    if data["mode"] not in MODES:
        raise CheckpointError(f"the supernet checkpoint '{os.fspath(path)}' is of mode {data['mode']!r}, "
                              f"which this nasl does not have")
    check(data, path, space, mode)
    sn = compile_supernet(space, data["mode"], **{**data["options"], **supernet_options})
    load_into(sn, data, path)
    return sn.eval()


__all__ = ["CheckpointError", "space_fingerprint", "payload", "write", "read", "check", "load_into",
           "load_supernet", "load_error", "save_checkpoint", "read_checkpoint", "FORMAT", "VERSION"]
