"""Graph encodings (nasl.ir.encodings): BANANAS path encoding and adjacency + ops."""
from __future__ import annotations

import pytest

import nasl
from nasl.formats.nb101 import README_MATRIX, README_OPS, from_spec
from nasl.formats.nb201 import from_string
from nasl.ir.encodings import (adjacency_encoding, cell_graph, cell_max_length, cell_max_nodes, cell_ops,
                               graph_encoder, node_label, path_encoding, paths, scoped)
from tests.conftest import example

BEST_C100 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@pytest.fixture(scope="module")
def nb101():
    return nasl.load(example("nas_bench_101.nas"))


def test_nb201_vocabulary_and_path_encoding_of_a_known_cell(nb201):
    ops = cell_ops(nb201)
    assert ops == ["nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]     # none and skip carry no op
    assert cell_max_length(nb201) == 3
    g = cell_graph(nb201, from_string(BEST_C100))
    # paths 0->3 (skip: no op), 0->1->3 and 0->2->3 (two 3x3), 0->1->2->3 (three 3x3)
    assert sorted(paths(g, ops)) == [(), ("nor_conv_3x3",) * 2, ("nor_conv_3x3",) * 2, ("nor_conv_3x3",) * 3]
    x = path_encoding(g, ops, 3, counts=True)
    assert len(x) == 1 + 3 + 9 + 27 == 40
    # (c3, c3) sits at 1 + 3 + 1 + 1*3 = 8; (c3, c3, c3) at 1 + 3 + 9 + 1 + 3 + 9 = 26
    assert {i: v for i, v in enumerate(x) if v} == {0: 1.0, 8: 2.0, 26: 1.0}
    assert sum(path_encoding(g, ops, 3)) == 3


def test_nb201_with_skip_as_an_op_and_truncation(nb201):
    ops = ["skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    g = cell_graph(nb201, from_string(BEST_C100))
    assert ("skip_connect",) in paths(g, ops)
    assert len(path_encoding(g, ops, 3)) == 1 + 4 + 16 + 64
    # paths longer than max_length are dropped
    assert sorted(paths(g, ops, max_length=2)) == [("nor_conv_3x3",) * 2, ("nor_conv_3x3",) * 2, ("skip_connect",)]


def test_nb201_all_none_cell_has_no_path(nb201):
    arch = {f"cell.edge[{i}->{j}]": "none" for j in range(1, 4) for i in range(j)}
    assert paths(cell_graph(nb201, arch), cell_ops(nb201)) == []
    assert sum(path_encoding(cell_graph(nb201, arch), cell_ops(nb201), 3)) == 0


def test_nb101_readme_spec_path_encoding(nb101):
    arch = from_spec(README_MATRIX, README_OPS)
    ops = cell_ops(nb101)
    assert ops == ["conv3x3_bn_relu", "conv1x1_bn_relu", "maxpool3x3"]
    assert cell_max_length(nb101) == 5
    g = cell_graph(nb101, arch)
    assert sorted(paths(g, ops)) == [("conv1x1_bn_relu",), ("conv3x3_bn_relu",),
                                     ("conv3x3_bn_relu", "conv3x3_bn_relu"), ("maxpool3x3",)]
    x = path_encoding(g, ops, 5)
    assert len(x) == 364                        # BANANAS' NAS-Bench-101 path encoding: 3^0 + ... + 3^5
    assert [i for i, v in enumerate(x) if v] == [1, 2, 3, 4]


def test_nb101_readme_spec_adjacency_encoding(nb101):
    arch = from_spec(README_MATRIX, README_OPS)
    ops = cell_ops(nb101)
    assert cell_max_nodes(nb101) == 7
    x = adjacency_encoding(cell_graph(nb101, arch), ops, 7)
    assert len(x) == 21 + 7 * 5
    # the README matrix, upper triangle row by row
    tri = [README_MATRIX[i][j] for i in range(7) for j in range(i + 1, 7)]
    assert x[:21] == [float(v) for v in tri]
    vocab = ["input", *ops, "output"]
    labels = [vocab[x[21 + 5 * k: 26 + 5 * k].index(1.0)] for k in range(7)]
    assert labels == ["input", "conv1x1_bn_relu", "conv3x3_bn_relu", "conv3x3_bn_relu", "conv3x3_bn_relu",
                      "maxpool3x3", "output"]


def test_realized_cell_gives_the_same_paths_as_the_cell_graph(nb201):
    relabel = {"relu_conv_bn(k=1)": "nor_conv_1x1", "relu_conv_bn": "nor_conv_3x3",
               "avg_pool(padding=1)": "avg_pool_3x3"}
    for seed in range(6):
        arch = nb201.sample(seed)
        sub = scoped(nb201.realize(arch), "cell[1][2]")
        got = sorted(tuple(relabel[o] for o in p) for p in paths(sub, list(relabel)))
        assert got == sorted(paths(cell_graph(nb201, arch), cell_ops(nb201)))


def test_node_labels_leave_out_channels_and_defaults():
    assert node_label({"op": "relu_conv_bn", "params": {"c": 16, "k": 3, "stride": 1, "dilation": 1}}) == \
        "relu_conv_bn"
    assert node_label({"op": "relu_conv_bn", "params": {"c": 64, "k": 1, "stride": 1}}) == "relu_conv_bn(k=1)"


def test_an_op_outside_the_vocabulary_is_named(nb201):
    g = cell_graph(nb201, from_string(BEST_C100))
    with pytest.raises(ValueError, match="nor_conv_3x3"):
        paths(g, ["nor_conv_1x1"])
    with pytest.raises(Exception, match="no node of the graph lies under"):
        scoped(nb201.realize(nb201.sample(0)), "nowhere")


@pytest.mark.parametrize("kind, size", [("path", 40), ("adjacency", 28 + 8 * 5)])
def test_graph_encoder_for_a_searcher(nb201, darts, kind, size):
    enc = graph_encoder(nb201, kind)
    assert enc.size == size
    vecs = {tuple(enc(nb201.sample(s))) for s in range(20)}
    assert all(len(v) == size for v in vecs) and len(vecs) > 10
    d = graph_encoder(darts, kind)
    assert all(len(d(darts.sample(s))) == d.size for s in range(5))


def test_bananas_takes_a_path_encoder(nb201):
    from nasl.searchers import create
    s = create("bananas", nb201.spec, seed=0, encoder=graph_encoder(nb201, "path"), num_initial=5,
               candidates=20, epochs=20)
    for _ in range(12):
        a = s.ask()
        s.tell(a, sum(v == "nor_conv_3x3" for v in a.values()))
    assert s.num_fits >= 1
