"""The standalone PyTorch export reproduces the compiled module exactly (issue 3, item 6)."""
from __future__ import annotations

import importlib.util
import itertools
import random

import torch

import nasl
from nasl.compiler import compile
from nasl.compiler.export_python import to_python
from tests.compiler.test_darts import DARTS_V2, genotype_arch
from tests.conftest import example, nb201_arch

NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
_count = itertools.count()


def load_source(src: str, tmp_path):
    """Write ``src`` to a file and import it as a fresh module, without a subprocess."""
    name = f"nasl_export_{next(_count)}"
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def randomize(model):
    """Non-trivial weights and BN statistics, so equal outputs mean something."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in itertools.chain(model.parameters(), model.buffers()):
            if t.is_floating_point() and t.ndim == 1:       # BN affine and statistics, biases
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.75)
    return model


def check_same(space, arch, tmp_path, batch=2, input_shape=None):
    compiled = randomize(compile(space, arch, input_shape)).eval()
    src = to_python(space, arch, input_shape)
    assert "nasl" not in src.split('"""', 2)[2]          # the docstring may name it; the code may not
    net = load_source(src, tmp_path).Net()
    assert list(net.state_dict()) == list(compiled.state_dict())
    net.load_state_dict(compiled.state_dict())
    net.eval()
    xs = [torch.randn(batch, *s) for s in compiled.input_shapes.values()]
    with torch.no_grad():
        out = compiled(*xs)
        assert torch.isfinite(out).all()
        assert torch.equal(net(*xs), out)
    return src


def test_nb201_with_every_op(nb201, tmp_path):
    rng = random.Random(3)
    while True:
        ops = [rng.choice(NB201_OPS) for _ in range(6)]
        if set(ops) == set(NB201_OPS):
            break
    arch = dict(zip([c.path for c in nb201.spec], ops))
    src = check_same(nb201, arch, tmp_path)
    assert "def forward(self, x):" in src and "self.cell_0_0" in src


def test_nb201_best_cell(nb201, tmp_path):
    best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    check_same(nb201, nb201_arch(best), tmp_path, batch=1)


def test_darts_small(tmp_path):
    space = nasl.load(example("darts.nas"), C=8, layers=5)
    src = check_same(space, genotype_arch(DARTS_V2), tmp_path)
    assert "class FactorizedReduce(nn.Module):" in src
    check_same(space, space.sample(seed=7), tmp_path)


def test_helper_classes_without_a_recipe(tmp_path):
    space = nasl.loads("input x: [4, 8, 8]\nnetwork {\n"
                       "  a = x >> mbconv(8, k=3, expand=3, se=true) >> layer_norm\n"
                       "  b = x >> squeeze_excite >> mbconv(4, k=3)\n"
                       "  b = b >> mbconv(4, k=5, expand=6, se=0.25, act=\"relu\")\n"
                       "  return concat_conv(c=6)(a, b) >> global_avg_pool }")
    src = check_same(space, {}, tmp_path)
    assert "_build(MBConv" in src and "class SqueezeExcite" in src and "class LayerNorm2d" in src


def test_the_file_runs_as_a_script(nb201, tmp_path):
    src = to_python(nb201, nb201_arch("|skip_connect~0|+|none~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|none~2|"),
                    input_shape=(3, 8, 8))
    mod = load_source(src, tmp_path)
    assert mod.Net.input_shapes == {"x": [3, 8, 8]}
    assert mod.Net().eval()(torch.randn(1, 3, 8, 8)).shape == (1, 10)


def test_transformer_and_signal_ops_export(tmp_path):
    space = nasl.loads("input x: [3, 8, 8]\ninput s: [4, 12]\nnetwork {\n"
                       "  t = x >> patch_embed(dim=8, patch=2) >> pos_embed >> cls_token\n"
                       "  t = t >> transformer_block(heads=2, mlp_ratio=2) >> multihead_attention(2, head_dim=3)\n"
                       "  t = t >> layer_norm >> linear(6) >> gelu >> token_pool(mode=\"cls\")\n"
                       "  m = x >> upsample(2, mode=\"bilinear\") >> resize([5, 6]) >> channel_shuffle(3) >> hswish\n"
                       "  m = m >> mbconv(6, expand=2, groups=3, se=true, act=\"hswish\") >> global_avg_pool\n"
                       "  u = s >> conv1d(6, k=5) >> bn >> silu >> max_pool1d(2, stride=2) >> avg_pool1d\n"
                       "  return concat(t, m, u >> global_avg_pool) }")
    src = check_same(space, {}, tmp_path)
    assert "class MultiheadAttention" in src and "nn.ChannelShuffle(3)" in src
