"""examples/auto_deeplab.nas, block_qnn.nas and dpp_net.nas: the seeds' last spaces, counted as their headers derive."""
from __future__ import annotations

import math
from functools import lru_cache

import pytest
import torch

import nasl
from nasl.compiler import compile
from tests.conftest import example

RATES = [4, 8, 16, 32]


@lru_cache(maxsize=None)
def trellis_paths(steps: int, level: int = 0) -> int:
    """Paths of `steps` moves of at most one level on RATES, from `level` (test-side dynamic program)."""
    if steps == 0:
        return 1
    return sum(trellis_paths(steps - 1, m) for m in (level - 1, level, level + 1) if 0 <= m < len(RATES))


def darts_like_cell(blocks: int, ops: int) -> int:
    return math.prod(math.comb(b + 1, 2) * ops ** 2 for b in range(1, blocks + 1))


def test_auto_deeplab_size():
    assert trellis_paths(12) == 75_025
    assert darts_like_cell(5, 8) == 2_700 * 8 ** 10 == 2_899_102_924_800
    assert nasl.load(example("auto_deeplab.nas")).size() == 75_025 * 2_899_102_924_800 == 217_505_196_933_120_000


def rate_path(arch: dict) -> list[int]:
    keys = sorted((k for k in arch if k.endswith(".rate")), key=len)
    return [arch[k] for k in keys]


def test_auto_deeplab_short_trellis_enumerates_to_the_walks():
    space = nasl.load(example("auto_deeplab.nas"), layers=3, B=1)
    assert space.size() == trellis_paths(3) * darts_like_cell(1, 8) == 13 * 64
    archs = list(space.enumerate())
    assert len(set(archs)) == 13 * 64
    paths = {tuple(rate_path(dict(a))) for a in archs}
    assert len(paths) == 13
    for p in paths:
        levels = [RATES.index(r) for r in (4,) + p]
        assert all(abs(b - a) <= 1 for a, b in zip(levels, levels[1:])), p


def test_auto_deeplab_segments_at_input_resolution_on_every_path():
    space = nasl.load(example("auto_deeplab.nas"), F=4, stem=8, aspp=8, image=64, layers=4, B=2)
    for arch in space.sample(1, n=4):
        model = nasl.compile(space, arch)
        assert list(model.output_shapes.values()) == [(19, 64, 64)], arch


def block_qnn_codes(max_layers: int) -> int:
    """The header's count: layer i has 8i + 2i^2 codes, summed over the depths 1..max_layers."""
    return sum(math.prod(8 * i + 2 * i * i for i in range(1, d + 1)) for d in range(1, max_layers + 1))


def test_block_qnn_size():
    assert block_qnn_codes(3) == 10 + 10 * 24 + 10 * 24 * 42 == 10_330
    assert nasl.load(example("block_qnn.nas")).size() == block_qnn_codes(23)


def test_block_qnn_small_block_enumerates_and_second_predecessor_is_conditional():
    space = nasl.load(example("block_qnn.nas"), max_layers=3)
    archs = list(space.enumerate())
    assert len(set(archs)) == space.size() == 10_330
    for a in map(dict, archs[::97]):
        for i in range(a["block.layers"]):
            binary = a[f"block.type[{i}]"] in ("add", "concat")
            assert (f"block.pred2[{i}]" in a) == binary, a
            kernels = [k for k in a if k.endswith(f"_kernel[{i}]")]
            has_kernel = a[f"block.type[{i}]"] in ("conv", "max_pool", "avg_pool")
            assert kernels == ([f"block.{a[f'block.type[{i}]']}_kernel[{i}]"] if has_kernel else []), a


def block_out_width(arch: dict) -> int:
    space = nasl.load(example("block_qnn.nas"), C=4, N=1, max_layers=3)
    model = nasl.compile(space, space.validate(arch))
    return model.linear.in_features       # the last block's output channels (16 per state there)


def test_block_qnn_output_concatenates_the_layers_no_one_reads():
    conv = {"block.type[0]": "conv", "block.conv_kernel[0]": 3, "block.pred1[0]": 0}
    # layer 2 reads the input: both layers are loose ends
    assert block_out_width({"block.layers": 2, **conv, "block.type[1]": "identity", "block.pred1[1]": 0}) == 32
    # layer 2 reads layer 1: only layer 2 is
    assert block_out_width({"block.layers": 2, **conv, "block.type[1]": "identity", "block.pred1[1]": 1}) == 16
    # add pads the narrower input: concat(0, 0) is 32 wide, add(it, input) too
    cat = {"block.type[0]": "concat", "block.pred1[0]": 0, "block.pred2[0]": 0}
    assert block_out_width({"block.layers": 2, **cat, "block.type[1]": "add", "block.pred1[1]": 1,
                            "block.pred2[1]": 0}) == 32


DPP_NORMS = ("bn_relu", "bn_only", "no_norm")
DPP_CONVS = ("conv_1x1", "conv_3x3", "group_conv_1x1", "group_conv_3x3", "learned_group_conv_1x1", "dw_conv_3x3")


def test_dpp_net_size():
    # a cell of L layers, normalization (3 kinds) and convolutional (6 kinds) in turn, normalization first
    for layers in (1, 2, 3, 4, 8):
        assert nasl.load(example("dpp_net.nas"), L=layers).size() == 3 ** ((layers + 1) // 2) * 6 ** (layers // 2)
    space = nasl.load(example("dpp_net.nas"))
    assert space.size() == 324 == len(set(space.enumerate()))
    assert [(c.path, tuple(c.domain)) for c in space.spec] == [
        ("cell.norm_layer[0]", DPP_NORMS), ("cell.conv_layer[1]", DPP_CONVS),
        ("cell.norm_layer[2]", DPP_NORMS), ("cell.conv_layer[3]", DPP_CONVS)]


@pytest.mark.parametrize("layers,convs", [
    # DenseNet-BC's layer and CondenseNet's, the blocks the paper sets its space against
    (("bn_relu", "conv_1x1", "bn_relu", "conv_3x3"), [(1, 1), (3, 1)]),
    (("bn_relu", "learned_group_conv_1x1", "bn_relu", "group_conv_3x3"), [(1, 4), (3, 4)]),
])
def test_dpp_net_cell_holds_the_densenet_and_condensenet_layers(layers, convs):
    space = nasl.load(example("dpp_net.nas"), g=8, N=1)
    arch = space.validate({c.path: v for c, v in zip(space.spec, layers)})
    model = compile(space, arch)
    cell = [m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d) and "cell" in n][:2]
    assert [(m.kernel_size[0], m.groups) for m in cell] == convs
    model(torch.randn(2, 3, 32, 32)).sum().backward()


def test_dpp_net_cells_read_every_earlier_cell_of_their_stage():
    space = nasl.load(example("dpp_net.nas"), g=4, N=3)
    graph = space.realize(space.sample(0))
    # outside the cells, the concatenations are the dense inputs of cells 1 and 2 and the stage output
    dense = [graph.in_degree(n) for n, d in graph.nodes(data=True) if d.get("op") == "concat" and "cell" not in n]
    assert dense == [2, 3, 4] * 3
