"""The embedded digits data set and the bundled default space (issue 6, evaluators)."""
from __future__ import annotations

import os

import pytest
import torch

import nasl
from nasl.study import default_space_path
from nasl.study.digits import load_digits_split


def test_split_shapes_and_scale():
    x_tr, y_tr, x_va, y_va = load_digits_split()
    assert tuple(x_tr.shape) == (1437, 1, 8, 8) and tuple(x_va.shape) == (360, 1, 8, 8)
    assert x_tr.dtype == torch.float32 and y_tr.dtype == torch.int64
    assert float(x_tr.min()) == 0.0 and float(x_tr.max()) == 1.0
    assert sorted(torch.cat([y_tr, y_va]).unique().tolist()) == list(range(10))


def test_split_is_stratified():
    _, y_tr, _, y_va = load_digits_split(seed=3, val_fraction=0.25)
    everything = torch.bincount(torch.cat([y_tr, y_va]), minlength=10).double()
    val = torch.bincount(y_va, minlength=10).double()
    # each class keeps its share of the validation set, to within one image
    assert torch.all((val - everything * len(y_va) / everything.sum()).abs() <= 1.0)


def test_split_is_deterministic_under_its_seed():
    a, b, c = load_digits_split(seed=1), load_digits_split(seed=1), load_digits_split(seed=2)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[3], c[3])


def test_split_returns_fresh_tensors():
    x_tr = load_digits_split()[0]
    x_tr.zero_()                                   # the caller's tensors are its own
    assert float(load_digits_split()[0].max()) == 1.0


@pytest.mark.parametrize("kw, message", [({"val_fraction": 0}, "between 0 and 1"),
                                         ({"val_fraction": 1.5}, "between 0 and 1"),
                                         ({"val_fraction": 0.001}, "cannot split"),
                                         ({"seed": "a"}, "seed must be an int")])
def test_split_bad_arguments(kw, message):
    with pytest.raises(ValueError, match=message):
        load_digits_split(**kw)


def test_default_space_is_bundled():
    path = default_space_path()
    assert os.path.isfile(path) and path.endswith(os.path.join("nasl", "spaces", "digits.nas"))
    space = nasl.load(path)
    # 5 ops on each of the 6 cell edges, 3 widths, 3 depths
    assert space.size() == 5 ** 6 * 3 * 3 == 140625
    assert space.params == {"classes": 10}
    model = nasl.compile(space, space.sample(0))
    assert model.input_shapes == {"x": (1, 8, 8)} and list(model.output_shapes.values()) == [(10,)]
