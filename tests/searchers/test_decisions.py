"""Choices as decision steps (nasl.searchers.decisions), and crossover / per-choice mutation."""
from __future__ import annotations

import random

import pytest

from nasl.ir.decision_tree import Block, Choice, ChoiceSpec, Group, Guard
from nasl.searchers.decisions import Decisions, uniform_pick
from nasl.searchers.recombine import crossover, mutate_each
from tests.searchers.test_protocol import space


def every_kind() -> ChoiceSpec:
    inner = Block([Choice("deep.width", "int", range(8, 2049, 8), log=True),
                   Choice("deep.order", "permutation", ("a", "b", "c"))])
    return ChoiceSpec(Block([
        Choice("op", "choice", ("conv", "pool", 1, True)),
        Choice("k", "int", range(1, 6)),
        Choice("units", "int", range(0, 1000)),
        Choice("lr", "float", (1e-4, 1e-1), log=True),
        Choice("drop", "float", (0.0, 0.5)),
        Choice("bn", "bool", (False, True)),
        Choice("skips", "subset", tuple(range(12))),
        Choice("few", "subset", ("x", "y", "z")),
        Choice("three", "subset", tuple("abcdefghij"), k=3),
        Choice("pair", "subset", tuple("abcdefgh"), k=2, ordered=True),
        Choice("perm", "permutation", tuple(range(5))),
        Group(Guard("bn", frozenset({True})), inner),
    ]))


def test_every_kind_samples_valid_values_and_encodes_back_to_its_steps():
    spec = every_kind()
    d = Decisions(spec)
    rng = random.Random(0)
    for _ in range(300):
        values, steps = d.sample(uniform_pick(rng), rng)
        assert set(values) == {c.path for c in spec.active_choices(values)}
        for c in spec.active_choices(values):
            assert c.contains(values[c.path]), (c.path, values[c.path])
        assert d.encode(values) == steps
        for s in steps:
            assert 0 <= s.action < s.arms and (s.allowed is None or s.action in s.allowed)


def test_how_each_kind_becomes_steps():
    spec = every_kind()
    d = Decisions(spec, max_arms=32, bins=8)
    modes = {c.path: d.plan(c).mode for c in spec.all_choices()}
    assert modes == {"op": "values", "k": "values", "units": "bins", "lr": "bins", "drop": "bins",
                     "bn": "values", "skips": "include", "few": "values", "three": "picks", "pair": "picks",
                     "perm": "picks", "deep.width": "bins", "deep.order": "values"}
    arch = {"op": 1, "k": 3, "units": 999, "lr": 1e-4, "drop": 0.5, "bn": False, "skips": (0, 11), "few": (),
            "three": ("b", "e", "j"), "pair": ("h", "a"), "perm": (4, 3, 2, 1, 0)}
    steps = d.encode(arch)
    by = {}
    for s in steps:
        by.setdefault(s.key.split(":")[0], []).append(s)
    assert by["op"][0].action == 2 and by["op"][0].arms == 4       # 1, not True: they are kept apart
    assert by["units"][0].action == 7 and by["lr"][0].action == 0 and by["drop"][0].action == 7
    assert [s.action for s in by["skips"]] == [1] + [0] * 10 + [1]
    assert [s.action for s in by["three"]] == [1, 4, 9]             # unordered: picks in increasing order
    assert by["three"][1].allowed == tuple(range(2, 9))
    assert [s.action for s in by["pair"]] == [7, 0]
    assert len(by["perm"]) == 4                                     # the last pick is forced, not a step


def test_bins_keep_every_value_reachable():
    spec = ChoiceSpec(Block([Choice("n", "int", range(0, 1000)), Choice("x", "float", (1.0, 100.0), log=True)]))
    d = Decisions(spec, bins=4)
    rng = random.Random(1)
    ns, xs = [], []
    for _ in range(3000):
        v, _ = d.sample(uniform_pick(rng), rng)
        ns.append(v["n"])
        xs.append(v["x"])
    assert min(ns) < 5 and max(ns) > 994 and len(set(ns)) > 900
    assert 1.0 <= min(xs) < 1.1 and 90 < max(xs) <= 100.0
    assert sum(x < 10 for x in xs) == pytest.approx(1500, rel=0.1)     # log bins: half below sqrt(1*100)


def test_forced_choices_are_not_steps_and_keys_are_stable():
    darts = space("darts").spec
    d = Decisions(darts)
    arch = space("darts").sample(0)
    keys = [s.key for s in d.encode(arch)]
    assert not any(k.startswith(("normal.node[2].inputs", "reduce.node[2].inputs")) for k in keys)  # 2 of 2: forced
    assert len(keys) == len(set(keys)) == 22
    assert keys == [s.key for s in Decisions(darts).encode(arch)]


def test_encode_rejects_an_architecture_of_another_space():
    d = Decisions(space("nb201").spec)
    with pytest.raises(ValueError, match="no value for the active choice"):
        d.encode({"x": 1})
    arch = dict(space("nb201").sample(0))
    arch["cell.edge[0->1]"] = "conv_7x7"
    with pytest.raises(ValueError, match="is not in"):
        d.encode(arch)


@pytest.mark.parametrize("sp_name", ["nb201", "darts", "path_level", "rnn_cell"])
def test_crossover_and_mutation_give_valid_children(sp_name):
    sp = space(sp_name)
    rng = random.Random(2)
    for i in range(30):
        a, b = sp.sample(2 * i), sp.sample(2 * i + 1)
        x, y = crossover(sp.spec, a, b, rng, 0.3)
        assert sp.validate(x) == x and sp.validate(y) == y
        m = mutate_each(sp.spec, a, rng, 0.2, at_least_one=True)
        assert sp.validate(m) == m and m != a


def test_crossover_swaps_units_and_mutation_rate_is_per_choice():
    sp = space("nb201")
    rng = random.Random(3)
    a, b = sp.sample(1), sp.sample(2)
    assert crossover(sp.spec, a, b, rng, 0.0) == (a, b)
    assert crossover(sp.spec, a, b, rng, 1.0) == (b, a)
    x, y = crossover(sp.spec, a, b, rng, 0.5)
    for path in a:                                  # complementary: what one child takes, the other leaves
        assert {x[path], y[path]} == {a[path], b[path]}
    assert mutate_each(sp.spec, a, rng, 0.0) == a
    m = mutate_each(sp.spec, a, rng, 1.0)
    assert all(m[p] != a[p] for p in a)


def test_crossover_moves_a_subtree_with_the_choice_that_activates_it():
    inner = Block([Choice("conv.k", "choice", (3, 5, 7))])
    spec = ChoiceSpec(Block([Choice("op", "choice", ("conv", "pool")), Group(Guard("op", frozenset({"conv"})), inner),
                             Choice("act", "choice", ("relu", "tanh"))]))
    a = {"op": "conv", "conv.k": 7, "act": "relu"}
    b = {"op": "pool", "act": "tanh"}
    rng = random.Random(0)
    seen = set()
    for _ in range(200):
        x, y = crossover(spec, a, b, rng, 0.5)
        for child in (x, y):
            if child["op"] == "conv":
                assert child["conv.k"] == 7
            seen.add(tuple(sorted(child.items())))
    assert len(seen) == 4                           # op and act exchanged independently; k follows op
