"""Composite ops of the cell-based and mobile spaces: DARTS' separable,
dilated and factorized convs, and MobileNet's inverted residual with
squeeze-excite.
"""
from __future__ import annotations

import torch
from torch import nn

from nasl.compiler.clone import cloneable
from nasl.compiler.layers import activation, conv2d, seq, torch_op
from nasl.compiler.shapes import op_shape
from nasl.compiler.shapes_ext import mbconv_widths, se_gate, se_op_width


@torch_op("sep_conv")
def build_sep_conv(p, ins):
    """DARTS ``SepConv``: two stacked [ReLU, depthwise kxk, pointwise 1x1, BN].

    Only the first depthwise conv is strided, and as in the official code the
    first pointwise conv keeps the input channels; the second maps to ``c``.
    """
    c_in, c, k = ins[0][0], p["c"], p["k"]
    m = seq(relu1=nn.ReLU(inplace=False), dw1=conv2d(c_in, c_in, k, p["stride"], groups=c_in),
            pw1=conv2d(c_in, c_in, 1), bn1=nn.BatchNorm2d(c_in),
            relu2=nn.ReLU(inplace=False), dw2=conv2d(c_in, c_in, k, 1, groups=c_in),
            pw2=conv2d(c_in, c, 1), bn2=nn.BatchNorm2d(c))
    return m, op_shape("sep_conv", p, ins)


@torch_op("dil_conv")
def build_dil_conv(p, ins):
    """DARTS ``DilConv``: ReLU, dilated depthwise kxk (stride s), pointwise 1x1, BN."""
    c_in, c = ins[0][0], p["c"]
    m = seq(relu=nn.ReLU(inplace=False), dw=conv2d(c_in, c_in, p["k"], p["stride"], p["dilation"], groups=c_in),
            pw=conv2d(c_in, c, 1), bn=nn.BatchNorm2d(c))
    return m, op_shape("dil_conv", p, ins)


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-2 convs (the second on the input shifted by one
    pixel), concatenated, then BN.

    The shift pads one zero row and column at the bottom and right first, as
    NAS-Bench-201's version does: on even maps it equals DARTS'
    ``x[:, :, 1:, 1:]``, and on odd maps both halves still agree in size.
    Odd ``c`` gives the first conv ``c // 2`` channels and the second the rest.
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv2 = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = self.relu(x)
        shifted = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv1(x), self.conv2(shifted)], dim=1))


@torch_op("factorized_reduce")
def build_factorized_reduce(p, ins):
    return FactorizedReduce(ins[0][0], p["c"]), op_shape("factorized_reduce", p, ins)


