"""ONNX export (issue 3, item 6): the file is written, checks, and computes what the module does."""
from __future__ import annotations

import importlib.util

import pytest
import torch

import nasl
from nasl.compiler import compile
from nasl.compiler.export_onnx import to_onnx
from tests.conftest import example, nb201_arch

ARCH = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
HAVE_ONNXSCRIPT = importlib.util.find_spec("onnxscript") is not None


@pytest.fixture(scope="module")
def small_nb201():
    return nasl.load(example("nas_bench_201.nas"), C=4, N=1)


@pytest.mark.parametrize("dynamo", [False, pytest.param(True, marks=pytest.mark.skipif(
    not HAVE_ONNXSCRIPT, reason="the torch.export-based exporter needs onnxscript"))])
def test_onnx_export(small_nb201, tmp_path, dynamo):
    torch.manual_seed(0)                          # the same initial weights as `compiled` below
    path = to_onnx(small_nb201, nb201_arch(ARCH), tmp_path / "net.onnx", input_shape=(3, 8, 8), dynamo=dynamo)
    assert (tmp_path / "net.onnx").stat().st_size > 1000 and path.endswith("net.onnx")
    onnx = pytest.importorskip("onnx")
    model = onnx.load(path)
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["x"]
    reference = pytest.importorskip("onnx.reference")
    torch.manual_seed(0)
    compiled = compile(small_nb201, nb201_arch(ARCH), (3, 8, 8)).eval()
    x = torch.randn(3, 3, 8, 8)                   # another batch size than the export's
    (got,) = reference.ReferenceEvaluator(model).run(None, {"x": x.numpy()})
    with torch.no_grad():
        want = compiled(x)
    assert got.shape == (3, 10)
    torch.testing.assert_close(torch.from_numpy(got), want, rtol=1e-4, atol=1e-5)


def test_onnx_export_of_darts(tmp_path):
    from tests.compiler.test_darts import DARTS_V2, genotype_arch

    space = nasl.load(example("darts.nas"), C=4, layers=3)
    path = to_onnx(space, genotype_arch(DARTS_V2), tmp_path / "darts.onnx", input_shape=(3, 16, 16), dynamo=False)
    onnx = pytest.importorskip("onnx")
    onnx.checker.check_model(onnx.load(path))


@pytest.mark.slow           # about 10 s: the exporter traces every op kind
def test_transformer_signal_and_mobile_ops_export(tmp_path):
    onnx = pytest.importorskip("onnx")
    reference = pytest.importorskip("onnx.reference")
    space = nasl.loads("input x: [3, 8, 8]\ninput s: [4, 12]\nnetwork {\n"
                       "  t = x >> patch_embed(dim=8, patch=2) >> pos_embed >> cls_token\n"
                       "  t = t >> transformer_block(heads=2, mlp_ratio=2) >> multihead_attention(2, head_dim=3)\n"
                       "  t = t >> layer_norm >> linear(6) >> gelu >> token_pool(mode=\"cls\")\n"
                       "  m = x >> upsample(2, mode=\"bilinear\") >> resize([5, 6]) >> channel_shuffle(3) >> hswish\n"
                       "  m = m >> mbconv(6, expand=2, groups=3, se=true, act=\"hswish\") >> global_avg_pool\n"
                       "  u = s >> conv1d(6, k=5) >> bn >> silu >> max_pool1d(2, stride=2) >> avg_pool1d\n"
                       "  return concat(t, m, u >> global_avg_pool) }")
    torch.manual_seed(0)
    model = onnx.load(to_onnx(space, {}, tmp_path / "net.onnx"))
    onnx.checker.check_model(model)
    torch.manual_seed(0)
    compiled = compile(space, {}).eval()
    x, s = torch.randn(3, 3, 8, 8), torch.randn(3, 4, 12)
    (got,) = reference.ReferenceEvaluator(model).run(None, {"x": x.numpy(), "s": s.numpy()})
    with torch.no_grad():
        want = compiled(x, s)
    assert torch.allclose(torch.from_numpy(got), want, atol=1e-5)
