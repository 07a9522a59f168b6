"""The data a :class:`~nasl.study.training.TrainEvaluator` trains on.

Three sources are accepted: the name ``"digits"`` (the embedded default,
:mod:`nasl.study.digits`), a tuple of tensors ``(X_train, y_train, X_val,
y_val)``, or a pair of ``torch.utils.data.Dataset`` ``(train, val)`` whose
items are ``(input, label)``. Tensors are batched by indexing (fast for
small data sets); Datasets go through a ``DataLoader``. Either way the
shuffle order comes from a generator seeded by the trial, so a trial is
reproducible.
"""
from __future__ import annotations

import math

import torch

from nasl.study import digits


def check_data(data):
    """Validate a data argument; returns ``(data, input_shape, num_classes)`` (the last may be None)."""
    if isinstance(data, str):
        if data != "digits":
            raise ValueError(f"unknown data set {data!r}; the embedded one is 'digits' "
                             "(pass tensors or Datasets through the Python API for others)")
        return data, digits.INPUT_SHAPE, digits.NUM_CLASSES
    if isinstance(data, (tuple, list)) and len(data) in (4, 6) and all(isinstance(t, torch.Tensor) for t in data):
        checked, shape, classes = _check_tensors(tuple(data[:4]))
        if len(data) == 6:           # a held-out test set: checked like the others, reported, never ranked on
            test, _, test_classes = _check_tensors(tuple(data[:2]) + tuple(data[4:]), second="test")
            classes = max(classes, test_classes)
            checked = checked + test[2:]
        return checked, shape, classes
    if isinstance(data, (tuple, list)) and len(data) in (2, 3) and all(_is_dataset(d) for d in data):
        train = data[0]
        if any(len(d) == 0 for d in data):
            raise ValueError("the training, validation and test Datasets must not be empty")
        x0 = train[0][0]
        if not isinstance(x0, torch.Tensor):
            raise ValueError(f"Dataset items must be (tensor, label) pairs, got a {type(x0).__name__} input")
        return tuple(data), tuple(x0.shape), None
    raise ValueError("data must be 'digits', a tuple of tensors (X_train, y_train, X_val, y_val[, X_test, y_test]) "
                     f"or torch Datasets (train, val[, test]); got {type(data).__name__}")


def _is_dataset(d) -> bool:
    return isinstance(d, torch.utils.data.Dataset) and hasattr(d, "__len__")


def _check_tensors(data, second: str = "validation"):
    x_tr, y_tr, x_va, y_va = data
    for name, x, y in (("train", x_tr, y_tr), (second, x_va, y_va)):
        if x.ndim < 2 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"the {name} tensors must be X [N, ...] and y [N], got {tuple(x.shape)} and "
                             f"{tuple(y.shape)}")
        if len(x) == 0:
            raise ValueError(f"the {name} tensors are empty")
        if not x.is_floating_point():
            raise ValueError(f"the {name} inputs must be floating point, not {x.dtype}")
        if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise ValueError(f"the {name} labels must be integer class indices, not {y.dtype}")
        if int(y.min()) < 0:
            raise ValueError(f"the {name} labels must be class indices >= 0")
    if x_tr.shape[1:] != x_va.shape[1:]:
        raise ValueError(f"train inputs {tuple(x_tr.shape[1:])} and {second} inputs {tuple(x_va.shape[1:])} "
                         "differ in shape")
    classes = int(max(int(y_tr.max()), int(y_va.max()))) + 1
    return (x_tr, y_tr.long(), x_va, y_va.long()), tuple(x_tr.shape[1:]), classes


def dataset_classes(train) -> int:
    """Class count of a Dataset: its ``targets`` attribute if it has one, else a pass over its labels."""
    targets = getattr(train, "targets", None)
    labels = targets if targets is not None else [train[i][1] for i in range(len(train))]
    return int(torch.as_tensor(labels).max()) + 1


def materialize(data, val_fraction: float, split_seed: int, test_fraction: float = 0.0):
    """The checked data in a form for one trial: 4 or 6 tensors, or the Datasets."""
    if isinstance(data, str):
        return digits.load_digits_split(split_seed, val_fraction, test_fraction)
    return data


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in an epoch; a last batch of one example joins the one before (BatchNorm needs two)."""
    steps = math.ceil(n / batch_size)
    return steps - 1 if steps > 1 and n % batch_size == 1 else steps


def train_batches(data, batch_size: int, generator: torch.Generator, steps: int, device):
    """Up to ``steps`` shuffled training batches ``(x, y)`` on ``device``, in one pass over the data."""
    if isinstance(data[0], torch.Tensor):
        x, y = data[0], data[1]
        n = len(x)
        order = torch.randperm(n, generator=generator).to(x.device)
        full = steps_per_epoch(n, batch_size)
        for s in range(min(steps, full)):
            stop = n if s == full - 1 else (s + 1) * batch_size
            idx = order[s * batch_size:stop]
            yield x[idx], y[idx]
        return
    # the loader draws its shuffle from `generator`, in the calling process (num_workers=0)
    loader = torch.utils.data.DataLoader(data[0], batch_size=batch_size, shuffle=True, generator=generator,
                                         drop_last=len(data[0]) % batch_size == 1 and len(data[0]) > 1)
    for s, (x, y) in enumerate(loader):
        if s >= steps:
            break
        yield x.to(device), torch.as_tensor(y).long().to(device)


def train_size(data) -> int:
    return len(data[0])


def val_batches(data, batch_size: int, device):
    """The validation set in order, as batches ``(x, y)`` on ``device``."""
    if isinstance(data[0], torch.Tensor):
        x, y = data[2], data[3]
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size].to(device), y[i:i + batch_size].to(device)
        return
    loader = torch.utils.data.DataLoader(data[1], batch_size=batch_size, shuffle=False)
    for x, y in loader:
        yield x.to(device), torch.as_tensor(y).long().to(device)


def has_test(data) -> bool:
    """Whether the data holds a held-out test set (6 tensors, or 3 Datasets)."""
    return not isinstance(data, str) and len(data) in (3, 6)


def test_batches(data, batch_size: int, device):
    """The test set in order, as batches ``(x, y)`` on ``device``."""
    if isinstance(data[0], torch.Tensor):
        yield from val_batches(tuple(data[:2]) + tuple(data[4:6]), batch_size, device)
        return
    yield from val_batches((data[0], data[2]), batch_size, device)


__all__ = ["check_data", "has_test", "test_batches", "dataset_classes", "materialize", "steps_per_epoch", "train_batches", "val_batches",
           "train_size"]
