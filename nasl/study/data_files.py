"""One's own data for the training evaluator: a ``.npz`` file, or ``module:function``.

``--data PATH.npz`` (``evaluator_options={"data": "PATH.npz"}`` in Python)
reads NumPy arrays with these keys (``allow_pickle=False``: a data file
runs no code):

- ``x_train`` ``[N, ...]`` float inputs, channels first (``[N, C, H, W]``
  for images), ``y_train`` ``[N]`` integer class labels 0..K-1;
- ``x_val``, ``y_val`` (optional): the validation set the search ranks on;
  without them ``val_fraction`` of the training set is held out (seeded by
  ``split_seed``);
- ``x_test``, ``y_test`` (optional): a held-out test set, reported as
  ``test_accuracy`` and never used to rank.

``--data MODULE:FUNCTION`` calls ``FUNCTION()`` of a module (a dotted name or
a ``.py`` path) that returns the same thing as a dict with those keys, or a
tuple ``(x_train, y_train, x_val, y_val[, x_test, y_test])`` of tensors or
arrays, or ``(train, val[, test])`` Datasets of ``(input, label)`` items.
A study file records the reference, not the data: on resume a ``.npz`` is
read again, and a module is imported again only when ``--data`` names it
again or with ``--trust`` (:mod:`nasl.study.trust`).
"""
from __future__ import annotations

import os
import shlex

from nasl.ir.errors import NaslError

KEYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def is_module_ref(ref) -> bool:
    """A ``module:function`` reference (code), as opposed to a ``.npz`` path (data)."""
    return isinstance(ref, str) and not ref.lower().endswith(".npz") and ":" in ref.strip(":")


def check_ref(ref) -> str:
    """A well-formed data reference, else a one-line NaslError."""
    if not isinstance(ref, str) or not ref.strip():
        raise NaslError("data is a .npz path or MODULE:FUNCTION")
    if ref.lower().endswith(".npz") or is_module_ref(ref):
        return ref
    raise NaslError(f"data '{ref}' is neither a .npz file (x_train, y_train[, x_val, y_val, x_test, y_test]) "
                    f"nor MODULE:FUNCTION")


def normalize(ref: str) -> str:
    """The reference as recorded: a file path (``.npz``, or a module's ``.py``) made absolute, so that
    resuming from another folder reads the same file."""
    ref = check_ref(ref)
    if not is_module_ref(ref):
        return os.path.abspath(ref)
    module, _, func = ref.rpartition(":")
    if module.endswith(".py") or os.sep in module:
        return f"{os.path.abspath(module)}:{func}"
    return ref


def approve(source: str, recorded: str, given, trust: bool) -> None:
    """A recorded ``module:function`` data reference runs code: the user names it again, or trusts."""
    if not is_module_ref(recorded) or trust or (given is not None and normalize(given) == recorded):
        return
    raise NaslError(f"{source} asks to import the data module of {recorded!r}; importing runs its code, so "
                    f"nasl does not do it for a file alone. If you trust it, name it again: "
                    f"--data {shlex.quote(recorded)} (evaluator_options={{'data': ...}}); or pass --trust (trust=True)")


def load(ref: str, val_fraction: float = 0.2, split_seed: int = 0):
    """``(x_train, y_train, x_val, y_val[, x_test, y_test])`` tensors, or ``(train, val[, test])`` Datasets."""
    check_ref(ref)
    if is_module_ref(ref):
        return _from_module(ref, val_fraction, split_seed)
    return _from_npz(ref, val_fraction, split_seed)


def _from_npz(path: str, val_fraction: float, split_seed: int):
    import numpy as np
    if not os.path.isfile(path):
        raise NaslError(f"no data file '{path}'")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError) as e:
        raise NaslError(f"cannot read the data file '{path}': {e}") from None
    return _from_dict(arrays, f"the data file '{path}'", val_fraction, split_seed)


def _from_module(ref: str, val_fraction: float, split_seed: int):
    from nasl.loader import load_object
    module, _, func = ref.rpartition(":")
    try:
        fn = load_object(module, func, "evaluator")
    except NaslError as e:
        raise NaslError(e.message.replace("has no evaluator", "has no data function")) from None
    if not callable(fn):
        raise NaslError(f"data '{ref}' is not callable")
    try:
        value = fn()
    except Exception as e:  # noqa: BLE001 - the user's function failed, not nasl
        raise NaslError(f"data function '{ref}' failed: {type(e).__name__}: {e}") from None
    where = f"data function '{ref}'"
    if isinstance(value, dict):
        return _from_dict(value, where, val_fraction, split_seed)
    if isinstance(value, (tuple, list)) and len(value) in (2, 3) and all(_is_dataset(v) for v in value):
        return tuple(value)
    if isinstance(value, (tuple, list)) and len(value) in (4, 6):
        return _from_dict(dict(zip(KEYS, value)), where, val_fraction, split_seed)
    raise NaslError(f"{where} returned {type(value).__name__}; expected a dict with keys {', '.join(KEYS)}, "
                    f"a tuple (x_train, y_train, x_val, y_val[, x_test, y_test]) or Datasets (train, val[, test])")


def _is_dataset(d) -> bool:
    import torch
    return isinstance(d, torch.utils.data.Dataset) and hasattr(d, "__len__")


def _from_dict(arrays: dict, where: str, val_fraction: float, split_seed: int):
    import torch
    unknown = sorted(set(arrays) - set(KEYS))
    if unknown:
        raise NaslError(f"{where} has an unknown array '{unknown[0]}'; the keys are {', '.join(KEYS)}")
    for a, b in (("x_train", "y_train"), ("x_val", "y_val"), ("x_test", "y_test")):
        if (a in arrays) != (b in arrays):
            raise NaslError(f"{where} has '{a if a in arrays else b}' without '{b if a in arrays else a}'")
    if "x_train" not in arrays:
        raise NaslError(f"{where} has no 'x_train' and 'y_train'")
    t = {}
    for k, v in arrays.items():
        try:
            t[k] = torch.as_tensor(v)
        except (TypeError, ValueError, RuntimeError) as e:
            raise NaslError(f"{where}: '{k}' is not a numeric array ({e})") from None
        if k.startswith("x"):
            t[k] = t[k].float()            # float64 arrays (NumPy's default) train as float32
    if "x_val" not in arrays:
        t["x_train"], t["y_train"], t["x_val"], t["y_val"] = _split(t["x_train"], t["y_train"], where,
                                                                    val_fraction, split_seed)
    return tuple(t[k] for k in KEYS if k in t)


def _split(x, y, where: str, val_fraction: float, seed: int):
    import torch
    n = len(x)
    n_val = round(n * val_fraction)
    if len(y) != n or n_val < 1 or n_val >= n:
        raise NaslError(f"{where}: cannot hold out val_fraction={val_fraction} of {n} training examples "
                        f"(give x_val and y_val)")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


__all__ = ["load", "check_ref", "approve", "is_module_ref", "KEYS"]
