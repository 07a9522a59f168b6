"""The activations, resampling, 1-D, token and Transformer ops, and mbconv's se/residual/groups:
what they compute, checked against torch's own layers, and their errors.

Shapes, parameter counts and FLOPs of every op are checked in test_ops.py and test_cost.py
(over their EXAMPLES); these tests check the numbers the ops compute.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

import nasl
from nasl.compiler import build_op, compile
from nasl.compiler.shapes_ext import make_divisible, mbconv_widths
from nasl.ir.errors import NaslError
from tests.compiler.test_ops import _resolved


def built(name, given, shape):
    m, out = build_op(name, _resolved(name, given), [shape])
    if isinstance(m, nn.Module):
        m.eval()
    return m, out


# mbconv ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("v,out", [(18, 24), (36, 40), (30, 32), (120 // 4, 32), (3, 8), (16, 16), (12, 16)])
def test_make_divisible_is_the_mobilenet_rule(v, out):
    # rounds to the nearest multiple of 8, at least 8, and up once more if that lost over 10%
    assert make_divisible(v, 8) == out


def test_mbconv_squeeze_excite_width_is_ofas():
    # OFA's SEModule on mid = 24 * 3 = 72 channels: make_divisible(72 // 4, 8) = 24, not 72 // 4 = 18
    assert mbconv_widths({"expand": 3, "se": True}, 24) == (72, 24)
    m, _ = built("mbconv", {"c": 40, "k": 5, "expand": 3, "stride": 2, "se": True}, (24, 16, 16))
    assert (m.body.se.reduce.in_channels, m.body.se.reduce.out_channels) == (72, 24)
    x = torch.randn(2, 72, 4, 4)
    se = m.body.se
    gate = nn.functional.relu6(se.expand(se.relu(se.reduce(x.mean((2, 3), keepdim=True)))) + 3) / 6
    assert torch.allclose(se(x), x * gate)           # OFA's hard-sigmoid gate


def test_mbconv_squeeze_excite_ratio_is_mnasnets():
    # tensorflow/tpu mnasnet_model.py MnasBlock: max(1, int(input_filters * se_ratio)) channels, squeezing
    # the expanded map, ReLU then sigmoid, both 1x1 convs with bias
    assert mbconv_widths({"expand": 3, "se": 0.25}, 24) == (72, 6)       # OFA's rule would give 24
    assert mbconv_widths({"expand": 6, "se": 0.25}, 80) == (480, 20)
    assert mbconv_widths({"expand": 6, "se": 0.25}, 2) == (12, 1)        # at least one channel
    assert mbconv_widths({"expand": 6, "se": 0}, 80) == (480, 0)          # ratio 0: none, as MnasNet's 0
    m, _ = built("mbconv", {"c": 40, "k": 5, "expand": 3, "stride": 2, "se": 0.25, "act": "relu"}, (24, 16, 16))
    se = m.body.se
    assert (se.reduce.in_channels, se.reduce.out_channels, se.expand.out_channels) == (72, 6, 72)
    assert se.reduce.bias is not None and se.expand.bias is not None
    x = torch.randn(2, 72, 4, 4)
    assert torch.allclose(se(x), x * torch.sigmoid(se.expand(torch.relu(se.reduce(x.mean((2, 3), keepdim=True))))))
    assert list(m.body._modules) == ["expand", "depthwise", "se", "project"]   # SE after the depthwise conv


@pytest.mark.parametrize("se", ["1.5", "-0.25", "\"half\""])
def test_mbconv_squeeze_excite_must_be_a_flag_or_a_ratio(se):
    space = nasl.loads(f"input x: [8, 6, 6]\nnetwork {{\n    return x >> mbconv(8, se={se})\n}}\n", "bad.nas")
    with pytest.raises(NaslError, match=r"mbconv's 'se' must be true, false or a ratio in \(0, 1\]") as info:
        nasl.cost(space, {})
    assert info.value.span.line == 3


def test_mbconv_residual_and_groups():
    x = torch.randn(2, 8, 6, 6)
    with_skip, _ = built("mbconv", {"c": 8, "expand": 2}, (8, 6, 6))
    without, _ = built("mbconv", {"c": 8, "expand": 2, "residual": False}, (8, 6, 6))
    without.load_state_dict(with_skip.state_dict())
    assert torch.allclose(with_skip(x), x + without(x))
    grouped, _ = built("mbconv", {"c": 8, "expand": 2, "groups": 4}, (8, 6, 6))
    body = grouped.body
    assert (body.expand.conv.groups, body.project.conv.groups, body.shuffle.groups) == (4, 4, 4)
    assert list(body._modules) == ["expand", "shuffle", "depthwise", "project"]
    # a residual is only added where the shape is kept, whatever `residual` says
    strided, _ = built("mbconv", {"c": 8, "expand": 2, "stride": 2}, (8, 6, 6))
    assert not strided.residual


def test_mbconv_fractional_expand_rounds_the_width():
    m, _ = built("mbconv", {"c": 8, "expand": 2.5}, (6, 4, 4))
    assert m.body.expand.conv.out_channels == 15


# activations, resampling, shuffle, 1-D --------------------------------------------------------------

def test_activations_are_the_named_functions():
    x = torch.linspace(-5, 5, 41).view(1, 41)
    expect = {"gelu": nn.functional.gelu(x), "silu": x * torch.sigmoid(x), "swish": x * torch.sigmoid(x),
              "hswish": x * nn.functional.relu6(x + 3) / 6, "hsigmoid": nn.functional.relu6(x + 3) / 6,
              "tanh": torch.tanh(x), "sigmoid": torch.sigmoid(x), "relu6": x.clamp(0, 6)}
    for name, want in expect.items():
        m, out = built(name, {}, (41,))
        assert out == (41,) and torch.allclose(m(x), want, atol=1e-6), name


def test_upsample_and_resize_follow_interpolate():
    x = torch.randn(2, 3, 4, 5)
    up, out = built("upsample", {}, (3, 4, 5))
    assert out == (3, 8, 10) and torch.equal(up(x), nn.functional.interpolate(x, scale_factor=2))
    bi, _ = built("upsample", {"scale": 2, "mode": "bilinear"}, (3, 4, 5))
    assert torch.allclose(bi(x), nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
    rs, out = built("resize", {"size": [7, 3]}, (3, 4, 5))
    assert out == (3, 7, 3)
    assert torch.allclose(rs(x), nn.functional.interpolate(x, size=(7, 3), mode="bilinear", align_corners=False))


def test_channel_shuffle_interleaves_the_groups():
    x = torch.arange(6.0).view(1, 6, 1, 1)
    m, _ = built("channel_shuffle", {"groups": 2}, (6, 1, 1))
    assert m(x).flatten().tolist() == [0, 3, 1, 4, 2, 5]         # ShuffleNet: reshape (g, C/g), transpose


def test_conv1d_keeps_the_length_and_pools_reduce_it():
    x = torch.randn(2, 4, 9)
    conv, out = built("conv1d", {"c": 6, "k": 5}, (4, 9))
    assert out == (6, 9) and conv(x).shape == (2, 6, 9) and conv.padding == (2,)
    gap, out = built("global_avg_pool", {}, (4, 9))
    assert out == (4,) and torch.allclose(gap(x), x.mean(2))


# tokens and attention ------------------------------------------------------------------------------

def test_attention_equals_torchs_multihead_attention():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8)
    ours, out = built("multihead_attention", {"heads": 2}, (5, 8))
    ref = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.proj.weight)
        ref.out_proj.bias.copy_(ours.proj.bias)
    assert out == (5, 8)
    assert torch.allclose(ours(x), ref(x, x, x, need_weights=False)[0], atol=1e-6)


def test_transformer_block_is_pre_norm_residual():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8)
    b, _ = built("transformer_block", {"heads": 2, "mlp_ratio": 3}, (5, 8))
    assert b.fc1.out_features == 24
    h = x + b.attn(b.norm1(x))
    assert torch.allclose(b(x), h + b.fc2(nn.functional.gelu(b.fc1(b.norm2(h)))), atol=1e-6)


def test_head_dim_sets_the_attention_width():
    m, _ = built("multihead_attention", {"heads": 3, "head_dim": 16}, (5, 8))
    assert (m.qkv.out_features, m.proj.in_features, m.proj.out_features) == (3 * 48, 48, 8)


def test_a_small_vit_counts_and_runs():
    space = nasl.loads("input x: [3, 16, 16]\nnetwork {\n"
                       "  t = x >> patch_embed(dim=16, patch=4) >> cls_token >> pos_embed\n"
                       "  repeat 2 { t = t >> transformer_block(heads=choice(2, 4), mlp_ratio=choice(2, 4)) }\n"
                       "  return t >> layer_norm >> token_pool(mode=\"cls\") >> linear(10) }")
    for arch in space.sample(0, n=3):
        model = compile(space, arch)
        c = nasl.cost(space, arch)
        assert sum(p.numel() for p in model.parameters()) == c.params
        out = model(torch.randn(2, 3, 16, 16))
        assert out.shape == (2, 10)
        out.sum().backward()
    # 16 patches and the cls token
    assert c.output_shapes == {"output": (10,)}
    model = compile(space, arch)
    assert model.patch_embed.proj.stride == (4, 4) and model.pos_embed.table.weight.shape == (17, 16)


def test_cls_pool_reads_the_cls_token():
    x = torch.randn(2, 4, 6)
    cls, out = built("cls_token", {}, (4, 6))
    pool, _ = built("token_pool", {"mode": "cls"}, (5, 6))
    mean, _ = built("token_pool", {}, (4, 6))
    assert out == (5, 6)
    assert torch.equal(pool(cls(x)), cls.token.weight.expand(2, 6))
    assert torch.allclose(mean(x), x.mean(1))


# errors ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body,message", [
    ("x >> mbconv(8, groups=3)", r"groups=3 must divide the input \(8\), expanded \(48\) and output \(8\)"),
    ("x >> mbconv(8, act=\"elu\")", "mbconv act must be one of"),
    ("x >> multihead_attention(3)", r"heads=3 must divide the token width 8 \(or give head_dim\)"),
    ("x >> upsample(2, mode=\"bilinear\") >> flatten",
     "upsample mode on a signal .C, L. must be one of nearest, linear, got 'bilinear'"),
    ("x >> resize([4, 4]) >> flatten", "resize size must be a positive int or a list of 1 positive ints"),
    ("x >> channel_shuffle(3) >> flatten", "channel_shuffle groups=3 must divide the 8 channels"),
    ("x >> token_pool(mode=\"max\")", "token_pool mode must be mean or cls"),
    ("x >> transformer_block(2, mlp_ratio=0)", "mlp_ratio must be a positive number"),
])
def test_bad_parameters_are_errors_at_the_op(body, message):
    shape = "[8, 6, 6]" if "mbconv" in body else "[8, 8]"
    text = f"input x: {shape}\nnetwork {{\n    return {body}\n}}\n"
    space = nasl.loads(text, "bad.nas")
    with pytest.raises(NaslError, match=message) as info:
        nasl.cost(space, {})
    assert info.value.span is not None and info.value.span.line == 3


def test_token_ops_refuse_feature_maps():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> transformer_block(2) }")
    with pytest.raises(NaslError, match=r"transformer_block needs a token sequence \[S, D\], got \[3, 8, 8\]"):
        nasl.cost(space, {})
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> patch_embed(8, patch=3) }")
    with pytest.raises(NaslError, match=r"patch=3 must divide the map's height and width \(8x8\)"):
        nasl.cost(space, {})
