"""A new choice kind in one module (tests/ir/ratio_kind.py) works everywhere without other edits.

Sampling, counting, validation, JSON, the encoders, every registered
searcher and the Optuna adapter dispatch on the choice's class, so the
``ratio`` kind, which defines only its values, its text and its JSON
domain, needs nothing else.
"""
from __future__ import annotations

import json
import random

import pytest

from nasl.ir.architecture import Architecture
from nasl.ir.decision_tree import Block, Choice, ChoiceSpec, Group, Guard
from nasl.ir.errors import InvalidArchitecture
from nasl.ir.space import Space
from nasl.searchers import Exhausted, create, list_searchers
from nasl.searchers.decisions import Decisions, uniform_pick
from nasl.searchers.encoding import OneHotEncoder
from tests.ir.ratio_kind import Ratio
from tests.searchers.test_protocol import FAST, drive

# 1/2, 1/3, 2/3, 1/4, 3/4 (2/4 is 1/2)
RATIOS = (0.25, 1 / 3, 0.5, 2 / 3, 0.75)


def spec() -> ChoiceSpec:
    # a ratio, a choice of op, and a width that exists only when the ratio is 1/2
    return ChoiceSpec(Block([
        Choice("keep", "ratio", 4),
        Choice("op", "choice", ("conv", "pool")),
        Group(Guard("keep", frozenset({0.5})), Block([Choice("width", "int", range(1, 4))])),
    ]))


def space() -> Space:
    return Space(spec(), [], {})


def test_the_kind_is_its_class_and_counts_its_values():
    c = spec()["keep"]
    assert type(c) is Ratio and c.kind == "ratio"
    assert tuple(c.values()) == RATIOS and c.cardinality() == 5
    assert c.contains(0.5) and not c.contains(0.6) and not c.contains("1/2")
    # 4 ratios with two ops, and 1/2 with two ops and three widths
    assert space().size() == 4 * 2 + 2 * 3


def test_sampling_draws_every_architecture_uniformly():
    archs = space().sample(seed=0, n=2800)
    counts: dict = {}
    for a in archs:
        counts[a.to_json()] = counts.get(a.to_json(), 0) + 1
    assert len(counts) == 14
    assert all(140 < n < 260 for n in counts.values()), counts       # 200 each expected


def test_json_forms():
    c = spec()["keep"]
    assert c.to_dict() == {"path": "keep", "kind": "ratio", "domain": 4, "hints": []}
    json.dumps(spec().to_list())
    a = space().sample(seed=3)
    assert Architecture.from_json(a.to_json()) == a
    with pytest.raises(InvalidArchitecture, match=r"'keep' = 0.6 is not in ratio\(max_denominator=4\)"):
        space().validate({"keep": 0.6, "op": "conv"})


def test_encoders_and_decisions_treat_it_as_a_list_of_values():
    enc = OneHotEncoder(spec())
    assert enc.size == 5 + 2 + 3
    assert enc({"keep": 0.5, "op": "pool", "width": 2}).tolist() == [0, 0, 1, 0, 0, 0, 1, 0, 1, 0]
    d = Decisions(spec())
    assert d.plan(spec()["keep"]).mode == "values"
    rng = random.Random(1)
    for _ in range(50):
        values, steps = d.sample(uniform_pick(rng), rng)
        assert values["keep"] in RATIOS and d.encode(values) == steps


@pytest.mark.parametrize("name", list_searchers())
def test_every_searcher_proposes_valid_architectures(name):
    if name == "optuna":
        pytest.importorskip("optuna")
    sp = space()
    options = dict(FAST.get(name, {}))
    if name == "n2n":
        # n2n compresses a teacher along its depth and width choices only, found by name; here the new
        # kind is the one it may shrink
        options["shrinkage"] = ["keep"]
    if name == "eas":
        # eas widens along the width choices it is given (found by name otherwise); here the new kind
        options["widths"] = ["keep"]
    s = create(name, sp.spec, seed=0, **options)
    try:
        archs = drive(s, 24, fail_every=5, lag=1)
    except Exhausted:
        return      # an exhaustive searcher may run out of a space of 14 (test_protocol checks that)
    assert archs
    for a in archs:
        assert sp.validate(a) == a
    assert len({a["keep"] for a in archs}) > 1, "the searcher never varied the new kind"


def test_optuna_sees_a_categorical_over_its_values():
    pytest.importorskip("optuna")
    from nasl.searchers.optuna_adapter import _layout
    params, decode, encode = _layout(spec()["keep"], ordinal=False)
    assert params == [("keep", "categorical", (0, 1, 2, 3, 4))]       # floats that are not the kind's plain list
    assert decode([3]) == 2 / 3 and encode(0.75) == [4]
    params, decode, _ = _layout(spec()["keep"], ordinal=True)        # CMA-ES: an ordinal index
    assert params == [("keep", "int", (0, 4, 1, False))] and decode([0]) == 0.25
