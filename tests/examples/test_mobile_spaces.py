"""Mobile MBConv spaces of the literature: examples/proxylessnas.nas (REFERENCE.md, mobile spaces).

The presets' parameter counts are the official networks' (mit-han-lab/proxylessnas, built from
the net configs proxyless_*.config with 1000 classes).
"""
from __future__ import annotations

import json

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
