"""Mobile MBConv spaces of the literature: examples/proxylessnas.nas (REFERENCE.md, mobile spaces).

The presets' parameter counts are the official networks' (mit-han-lab/proxylessnas, built from
the net configs proxyless_*.config with 1000 classes).
"""
from __future__ import annotations

import json
import math
import re

import pytest
import torch

import nasl
from nasl.compiler import compile, count_params
from nasl.compiler.blocks import MBConv
from nasl.formats.presets import load_preset
from tests.conftest import example

PROXYLESS = example("proxylessnas.nas")
MBCONVS = ("mb3x3_e3", "mb3x3_e6", "mb5x5_e3", "mb5x5_e6", "mb7x7_e3", "mb7x7_e6")


def test_proxylessnas_size():
    space = nasl.load(PROXYLESS)
    # a stage's first layer changes the shape (6 MBConvs); the 15 others may also be zero
    firsts = [c for c in space.spec if c.path.endswith("[0]")]
    assert len(space.spec) == 21 and len(firsts) == 6
    assert all(tuple(c.domain) == MBCONVS for c in firsts)
    assert all(tuple(c.domain) == MBCONVS + ("zero_op",) for c in space.spec if c not in firsts)
    assert space.size() == 6 ** 6 * 7 ** 15 == 221_502_229_807_900_608


@pytest.mark.parametrize("name,params", [("proxyless_cpu", 4_361_648), ("proxyless_gpu", 7_119_848),
                                         ("proxyless_mobile", 4_080_512), ("proxyless_mobile_14", 6_857_568)])
def test_proxylessnas_presets_have_the_official_parameter_counts(name, params):
    space, arch = load_preset(PROXYLESS, name, nasl.load)
    assert count_params(compile(space, arch)) == params


def test_proxylessnas_zero_layer_keeps_the_input_and_the_residual_exists():
    space = nasl.load(PROXYLESS, stem=8, first=4, widths=[8, 12, 16, 20, 24, 28], feature=16, classes=10)
    arch = {c.path: "zero_op" if "zero_op" in c.domain else "mb3x3_e3" for c in space.spec}
    dense = {c.path: "mb3x3_e3" for c in space.spec}
    small, full = (compile(space, space.validate(a)) for a in (arch, dense))
    mbconvs = [m for m in full.modules() if isinstance(m, MBConv)]
    # the fixed first block and the 21 searched layers; a residual on the 15 that keep their shape
    assert len(mbconvs) == 22 and sum(m.residual for m in mbconvs) == 15
    assert sum(isinstance(m, MBConv) for m in small.modules()) == 1 + 6
    assert count_params(small) < count_params(full)
    model = compile(space, space.validate(arch))
    out = model(torch.randn(2, 3, 224, 224))
    assert out.shape == (2, 10)
    out.sum().backward()


def test_proxylessnas_presets_file_names_every_layer():
    data = json.loads(example("proxylessnas.presets.json").read_text())
    assert sorted(data) == ["proxyless_cpu", "proxyless_gpu", "proxyless_mobile", "proxyless_mobile_14"]
    assert all(len(p["value"]) == 21 and set(p["params"]) == {"stem", "first", "widths", "feature"}
               for p in data.values())


FBNET = example("fbnet.nas")
FBNET_BLOCKS = ("k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6", "skip")
FBNET_SMALL = dict(stem=8, widths=[8, 8, 16, 16, 24, 24, 32], final=32, classes=10)


def test_fbnet_size_and_layers():
    space = nasl.load(FBNET)
    assert len(space.spec) == 22 and all(tuple(c.domain) == FBNET_BLOCKS for c in space.spec)
    assert space.size() == 9 ** 22 == 984_770_902_183_611_232_881


def test_fbnet_blocks_group_convs_residuals_and_skips():
    space = nasl.load(FBNET, **FBNET_SMALL)
    def model(block):
        return compile(space, space.validate({c.path: block for c in space.spec}))
    g2 = model("k5_e1_g2")
    assert {m.groups for m in g2.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1)} >= {2}
    # skip: identity where the shape is kept; a 1x1 conv-BN-ReLU on the first layers of stages 1-6,
    # which change the width or the resolution (stage 0 keeps the stem's 8 channels at stride 1)
    skips = model("skip")
    convs = [m for m in skips.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 1 + 6 + 1          # stem, the shape-changing layers, the final 1x1
    out = g2(torch.randn(2, 3, 224, 224))
    assert out.shape == (2, 10)
    out.sum().backward()


@pytest.mark.parametrize("name", ["FBNet-A", "FBNet-B", "FBNet-C"])
def test_fbnet_presets_are_architectures_and_compile(name):
    space, arch = load_preset(FBNET, name, nasl.load, **FBNET_SMALL)
    assert len(arch) == 22
    compile(space, arch)(torch.randn(1, 3, 224, 224)).sum().backward()


MNASNET = example("mnasnet.nas")
MNAS_SMALL = dict(stem=8, base_widths=[8, 8, 16, 16, 24, 24, 32], final=32, classes=10)
MNAS_CHOICES = {"conv_op": ("conv", "dconv", "mbconv3", "mbconv6"), "kernel": (3, 5), "se": (0, 0.25),
                "skip_op": ("none", "identity", "pool"), "filters": (75, 100, 125), "layers": (-1, 0, 1)}


def test_mnasnet_size_is_the_papers_s_to_the_b():
    space = nasl.load(MNASNET)
    per_block = math.prod(len(v) for v in MNAS_CHOICES.values())
    assert per_block == 432                                 # the paper's S
    assert len(space.spec) == 7 * 6
    for c in space.spec:
        assert tuple(c.domain) == MNAS_CHOICES[c.path.split("[")[0]]
    assert space.size() == 432 ** 7 == 2_807_929_681_968_365_568


def _mnas(space, **block2):
    """Every block at the base (mbconv6, k3, no SE, no skip), block 2 (base width 16, 3 layers) as given."""
    base = {"conv_op": "mbconv6", "kernel": 3, "se": 0, "skip_op": "none", "filters": 100, "layers": 0}
    arch = {f"{name}[{b}]": (block2.get(name, v) if b == 2 else v) for b in range(7) for name, v in base.items()}
    return space.validate(arch)


def test_mnasnet_choices_are_shared_by_the_layers_of_a_block():
    space = nasl.load(MNASNET, **MNAS_SMALL)
    model = compile(space, _mnas(space, conv_op="conv", kernel=5, filters=125, layers=1))
    k5 = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (5, 5)]
    assert len(k5) == 4 and all(m.groups == 1 and m.out_channels == 20 for m in k5)   # 3 + 1 layers, 16 * 1.25
    model(torch.randn(1, 3, 224, 224)).sum().backward()


