"""The literature's numbers, reproduced by spaces written in the language."""
from __future__ import annotations

import csv

import pytest

import nasl
from nasl.data import open_text
from tests.conftest import NB201_CSV, example, nb201_arch

DARTS_CELL = """
param nodes = 4
input x: [16, 32, 32]
def none(c) = zero
def max_pool_3x3(c) = max_pool(k=3, padding=1)
def avg_pool_3x3(c) = avg_pool(k=3, padding=1)
def skip_connect(c) = identity
def sep_conv_3x3(c) = sep_conv(c, k=3)
def sep_conv_5x5(c) = sep_conv(c, k=5)
def dil_conv_3x3(c) = dil_conv(c, k=3)
def dil_conv_5x5(c) = dil_conv(c, k=5)
let OPS = [max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5]
def cell(c) = dag(inputs=2, nodes=nodes + 2, output="concat") {
    node j: inputs = pick(2), edge = choice(OPS)(c)
}
genotype normal = cell
network { return normal(16)(x, x) }
"""


def test_nb201_size_and_expression_unique(nb201):
    assert nb201.size() == 15_625
    assert nb201.count_unique("expression") == 6_466


def test_nb201_expression_keys_match_official_unique_strings(nb201):
    from nasl.ir.dags import expression_key
    info = nb201.dags[0]
    rows = list(csv.DictReader(open_text(NB201_CSV)))
    assert len(rows) == 15_625
    ours, theirs = {}, {}
    for row in rows:
        arch = nb201.validate(nb201_arch(row["ArchitectureString"]))
        key = expression_key(info, arch)
        ours.setdefault(key, set()).add(row["UniqueString"])
        theirs.setdefault(row["UniqueString"], set()).add(key)
    # the two partitions of the 15,625 cells are identical
    assert all(len(v) == 1 for v in ours.values())
    assert all(len(v) == 1 for v in theirs.values())
    assert len(ours) == 6_466


def test_nb201_without_dropping_zero_terms_is_coarser_than_identity(nb201):
    # every cell is distinct as an assignment; equivalence only merges
    assert nb201.count_unique("graph") < nb201.size()


def test_darts_cell_size():
    space = nasl.loads(DARTS_CELL)
    assert space.size() == 1_037_664_180
    assert space.size() == 180 * 7 ** 8


def test_darts_pair_is_the_square(darts):
    assert darts.size() == 1_037_664_180 ** 2


@pytest.mark.parametrize("vertices,unique", [(2, 1), (3, 7), (4, 91), (5, 2_532), (6, 64_542), (7, 423_624)])
def test_nb101_unique_graphs(vertices, unique):
    space = nasl.load(example("nas_bench_101.nas"), V=vertices)
    assert space.count_unique("graph") == unique


def test_nb101_small_size_matches_enumeration():
    space = nasl.load(example("nas_bench_101.nas"), V=5)
    archs = list(space.enumerate())
    assert len(archs) == space.size() == 22_680
    # each is valid, i.e. has an input-to-output path and at most 9 edges
    for a in archs[::997]:
        space.validate(a)


def test_enas_macro_size():
    space = nasl.load(example("enas_macro.nas"))
    assert space.size() == 6 ** 12 * 2 ** 66


def test_path_level_counts_match_enumeration():
    space = nasl.load(example("path_level.nas"), max_depth=1, N=1)
    # the root alone: none, add2, add3, concat2 over its fixed conv
    assert space.size() == 4
    assert len(set(space.enumerate())) == 4


def test_rnn_grammar_depth_one():
    space = nasl.load(example("rnn_cell.nas"), depth=1)
    # memory over 4 sources, output over 5 (c_t too): S + MM, Tanh, Sigmoid, ReLU over S
    # + Add, Mult over S^2 + Gate3 over S^3
    memory, output = 4 + 4 * 4 + 2 * 16 + 64, 5 + 4 * 5 + 2 * 25 + 125
    assert space.size() == memory * output == 23_200
