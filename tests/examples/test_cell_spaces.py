"""examples/nasnet.nas and examples/enas_micro.nas: controller-style cell spaces (REFERENCE.md).

In both, a block's two inputs are sampled independently among all earlier
states (NASNet paper; melodyguan/enas micro_controller.py), so a node at
position b (0-based) has (b+2)^2 ordered input pairs.
"""
from __future__ import annotations

import json
import math

import pytest
import torch

import nasl
from nasl.compiler import compile, count_params
from nasl.compiler.infer import infer_shapes
from tests.conftest import example

ENAS_OPS = ["sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "identity_op"]
# melodyguan/enas scripts/cifar10_micro_final.sh: 4 numbers per node (x_id, x_op, y_id, y_op), normal then reduce
ENAS_FINAL_ARC = "0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1 1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1"


def enas_arc(arc: str, nodes: int = 5) -> dict:
    """The architecture of an official ENAS micro arc string (test-side, independent of the space)."""
    xs = [int(t) for t in arc.split()]
    out = {}
    for c, cell in enumerate(["normal", "reduction"]):
        part = xs[4 * nodes * c:4 * nodes * (c + 1)]
        for b in range(nodes):
            x_id, x_op, y_id, y_op = part[4 * b:4 * b + 4]
            out[f"{cell}.node[{b + 2}].inputs"] = (x_id, y_id)
            out[f"{cell}.node[{b + 2}].edge[0]"] = ENAS_OPS[x_op]
            out[f"{cell}.node[{b + 2}].edge[1]"] = ENAS_OPS[y_op]
    return out


def test_nasnet_size():
    per_cell = math.prod((b + 2) ** 2 * 13 ** 2 * 2 for b in range(5))
    assert per_cell == 720 ** 2 * 13 ** 10 * 2 ** 5 == 2_286_906_949_584_691_200
    assert nasl.load(example("nasnet.nas")).size() == per_cell ** 2


def test_enas_micro_size():
    per_cell = math.prod((b + 2) ** 2 * 5 ** 2 for b in range(5))
    assert per_cell == 720 ** 2 * 5 ** 10 == 5_062_500_000_000
    assert nasl.load(example("enas_micro.nas")).size() == per_cell ** 2


@pytest.mark.parametrize("name,per_cell", [("nasnet.nas", 2 * 2 * 13 * 13 * 2), ("enas_micro.nas", 2 * 2 * 5 * 5)])
def test_one_block_sizes_match_enumeration(name, per_cell):
    space = nasl.load(example(name), B=1)
    assert space.size() == per_cell ** 2
    if per_cell ** 2 <= 20_000:
        assert len(set(space.enumerate())) == per_cell ** 2


def test_a_block_may_read_one_state_twice_and_order_matters():
    space = nasl.load(example("enas_micro.nas"), C=4, L=3, B=2)
    c = space.spec["normal.node[3].inputs"]
    assert c.cardinality() == 9 and (2, 2) in set(c.values()) and (0, 1) in set(c.values())
    assert (1, 0) in set(c.values())


def test_enas_final_arc_is_the_preset_and_compiles():
    space = nasl.load(example("enas_micro.nas"))
    arch = space.validate(enas_arc(ENAS_FINAL_ARC))
    preset = json.loads(example("enas_micro.presets.json").read_text())["ENAS"]
    assert preset["format"] == "arch" and space.validate(preset["value"]) == arch
    # our build of the official arc at C=36, L=15 (the paper's 4.6M is its TF network; see the file header)
    assert count_params(compile(space, arch)) == 3_894_372


def test_enas_reduction_cell_concatenates_its_loose_ends():
    space = nasl.load(example("enas_micro.nas"), C=4, L=3)
    arch = space.validate(enas_arc(ENAS_FINAL_ARC))
    shapes = {n: d for n, d in space.realize(arch).nodes(data=True)}
    cats = [n for n in shapes if n.startswith("reduction") and n.endswith("out.concat")]
    # node 3 is read by node 4, so nodes 2, 4, 5, 6 are concatenated
    assert cats and len(space.realize(arch).inputs_of(cats[0])) == 4


def test_nasnet_combine_is_add_or_concat():
    space = nasl.load(example("nasnet.nas"), C=4, N=1, B=2)
    assert tuple(space.spec["normal.node[2].merge.combine"].domain) == ("add", "concat_conv")


def test_enas_cells_concatenate_unread_inputs():
    # normal cell: every node reads input 0 only, so input 1 (the previous cell) joins the loose ends;
    # reduction cell: nodes read input 1 only, so input 0 is reduced to size and concatenated
    space = nasl.load(example("enas_micro.nas"), C=4, L=3, B=2)
    arch = {}
    for cell, src in (("normal", 0), ("reduction", 1)):
        arch[f"{cell}.node[2].inputs"] = (src, src)
        arch[f"{cell}.node[3].inputs"] = (src, 2)
        for j in (2, 3):
            arch[f"{cell}.node[{j}].edge[0]"] = "sep_conv_3x3"
            arch[f"{cell}.node[{j}].edge[1]"] = "identity_op"
    arch = space.validate(arch)
    g = space.realize(arch)
    outs = {n: g.inputs_of(n) for n, d in g.ops() if d["op"] == "concat" and n.endswith("out.concat")}
    normal = [ins for n, ins in outs.items() if n.startswith("normal")]
    reduction = [ins for n, ins in outs.items() if n.startswith("reduction")]
    assert normal and all(len(ins) == 2 for ins in normal)          # node 3 and input 1
    assert reduction and all(len(ins) == 2 for ins in reduction)    # node 3 and input 0, reduced
    assert any("in[0].factorized_reduce" in i for ins in reduction for i in ins)
    model = compile(space, arch)
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


PNAS_OPS = ["identity_op", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7", "conv_1x7_7x1", "avg_pool_3x3",
            "max_pool_3x3", "dil_conv_3x3"]


def test_pnas_size():
    per_cell = math.prod((b + 1) ** 2 * 8 ** 2 for b in range(1, 6))
    assert per_cell == 720 ** 2 * 8 ** 10 == 556_627_761_561_600
    space = nasl.load(example("pnas.nas"))
    assert space.size() == per_cell          # one cell for normal and reduction layers
    assert {c.path.split(".")[0] for c in space.spec} == {"cell"}
    assert all(tuple(space.spec[f"cell.node[{j}].edge[{e}]"].domain) == tuple(PNAS_OPS)
               for j in range(2, 7) for e in (0, 1))


def test_pnas_one_block_enumerates_to_the_papers_b1():
    space = nasl.load(example("pnas.nas"), B=1)
    assert space.size() == 256 == len(set(space.enumerate()))     # |B_1| = 256 in the paper


def test_pnasnet5_preset_is_the_tf_cell_and_reduces_twice():
    space = nasl.load(example("pnas.nas"), C=4, N=1)
    preset = json.loads(example("pnas.presets.json").read_text())["pnasnet5"]
    arch = space.validate(preset["value"])
    assert arch["cell.node[6].inputs"] == (0, 1) and arch["cell.node[6].edge[1]"] == "identity_op"
    assert arch["cell.node[5].inputs"] == (4, 1)
    model = compile(space, arch)
    # 3N = 3 cells; the 2nd and 3rd are the same cell at stride 2; the output concatenates 5 blocks
    g = space.realize(arch)
    shapes = infer_shapes(g)
    cells = [tuple(shapes[f"cell[{i}].out.concat"]) for i in range(3)]
    assert cells == [(20, 32, 32), (40, 16, 16), (80, 8, 8)]
    # the reduction is inside the cell: strided ops on the edges from the cell inputs, none outside it
    strided = sorted((n.split(".")[0], d["op"]) for n, d in g.ops() if d["params"].get("stride") == 2)
    # per reduction layer: node 2's sep 5x5 and max pool, node 3's sep 7x7 and max pool, node 4's two seps,
    # node 5's max pool (its sep reads node 4), node 6's sep and its identity (a strided 1x1 conv)
    per_cell = sorted(["sep_conv"] * 5 + ["max_pool"] * 3 + ["relu_conv_bn"])
    assert [op for cell, op in strided if cell == "cell[1]"] == per_cell
    assert [op for cell, op in strided if cell == "cell[2]"] == per_cell
    # the one factorized reduction brings cell 2's s0 (cell 0's output, at 32x32) to 16x16
    assert [n for n, d in g.ops() if d["op"] == "factorized_reduce"] == ["pre0[2].factorized_reduce"]
    model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


# chenxi116/PNASNet.pytorch genotypes.py: TF-slim's PNasNetNormalCell as (op, input) pairs, written out
# here independently of the preset (0 = the cell before the previous one, 1 = the previous one)
PNASNET5 = [("sep_conv_5x5", 0), ("max_pool_3x3", 0), ("sep_conv_7x7", 1), ("max_pool_3x3", 1),
            ("sep_conv_5x5", 1), ("sep_conv_3x3", 1), ("sep_conv_3x3", 4), ("max_pool_3x3", 1),
            ("sep_conv_3x3", 0), ("skip_connect", 1)]


def test_pnasnet5_has_the_papers_cifar_params():
    """PNAS Table 1: PNASNet-5 on CIFAR-10 at N=3, F=48 has 3.2M params (no auxiliary head)."""
    from nasl.formats.presets import load_preset
    from tests.examples.darts_reference import DartsCifar, count_params as torch_params
    from nasl.formats.darts import Genotype

    space, arch = load_preset(example("pnas.nas"), "pnasnet5", nasl.load)
    assert (space.params["N"], space.params["C"]) == (3, 48)
    ours = count_params(compile(space, arch))
    assert ours == 3_176_602 and round(ours / 1e6, 1) == 3.2
    # a second, hand-written construction: the DARTS NetworkCIFAR skeleton at 3N = 9 cells with the
    # TF-slim strided identity
    genotype = Genotype(PNASNET5, [2, 3, 4, 5, 6], PNASNET5, [2, 3, 4, 5, 6])
    assert torch_params(DartsCifar(genotype, c=48, layers=9, strided_skip="conv")) == ours


ROBNET_OPS = ("zero_op", "sep_conv_3x3", "identity_op", "res_sep_conv")


def test_robnet_cell_based_and_cell_free_sizes():
    shared = nasl.load(example("robnet.nas"))
    assert len(shared.spec) == 14 and all(tuple(c.domain) == ROBNET_OPS for c in shared.spec)
    assert shared.size() == 4 ** 14 == 268_435_456
    free = nasl.load(example("robnet_free.nas"))
    assert len(free.spec) == 14 * 20
    assert free.size() == (4 ** 14) ** 20 == 2 ** 560


@pytest.mark.parametrize("name,preset", [("robnet.nas", "RobNet-large-v1"), ("robnet_free.nas", "RobNet-free")])
def test_robnet_presets_compile(name, preset):
    from nasl.formats.presets import load_preset
    space, arch = load_preset(example(name), preset, nasl.load, C=4, layers=20)
    model = compile(space, arch)
    model(torch.randn(2, 3, 32, 32)).sum().backward()


def test_robnet_residual_sep_conv_is_both_branches_and_reduces_with_stride():
    space = nasl.load(example("robnet_free.nas"), C=4, layers=3)
    arch = space.validate({c.path: "res_sep_conv" for c in space.spec})
    ops = [d["op"] for _, d in space.realize(arch).ops()]
    # 14 edges per cell, each a sep_conv plus an identity; in the 2 reduction cells (layers 1 and 2)
    # the identity of the 4 nodes' 2 edges from s0 and s1 is a factorized reduction, and so is
    # cell 2's pre0 (it follows a reduction cell)
    assert ops.count("sep_conv") == 3 * 14
    assert ops.count("factorized_reduce") == 2 * 4 * 2 + 1
    shapes = infer_shapes(space.realize(arch))
    assert tuple(shapes["cell[2].out.concat"]) == (4 * 16, 8, 8)
