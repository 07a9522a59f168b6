"""Supernet checkpoint files: ``sn.save(path)`` and :func:`load_supernet`.

A checkpoint is plain data, read with ``torch.load(weights_only=True)``, so
opening one runs no code::

    {"format": "nasl-supernet", "version": 1, "mode": "bank",
     "space": <fingerprint of the space's source and params>,
     "options": {constructor options of the mode}, "state": {name: tensor},
     ...}   # what the mode adds (bank: "archs", the architectures that rebuild its modules)

A mode whose module has ``load_checkpoint(data, where)`` reads its own extra
fields; any other gets ``load_state_dict(data["state"])``. A file from
another space or another mode, or one that is not a checkpoint, is a
one-line ``NaslError``, and nothing is written.
"""
from __future__ import annotations

import hashlib
import os

from nasl.ir.errors import NaslError

FORMAT = "nasl-supernet"
VERSION = 1


def space_fingerprint(space) -> str:
    """What a checkpoint records of its space: the hash of its source text and param values."""
    from nasl.compiler.build import source_of
    text = repr((source_of(space) or repr(space.spec), sorted((k, repr(v)) for k, v in space.params.items())))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def save_checkpoint(data: dict, path) -> str:
    """``torch.save`` to a temporary file beside ``path``, then rename it over ``path``."""
    import torch
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        torch.save(data, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as e:           # torch.save reports a missing folder as RuntimeError
        why = getattr(e, "strerror", None) or str(e).splitlines()[0][:200]
        raise NaslError(f"cannot write the supernet checkpoint '{path}': {why}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_checkpoint(path) -> dict:
    """The checked contents of a checkpoint file (format and version; not yet the space)."""
    import pickle
    import zipfile

    import torch
    path = os.fspath(path)
    where = f"the supernet checkpoint '{path}'"
    if not os.path.isfile(path):
        raise NaslError(f"no supernet checkpoint at '{path}'")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, OSError,
            AttributeError, KeyError, TypeError) as e:
        why = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise NaslError(f"{where} cannot be read (corrupt, or not a checkpoint: {why})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise NaslError(f"{where} is not a nasl supernet checkpoint (saved by sn.save)")
    if data.get("version") != VERSION:
        raise NaslError(f"{where} has version {data.get('version')!r}; this nasl reads version {VERSION}")
    if not isinstance(data.get("state"), dict) or not isinstance(data.get("options", {}), dict):
        raise NaslError(f"{where} is damaged: no state dict")
    return data


def load_supernet(path, space, mode: str | None = None):
    """The supernet that ``sn.save(path)`` wrote, rebuilt on ``space`` (which must be the space it was
    trained on); ``mode``, when given, must be the checkpoint's."""
    from nasl.oneshot import MODES, compile_supernet
    data = read_checkpoint(path)
    where = f"the supernet checkpoint '{os.fspath(path)}'"
    saved = data.get("mode")
    if saved not in MODES:
        raise NaslError(f"{where} is of mode {saved!r}, which this nasl does not have")
    if mode is not None and mode != saved:
        raise NaslError(f"{where} is a '{saved}' supernet, not '{mode}'")
    if data.get("space") != space_fingerprint(space):
        raise NaslError(f"{where} was trained on another space (or other param values) than "
                        f"{getattr(space, 'name', 'this one')}")
    sn = compile_supernet(space, saved, **dict(data.get("options") or {}))
    if hasattr(sn, "load_checkpoint"):
        sn.load_checkpoint(data, where)
    else:
        try:
            sn.load_state_dict(data["state"], strict=True)
        except (RuntimeError, KeyError, TypeError) as e:
            raise NaslError(f"{where} does not fit this supernet: {str(e).splitlines()[0][:300]}") from None
    return sn.eval()


__all__ = ["space_fingerprint", "save_checkpoint", "read_checkpoint", "load_supernet", "FORMAT", "VERSION"]
