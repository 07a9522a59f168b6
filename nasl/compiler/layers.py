"""PyTorch builders for the op library, and their registry.

A builder is ``build(params, in_shapes) -> (impl, out_shape)``. ``params`` is
the op's resolved parameter dict from the ``ArchGraph``; ``in_shapes`` lists
the input shapes without the batch dimension, so input channels come from
there. ``impl`` is either an ``nn.Module`` (the compiled network calls it as
a submodule) or a plain function of the input tensors, written with torch
functions and operators only; the compiler traces such a function into the
generated forward, so merges read as ``a + b`` or ``torch.cat([...], 1)``.

Builders follow the official code of the spaces in REFERENCE.md:
NAS-Bench-201's ``ReLUConvBN`` and residual block, DARTS' ``SepConv``,
``DilConv``, ``FactorizedReduce`` and pools. All convs but ``conv(bias=true)``
have no bias, BatchNorm is affine, ReLUs are not in place (DAG cells reuse
their inputs).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from nasl.compiler.clone import cloneable
from nasl.compiler.op_rules import BUILDERS, get_builder, run_impl, torch_op  # noqa: F401  (re-exported)
from nasl.compiler.shapes import op_shape, same_padding
from nasl.ir.oplib import OPS, get_op


def torch_ops(pattern: str = "*") -> list:
    """Names of the ops with a PyTorch builder that match a glob pattern, sorted."""
    names = set(BUILDERS.names(pattern)) | {n for n in OPS.names(pattern) if get_op(n).builder is not None}
    return sorted(names)


def build_op(name: str, params: dict, in_shapes: list):
    """``(impl, out_shape)`` of one op; raises ``KeyError`` for an op without builder."""
    builder = get_builder(name)
    if builder is None:
        raise KeyError(name)
    return builder(params, [tuple(s) for s in in_shapes])


def seq(**layers) -> nn.Sequential:
    """A Sequential whose children have readable names (``conv``, ``bn``) in the state_dict."""
    return nn.Sequential(OrderedDict(layers))


def conv2d(c_in, c_out, k, stride=1, dilation=1, groups=1, bias=False, padding=None) -> nn.Conv2d:
    pad = same_padding(k, dilation) if padding is None else padding
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=pad, dilation=dilation, groups=groups, bias=bias)


_ACTIVATIONS = {"relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish, "swish": nn.SiLU, "silu": nn.SiLU,
                "gelu": nn.GELU, "sigmoid": nn.Sigmoid, "hsigmoid": nn.Hardsigmoid, "tanh": nn.Tanh}


def activation(name: str) -> nn.Module:
    """The activation module of a name in :data:`nasl.compiler.shapes_ext.ACTIVATIONS` (never in place:
    DAG cells reuse their inputs)."""
    cls = _ACTIVATIONS[name]
    return cls(inplace=False) if cls in (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU, nn.Hardsigmoid) else cls()


# convolutions -------------------------------------------------------------

@torch_op("conv")
def build_conv(p, ins):
    c_in = ins[0][0]
    m = conv2d(c_in, p["c"], p["k"], p["stride"], p["dilation"], p["groups"], bool(p["bias"]))
    return m, op_shape("conv", p, ins)


@torch_op("conv_bn_relu")
def build_conv_bn_relu(p, ins):
    m = seq(conv=conv2d(ins[0][0], p["c"], p["k"], p["stride"]), bn=nn.BatchNorm2d(p["c"]),
            relu=nn.ReLU(inplace=False))
    return m, op_shape("conv_bn_relu", p, ins)


@torch_op("relu_conv_bn")
def build_relu_conv_bn(p, ins):
    m = seq(relu=nn.ReLU(inplace=False), conv=conv2d(ins[0][0], p["c"], p["k"], p["stride"], p["dilation"]),
            bn=nn.BatchNorm2d(p["c"]))
    return m, op_shape("relu_conv_bn", p, ins)


@torch_op("dw_conv")
def build_dw_conv(p, ins):
    c = ins[0][0]
    return conv2d(c, c, p["k"], p["stride"], groups=c), op_shape("dw_conv", p, ins)


# pooling ------------------------------------------------------------------

def _pool_padding(p) -> int:
    return same_padding(p["k"]) if p["padding"] is None else p["padding"]


@torch_op("avg_pool")
def build_avg_pool(p, ins):
    m = nn.AvgPool2d(p["k"], stride=p["stride"], padding=_pool_padding(p),
                     count_include_pad=bool(p["count_include_pad"]))
    return m, op_shape("avg_pool", p, ins)


@torch_op("max_pool")
def build_max_pool(p, ins):
    return nn.MaxPool2d(p["k"], stride=p["stride"], padding=_pool_padding(p)), op_shape("max_pool", p, ins)


class GlobalAvgPool(nn.Module):
    """Average over H and W, then flatten to ``[N, C]``."""

    def forward(self, x):
        return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)


class GlobalAvgPool1d(nn.Module):
    """Average a signal ``[N, C, L]`` over L, to ``[N, C]``."""

    def forward(self, x):
        return x.mean(2)


@torch_op("global_avg_pool")
def build_global_avg_pool(p, ins):
    m = GlobalAvgPool() if len(ins[0]) == 3 else GlobalAvgPool1d()
    return m, op_shape("global_avg_pool", p, ins)


# simple layers ------------------------------------------------------------

@torch_op("linear")
def build_linear(p, ins):
    return nn.Linear(ins[0][-1], p["n"], bias=bool(p["bias"])), op_shape("linear", p, ins)


@torch_op("bn")
def build_bn(p, ins):
    s = ins[0]
    cls = nn.BatchNorm2d if len(s) == 3 else nn.BatchNorm1d
    return cls(s[0], affine=bool(p["affine"])), op_shape("bn", p, ins)


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each position of a ``[N, C, H, W]`` map."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


@torch_op("layer_norm")
def build_layer_norm(p, ins):
    s = ins[0]
    m = LayerNorm2d(s[0]) if len(s) == 3 else nn.LayerNorm(s[-1])
    return m, op_shape("layer_norm", p, ins)


@torch_op("relu")
def build_relu(p, ins):
    return nn.ReLU(inplace=False), op_shape("relu", p, ins)


@torch_op("dropout")
def build_dropout(p, ins):
    return nn.Dropout(p["p"]), op_shape("dropout", p, ins)


@torch_op("flatten")
def build_flatten(p, ins):
    return nn.Flatten(1), op_shape("flatten", p, ins)


# constructors that only build submodules: compile may copy these (nasl.compiler.clone)
for _cls in (GlobalAvgPool, GlobalAvgPool1d, LayerNorm2d, nn.GELU, nn.SiLU, nn.Hardswish, nn.Hardsigmoid,
             nn.ChannelShuffle):
    cloneable(_cls)


# the remaining builders register themselves on import