def test_mnasnet_skip_ops_and_squeeze_excite():
    space = nasl.load(MNASNET, **MNAS_SMALL)
    def ops(arch):
        return [d["op"] for _, d in space.realize(arch).ops()]
    none, ident, pool = (ops(_mnas(space, skip_op=s)) for s in ("none", "identity", "pool"))
    # block 2's first layer changes the width (8 -> 16): only its 2 other layers get the skip
    assert ident.count("add") - none.count("add") == 2
    assert pool.count("avg_pool") - none.count("avg_pool") == 2 and pool.count("add") == ident.count("add")
    def se_widths(arch):
        return [m.body.se.reduce.out_channels for m in compile(space, arch).modules()
                if isinstance(m, MBConv) and hasattr(m.body, "se")]
    # MnasNet's rule: a quarter of each layer's input channels (8 for the first, then 16)
    assert se_widths(_mnas(space, se=0.25)) == [2, 4, 4] and se_widths(_mnas(space)) == []
    conv_se = [d["params"]["width"] for _, d in space.realize(_mnas(space, conv_op="conv", se=0.25)).ops()
               if d["op"] == "squeeze_excite"]
    assert conv_se == [2, 4, 4]                           # the plain conv op gates with the same width
    assert ops(_mnas(space, layers=-1)).count("mbconv") == ops(_mnas(space)).count("mbconv") - 1


# tensorflow/tpu models/official/mnasnet/mnasnet_models.py, mnasnet_a1(): r repeats, k kernel, s strides,
# e expand ratio, i/o filters, se ratio, noskip
MNASNET_A1 = ["r1_k3_s11_e1_i32_o16_noskip", "r2_k3_s22_e6_i16_o24", "r3_k5_s22_e3_i24_o40_se0.25",
              "r4_k3_s22_e6_i40_o80", "r2_k3_s11_e6_i80_o112_se0.25", "r3_k5_s22_e6_i112_o160_se0.25",
              "r1_k3_s11_e6_i160_o320"]


def mnas_block_params(blocks, stem=32, head=1280, classes=1000) -> int:
    """Trainable params of the official MnasNetModel, counted by hand from its block strings: convs
    without bias, BN's scale and offset, the SE's two biased 1x1 convs, the biased fc."""
    total = 3 * 3 * 3 * stem + 2 * stem
    for block in blocks:
        o = dict(re.findall(r"([a-z]+)(\d[\d.]*)", block))
        k, e, c_out, ratio = int(o["k"]), int(o["e"]), int(o["o"]), float(o.get("se", 0))
        for j in range(int(o["r"])):
            c_in = int(o["i"]) if j == 0 else c_out
            mid = c_in * e
            total += (c_in * mid + 2 * mid if e != 1 else 0) + k * k * mid + 2 * mid + mid * c_out + 2 * c_out
            if ratio:
                r = max(1, int(c_in * ratio))
                total += mid * r + r + r * mid + mid
    return total + c_out * head + 2 * head + head * classes + classes


def test_mnasnet_a1_preset_has_the_official_params():
    space, arch = load_preset(MNASNET, "mnasnet_a1", nasl.load)
    cost = nasl.cost(space, arch)
    # the official model's count: by hand here, and asserted by osmr/imgclsmob's port (3,887,038);
    # the paper's Table 1: 3.9M params, 312M multiply-adds
    assert cost.params == mnas_block_params(MNASNET_A1) == 3_887_038 and round(cost.params / 1e6, 1) == 3.9
    assert round(cost.macs / 1e6) == 312
    model = compile(space, arch)
    assert count_params(model) == cost.params
    blocks = [m for m in model.modules() if isinstance(m, MBConv)]
    assert len(blocks) == 1 + 2 + 3 + 4 + 2 + 3 + 1
    assert [m.body.se.reduce.out_channels for m in blocks if hasattr(m.body, "se")] == [6, 10, 10, 20, 28, 28, 40, 40]
    adds = [n for n, d in space.realize(arch).ops() if d["op"] == "add"]
    assert len(adds) == 1 + 2 + 3 + 1 + 2          # MnasBlock's id_skip: every layer that keeps its shape
    model.eval()(torch.randn(1, 3, 224, 224))
