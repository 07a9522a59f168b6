"""NAS-Bench-101 compiled with the official skeleton and channel rule (C=128, 3x3 cells, 10 classes)."""
from __future__ import annotations

import pytest
import torch

import nasl
from nasl.compiler import count_params
from nasl.ir.dags import nasbench101_widths
from tests.conftest import example

from nasl.formats.nb101 import README_MATRIX, README_OPS
from nasl.formats.nb101 import from_spec as nb101_arch


@pytest.fixture(scope="module")
def nb101():
    return nasl.load(example("nas_bench_101.nas"))


def test_readme_spec_has_the_official_parameter_count(nb101):
    arch = nb101_arch(README_MATRIX, README_OPS)
    model = nasl.compile(nb101, arch)
    assert sum(p.numel() for p in model.parameters()) == 2_694_282
    assert nasl.cost(nb101, arch).params == 2_694_282
    torch.manual_seed(0)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_readme_spec_follows_the_channel_rule(nb101):
    g = nb101.realize(nb101_arch(README_MATRIX, README_OPS))
    cell = "cell[1][0]"          # first cell of stack 2: 128 channels in, 256 out
    ops = {n[len(cell) + 1:]: d for n, d in g.nodes(data=True) if n.startswith(cell + ".")}
    # one 1x1 projection per vertex the input feeds, to that vertex's width (256 / 4 feeders)
    for j in (1, 2, 3, 5):
        p = ops[f"edge[0->{j}].conv_bn_relu"]
        assert (p["op"], p["params"]["c"], p["params"]["k"]) == ("conv_bn_relu", 64, 1)
    assert ops["node[1].conv_bn_relu"]["params"]["c"] == 64
    assert ops["node[4].conv_bn_relu"]["params"]["c"] == 64
    assert not any("slice" in k for k in ops)
    assert g.inputs_of(f"{cell}.node[6].concat") == [f"{cell}.node[{j}].{op}" for j, op in
                                                      ((1, "conv_bn_relu"), (2, "conv_bn_relu"),
                                                       (4, "conv_bn_relu"), (5, "max_pool"))]


def test_widths_split_the_output_and_take_the_widest_successor():
    # 2, 3 and 4 feed the output; 1 feeds 2 and 3
    present = {(0, 1), (1, 2), (1, 3), (2, 6), (3, 6), (0, 4), (4, 6)}
    live = {0, 1, 2, 3, 4, 6}
    assert nasbench101_widths(7, present, live, 128) == {6: 128, 2: 43, 3: 43, 4: 42, 1: 43}
    # 3, 4, 5 feed the output (43, 43, 42); 1 feeds 4 and 5 and takes the wider; 2 is dead
    present = {(0, 1), (1, 4), (1, 5), (0, 3), (3, 6), (4, 6), (5, 6), (2, 3)}
    widths = nasbench101_widths(7, present, {0, 1, 3, 4, 5, 6}, 128)
    assert widths == {6: 128, 3: 43, 4: 43, 5: 42, 1: 43}


@pytest.mark.parametrize("matrix,ops", [
    # vertex 3 reads only vertex 2 and feeds nothing alive: pruned
    ([[0, 1, 0, 0, 0, 0, 0],
      [0, 0, 1, 0, 0, 0, 1],
      [0, 0, 0, 1, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 1, 0],
      [0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 0]],
     ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "maxpool3x3", "output"]),
    # an input -> output edge, and uneven splits with truncation (128 = 43 + 43 + 42)
    ([[0, 1, 0, 0, 1, 0, 1],
      [0, 0, 1, 1, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0]],
     ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "maxpool3x3", "output"]),
    # only the input -> output edge: the cell is one projection
    ([[0, 0, 0, 0, 0, 0, 1]] + [[0] * 7] * 6,
     ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "maxpool3x3", "output"]),
])
def test_other_specs_compile_and_run(nb101, matrix, ops):
    arch = nb101_arch(matrix, ops)
    model = nasl.compile(nb101, arch)
    assert count_params(model) == nasl.cost(nb101, arch).params
    torch.manual_seed(0)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_dead_vertex_is_pruned_interior_edges_truncated_and_input_output_edge_projected(nb101):
    matrix = [[0, 1, 1, 0, 0, 0, 1],
              [0, 0, 0, 1, 0, 0, 1],
              [0, 0, 0, 0, 1, 0, 1],      # 2 -> 4, and 4 feeds nothing: 4 is pruned
              [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3",
           "output"]
    arch = nb101_arch(matrix, ops)
    g = nb101.realize(arch)
    cell = "cell[0][0]"
    assert not any(n.startswith((f"{cell}.node[4]", f"{cell}.node[5]", f"{cell}.edge[2->4]")) for n in g)
    # 128 over the three feeders 1, 2, 3: 43, 43, 42; 1 -> 3 keeps 42 of vertex 1's 43 channels
    assert [g.nodes[f"{cell}.node[{j}].conv_bn_relu"]["params"]["c"] for j in (1, 2, 3)] == [43, 43, 42]
    assert g.nodes[f"{cell}.edge[1->3].slice"]["params"] == {"c": 42}
    assert g.inputs_of(f"{cell}.node[3].conv_bn_relu") == [f"{cell}.edge[1->3].slice"]
    # the output: concat of 1, 2, 3 plus the input's own projection to 128 channels
    assert g.nodes[f"{cell}.edge[0->6].conv_bn_relu"]["params"] == {"c": 128, "k": 1, "stride": 1}
    assert g.inputs_of(f"{cell}.node[6].sum") == [f"{cell}.node[6].concat", f"{cell}.edge[0->6].conv_bn_relu"]
    model = nasl.compile(nb101, arch)
    assert count_params(model) == nasl.cost(nb101, arch).params
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_the_rule_needs_a_width_and_a_pruned_single_input_dag():
    for opts, msg in [('prune=true, channels="nasbench101"', "needs width=C"),
                      ('channels="nasbench101", width=8', "prune=true"),
                      ('prune=true, width=8', "goes with a channel rule"),
                      ('prune=true, channels="nb101", width=8', "unknown channel rule")]:
        src = (f"input x: [3, 8, 8]\ndef cell(c) = dag(nodes=4, {opts}) {{\n edge i -> j: optional\n"
               f" node j where j < 3: op = conv_bn_relu(c, k=3)\n node j where j == 3: merge = \"concat\"\n}}\n"
               f"network {{ return cell(8)(x) }}\n")
        with pytest.raises(nasl.NaslError, match=msg):
            nasl.loads(src)