@torch_op("rect_conv_bn_relu")
def build_rect_conv_bn_relu(p, ins):
    """Conv with a kh x kw kernel ('same' padding), BN, ReLU: the layers of Zoph & Le's CIFAR space."""
    c_in, c, kh, kw = ins[0][0], p["c"], p["kh"], p["kw"]
    m = seq(conv=nn.Conv2d(c_in, c, (kh, kw), stride=p["stride"], padding=(kh // 2, kw // 2), bias=False),
            bn=nn.BatchNorm2d(c), relu=nn.ReLU(inplace=False))
    return m, op_shape("rect_conv_bn_relu", p, ins)


@torch_op("conv_7x1_1x7", "conv_1xk_kx1")
def build_conv_7x1_1x7(p, ins):
    """DARTS' ``conv_7x1_1x7``: ReLU, 1x7 conv (stride on W), 7x1 conv (stride on H), BN;
    ``conv_1xk_kx1`` is the same with a 1xk and a kx1 conv (NASNet's "1x3 then 3x1").

    The official op keeps C channels throughout; here the first conv keeps
    the input channels and the second maps to ``c``, as ``sep_conv`` does.
    """
    c_in, c, s, k = ins[0][0], p["c"], p["stride"], p.get("k", 7)
    name = "conv_7x1_1x7" if "k" not in p else "conv_1xk_kx1"
    m = seq(relu=nn.ReLU(inplace=False),
            conv1x7=nn.Conv2d(c_in, c_in, (1, k), stride=(1, s), padding=(0, k // 2), bias=False),
            conv7x1=nn.Conv2d(c_in, c, (k, 1), stride=(s, 1), padding=(k // 2, 0), bias=False),
            bn=nn.BatchNorm2d(c))
    return m, op_shape(name, p, ins)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation: global pool, 1x1 conv down to ``mid`` channels, ReLU, 1x1 conv
    back up (both convs with bias), then a sigmoid gate (``gate="hsigmoid"``: MobileNetV3's and
    OFA's hard sigmoid, ``relu6(x + 3) / 6``)."""

    def __init__(self, c: int, mid: int, gate: str = "sigmoid"):
        super().__init__()
        self.reduce = nn.Conv2d(c, mid, 1, bias=True)
        self.relu = nn.ReLU(inplace=False)
        self.expand = nn.Conv2d(mid, c, 1, bias=True)
        self.gate = gate

    def forward(self, x):
        w = self.expand(self.relu(self.reduce(nn.functional.adaptive_avg_pool2d(x, 1))))
        if self.gate == "hsigmoid":
            return x * nn.functional.hardsigmoid(w)
        return x * torch.sigmoid(w)


@torch_op("squeeze_excite")
def build_squeeze_excite(p, ins):
    c = ins[0][0]
    m = SqueezeExcite(c, se_op_width(p, c), p["gate"])
    return m, op_shape("squeeze_excite", p, ins)


class MBConv(nn.Module):
    """MobileNetV2 inverted residual: 1x1 expand-BN-act (skipped when ``expand == 1``), depthwise
    kxk-BN-act, optional squeeze-excite on the expanded channels, 1x1 project-BN; the input added
    back when ``residual`` and the shape is kept.

    ``groups > 1`` makes both 1x1 convs grouped, with a channel shuffle after the expansion, as
    FBNet's blocks do. ``se=true`` is OFA's squeeze-excite (``SEModule``): ``make_divisible(mid // 4, 8)``
    channels and a hard-sigmoid gate; ``se=0.25`` (a ratio) is MnasNet's: ``max(1, int(c_in * 0.25))``
    channels of the block's input, ReLU, and a sigmoid gate (tensorflow/tpu mnasnet_model.py).
    """

    def __init__(self, c_in: int, c: int, k: int, expand, stride: int, se=False, residual: bool = True,
                 groups: int = 1, act: str = "relu6"):
        super().__init__()
        mid, se_mid = mbconv_widths({"expand": expand, "se": se}, c_in)
        layers = {}
        if expand != 1:
            layers["expand"] = seq(conv=conv2d(c_in, mid, 1, groups=groups), bn=nn.BatchNorm2d(mid),
                                   act=activation(act))
            if groups > 1:
                layers["shuffle"] = nn.ChannelShuffle(groups)
        layers["depthwise"] = seq(conv=conv2d(mid, mid, k, stride, groups=mid), bn=nn.BatchNorm2d(mid),
                                  act=activation(act))
        if se_mid:
            layers["se"] = SqueezeExcite(mid, se_mid, se_gate(se))
        layers["project"] = seq(conv=conv2d(mid, c, 1, groups=groups), bn=nn.BatchNorm2d(c))
        self.body = seq(**layers)
        self.residual = bool(residual) and stride == 1 and c_in == c

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


@torch_op("mbconv")
def build_mbconv(p, ins):
    m = MBConv(ins[0][0], p["c"], p["k"], p["expand"], p["stride"], p["se"], bool(p["residual"]),
               p["groups"], p["act"])
    return m, op_shape("mbconv", p, ins)


# constructors that only build submodules: compile may copy these (nasl.compiler.clone)
for _cls in (FactorizedReduce, SqueezeExcite, MBConv,):
    cloneable(_cls)
