"""The one-hot encoding of the ChoiceSpec (nasl.searchers.encoding)."""
from __future__ import annotations

import pytest

import nasl
from nasl.ir.decision_tree import Block, Choice, ChoiceSpec, Group, Guard
from nasl.searchers.encoding import OneHotEncoder
from tests.conftest import example


def _spec():
    inner = Block([Choice("b.k", "choice", (3, 5)), Choice("b.lr", "float", (1e-4, 1e-1), log=True)])
    return ChoiceSpec(Block([Choice("a", "choice", ("conv", "pool")), Group(Guard("a", frozenset({"conv"})), inner),
                             Choice("w", "int", range(8, 200, 8)), Choice("s", "subset", ("x", "y", "z"), k=2),
                             Choice("p", "permutation", ("u", "v", "w"))]))


def test_layout_and_inactive_choices_are_zero():
    enc = OneHotEncoder(_spec(), max_onehot=10)
    # a: 2, b.k: 2, b.lr: active+scaled, w (24 values > 10): active+scaled, s: 3, p: 3
    assert enc.size == 2 + 2 + 2 + 2 + 3 + 3
    x = enc({"a": "pool", "w": 8, "s": ("x", "z"), "p": ("w", "u", "v")}).tolist()
    assert x == [0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0.5, 1.0, 0.0]
    y = enc({"a": "conv", "b.k": 5, "b.lr": 1e-1, "w": 192, "s": ("x", "y"), "p": ("u", "v", "w")}).tolist()
    assert y[:8] == [1, 0, 0, 1, 1, 1.0, 1, 1.0]


def test_nb201_is_thirty_bits_with_six_ones(nb201):
    enc = OneHotEncoder(nb201.spec)
    assert enc.size == 30
    for s in range(10):
        x = enc(nb201.sample(s))
        assert x.sum() == 6 and set(x.tolist()) <= {0.0, 1.0}
    assert len({tuple(enc(a)) for a in nb201.sample(0, n=50)}) == len(set(nb201.sample(0, n=50)))


def test_recursive_space_encodes_to_fixed_length():
    sp = nasl.load(example("path_level.nas"), max_depth=2)
    enc = OneHotEncoder(sp.spec)
    assert {len(enc(sp.sample(s))) for s in range(10)} == {enc.size}


def test_unknown_paths_and_values_are_named(nb201):
    enc = OneHotEncoder(nb201.spec)
    with pytest.raises(ValueError, match="'cell.edge\\[9->9\\]' is not a choice point"):
        enc({"cell.edge[9->9]": "none"})
    with pytest.raises(ValueError, match="'conv' is not in the domain"):
        enc({"cell.edge[0->1]": "conv"})
