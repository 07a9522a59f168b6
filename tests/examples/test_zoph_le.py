"""examples/zoph_le.nas (Zoph & Le, ICLR 2017): the chain with anchor-point skip connections."""
from __future__ import annotations

import pytest

import nasl
from tests.conftest import example


@pytest.fixture(scope="module")
def small():
    return nasl.load(example("zoph_le.nas"), N=4)


def test_size_formula():
    # 4 heights x 4 widths x 4 filter counts per layer, and 2^j skip subsets for layer j
    assert nasl.load(example("zoph_le.nas")).size() == 64 ** 15 * 2 ** 105 == 2 ** 195
    for n in (1, 2, 5):
        assert nasl.load(example("zoph_le.nas"), N=n).size() == 64 ** n * 2 ** (n * (n - 1) // 2)
    assert nasl.load(example("zoph_le.nas"), N=3, strides=[1, 2, 3]).size() == 192 ** 3 * 2 ** 3


def test_tiny_space_enumerates_to_its_size():
    space = nasl.load(example("zoph_le.nas"), N=2)
    assert len(set(space.enumerate())) == space.size() == 64 ** 2 * 2


def _arch(space, links, **layer):
    arch = {}
    for j in range(4):
        arch.update({f"chain.node[{j}].op.filters": 24, f"chain.node[{j}].op.filter_height": 3,
                     f"chain.node[{j}].op.filter_width": 3})
        for i in range(j):
            arch[f"chain.edge[{i}->{j}]"] = (i, j) in links
    arch.update(layer)
    return space.validate(arch)


def test_unlinked_layers_read_the_image_and_loose_ends_are_concatenated(small):
    # no skips at all: four layers on the image, all four concatenated before the classifier
    g = small.realize(_arch(small, set()))
    assert g.op_counts()["rect_conv_bn_relu"] == 4
    out = [n for n, d in g.ops() if d["op"] == "concat_pad"]
    assert len(out) == 1 and len(g.inputs_of(out[0])) == 4
    # a chain 0 -> 1 -> 2 -> 3: one path, no concatenation anywhere
    g = small.realize(_arch(small, {(0, 1), (1, 2), (2, 3)}))
    assert "concat_pad" not in g.op_counts()


def test_a_layer_concatenates_the_layers_it_reads(small):
    g = small.realize(_arch(small, {(0, 2), (1, 2), (2, 3)}))
    cats = [n for n, d in g.ops() if d["op"] == "concat_pad"]
    assert len(cats) == 1 and len(g.inputs_of(cats[0])) == 2      # layer 2 reads layers 0 and 1


def test_rectangular_filters_and_filter_counts(small):
    import torch
    from nasl.compiler import compile
    arch = _arch(small, {(0, 1)}, **{"chain.node[1].op.filter_height": 7, "chain.node[1].op.filter_width": 1,
                                     "chain.node[1].op.filters": 64})
    model = compile(small, arch)
    conv = model.chain.node_1.rect_conv_bn_relu.conv
    assert conv.kernel_size == (7, 1) and conv.padding == (3, 0) and conv.out_channels == 64
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_strides_shrink_maps_and_concatenation_pads_them():
    import torch
    from nasl.compiler import compile
    space = nasl.load(example("zoph_le.nas"), N=2, strides=[1, 2, 3])
    arch = space.validate({"chain.edge[0->1]": False,
                           "chain.node[0].op.filters": 24, "chain.node[0].op.filter_height": 3,
                           "chain.node[0].op.filter_width": 3, "chain.node[0].op.stride": 3,
                           "chain.node[1].op.filters": 36, "chain.node[1].op.filter_height": 5,
                           "chain.node[1].op.filter_width": 5, "chain.node[1].op.stride": 1})
    g = space.realize(arch)
    model = compile(space, arch)
    # 11x11 (stride 3) and 32x32 maps: the smaller one is zero-padded, 24 + 36 channels
    feats = {}

    def keep(module, inputs, output):
        feats["a"] = tuple(output.shape)

    model.chain.node_0.rect_conv_bn_relu.register_forward_hook(keep)
    model(torch.randn(1, 3, 32, 32))
    assert feats["a"][2:] == (11, 11)
    cat = [n for n, d in g.ops() if d["op"] == "concat_pad"][0]
    assert len(g.inputs_of(cat)) == 2
