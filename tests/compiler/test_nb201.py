"""NAS-Bench-201 compiled with the official skeleton (C=16, N=5, 10 classes)."""
from __future__ import annotations

import io

import pytest
import torch

import nasl
from nasl.compiler import compile, count_params
from tests.conftest import nb201_arch

BEST_C100 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def uniform(op: str) -> str:
    return f"|{op}~0|+|{op}~0|{op}~1|+|{op}~0|{op}~1|{op}~2|"


# REFERENCE.md, counts from the official code (CIFAR-10)
OFFICIAL = [
    (uniform("nor_conv_3x3"), 1_531_546),
    (BEST_C100, 1_288_506),
    (uniform("none"), 73_306),
    (uniform("skip_connect"), 73_306),
    ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|", 559_386),
]


@pytest.mark.parametrize("arch,params", OFFICIAL)
def test_parameter_counts_equal_the_official_ones(nb201, arch, params):
    assert count_params(compile(nb201, nb201_arch(arch))) == params


def test_cifar100_head(tmp_path):
    space = nasl.load("examples/nas_bench_201.nas", classes=100)
    assert count_params(compile(space, nb201_arch(BEST_C100))) == 1_294_356


@pytest.fixture(scope="module")
def best(nb201):
    torch.manual_seed(0)
    return compile(nb201, nb201_arch(BEST_C100))


def test_forward_gives_logits(best):
    assert best(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert best.output_shapes == {"output": (10,)}


def test_state_dict_keys_are_stable_and_readable(nb201):
    a = compile(nb201, nb201_arch(BEST_C100))
    b = compile(nb201, nb201_arch(BEST_C100))
    assert list(a.state_dict()) == list(b.state_dict())
    keys = list(a.state_dict())
    assert keys[0] == "conv.weight"
    assert "cell_0_0.edge_0_1.relu_conv_bn.conv.weight" in keys
    assert "resblock_1.conv.weight" in keys and keys[-1] == "linear.bias"


def test_state_dict_round_trip_gives_the_same_outputs(nb201, best):
    buf = io.BytesIO()
    torch.save(best.state_dict(), buf)
    other = compile(nb201, nb201_arch(BEST_C100))
    buf.seek(0)
    other.load_state_dict(torch.load(buf))
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(best.eval()(x), other.eval()(x))


def test_generated_code_is_straight_line(best):
    code = best.code
    assert "for " not in code and "while " not in code
    assert "self.cell_0_0.edge_0_1.relu_conv_bn(bn)" in code
    assert "cell_0_0_node_2_sum = " in code and " + " in code


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_jit_trace_matches_eager(best):
    best.eval()
    x = torch.randn(1, 3, 32, 32)
    traced = torch.jit.trace(best, x)
    assert torch.allclose(traced(x), best(x))


def test_train_and_eval_modes(best):
    best.train()
    assert all(m.training for m in best.modules())
    best.eval()
    assert not any(m.training for m in best.modules())


def test_input_shape_override(nb201):
    model = compile(nb201, nb201_arch(BEST_C100), input_shape=(3, 16, 16))
    assert model(torch.randn(1, 3, 16, 16)).shape == (1, 10)
    assert model.input_shapes == {"x": (3, 16, 16)}


def test_avg_pool_edge_excludes_padding(nb201):
    model = compile(nb201, nb201_arch(uniform("avg_pool_3x3")))
    pool = model.cell_0_0.edge_0_1.avg_pool
    assert (pool.kernel_size, pool.stride, pool.padding, pool.count_include_pad) == (3, 1, 1, False)


def test_resblock_shortcut_is_avgpool_then_conv_without_bn(best):
    pool, conv = best.resblock_1.avg_pool, best.resblock_1.conv
    assert (pool.kernel_size, pool.stride, pool.padding) == (2, 2, 0)
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.bias) == (16, 32, (1, 1), None)
