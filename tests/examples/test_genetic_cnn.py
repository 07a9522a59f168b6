"""examples/genetic_cnn.nas and nasl.formats.genetic (Xie & Yuille, ICCV 2017; REFERENCE.md)."""
from __future__ import annotations

import itertools
import json
import random

import pytest

import nasl
from nasl.formats import genetic
from tests.conftest import example


@pytest.fixture(scope="module")
def space():
    return nasl.load(example("genetic_cnn.nas"))


def test_cifar_setting_has_2_to_the_19_networks(space):
    assert [d.n for d in genetic.stages(space)] == [3, 4, 5]
    assert space.size() == 2 ** 19 == 524_288


def test_size_is_two_to_the_number_of_bits():
    small = nasl.load(example("genetic_cnn.nas"), K=[2, 3], widths=[4, 8])
    assert small.size() == 2 ** (1 + 3)


def test_bits_follow_the_paper_order(space):
    # stage of 4 nodes: bits (1,2), (1,3), (2,3), (1,4), (2,4), (3,4); "1-01-001" is the chain 1->2->3->4
    assert genetic.bit_pairs(4) == [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
    arch = genetic.to_arch(space, "000|1-01-001|0000000000")
    on = sorted(k for k, v in arch.items() if v)
    assert on == ["stage[1].nodes.edge[0->1]", "stage[1].nodes.edge[1->2]", "stage[1].nodes.edge[2->3]"]


def test_every_bit_string_of_a_small_space_round_trips():
    small = nasl.load(example("genetic_cnn.nas"), K=[3, 4], widths=[4, 8])
    ids = set()
    for bits in itertools.product("01", repeat=9):
        text = "".join(bits[:3]) + "-" + "".join(bits[3:])
        arch = genetic.to_arch(small, text)
        assert genetic.to_bits(small, arch) == text
        assert genetic.to_arch(small, [int(b) for b in bits]) == arch
        ids.add(arch.id)
    assert len(ids) == 2 ** 9 == small.size()


def test_sampled_architectures_round_trip(space):
    rng = random.Random(0)
    for seed in range(50):
        arch = space.sample(seed=seed)
        assert genetic.to_arch(space, genetic.to_bits(space, arch)) == arch
        bits = "".join(rng.choice("01") for _ in range(19))
        assert genetic.to_bits(space, genetic.to_arch(space, bits)).replace("-", "") == bits


def test_separators_and_per_stage_lists(space):
    a = genetic.to_arch(space, "1-01 | 1-01-001 | 1-01-001-0001")
    assert genetic.to_arch(space, "1011010011010010001") == a
    assert genetic.to_arch(space, ["101", "101001", [1, 0, 1, 0, 0, 1, 0, 0, 0, 1]]) == a
    assert genetic.from_value(space, "101-101001-1010010001") == a


def _convs(space, bits):
    return space.realize(genetic.to_arch(space, bits)).op_counts().get("conv_bn_relu", 0)


def test_default_nodes_and_isolated_nodes(space):
    # two default convs per stage; an isolated node is removed, a connected one is a conv
    assert _convs(space, "0" * 19) == 6
    assert _convs(space, "1" * 19) == 6 + 12
    assert _convs(space, "100|000000|0000000000") == 6 + 2      # stage 1: nodes 1 and 2, node 3 isolated
    g = space.realize(genetic.to_arch(space, "001|000000|0000000000")).op_counts()
    assert g["conv_bn_relu"] == 8 and g.get("sum", 0) == 0      # 2->3 only: one path, nothing to sum


def test_presets_are_architectures(space):
    presets = json.loads(example("genetic_cnn.presets.json").read_text())
    for entry in presets.values():
        assert entry["format"] == "genetic" and entry["doc"]
        genetic.from_value(space, entry["value"])
    assert _convs(space, presets["chain"]["value"]) == 6 + 12


@pytest.mark.parametrize("value,message", [
    ("1-01", "needs 3 \\+ 6 \\+ 10 = 19 bits, got 3"),
    ("1-01-2" + "0" * 16, "'2' is neither a bit nor a separator"),
    ([1, 0, 2] + [0] * 16, "2 is not a bit"),
    (["101", "101001"], "this space has 3 stages, got 2"),
    (["101", "10100", "0" * 10], "stage 1 needs 6 bits, got 5"),
    (42, "is a bit string or a list of bits, not int"),
])
def test_bad_bit_strings_are_clear_errors(space, value, message):
    with pytest.raises(nasl.InvalidArchitecture, match=message):
        genetic.to_arch(space, value)


def test_a_space_without_stages_is_refused(nb201):
    with pytest.raises(nasl.InvalidArchitecture, match="has no Genetic CNN stages"):
        genetic.to_arch(nb201, "101")
