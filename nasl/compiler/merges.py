"""Merges, channel ops and the parameter-free passes (zero, identity).

Most of these are plain functions of their input tensors rather than
modules: the compiler traces them into the generated forward, where they
read as ``a + b``, ``torch.cat([a, b], 1)`` or ``x[:, 0:16]``.
"""
from __future__ import annotations

import functools
import operator

import torch
from torch import nn

from nasl.compiler.clone import cloneable
from nasl.compiler.layers import conv2d, torch_op
from nasl.compiler.shapes import concat_shape, op_shape, split_sizes


def _identity(x):
    return x


@torch_op("identity", "tap")
def build_identity(p, ins):
    return _identity, op_shape("identity", p, ins)


def _zero_fn(stride: int):
    # x * 0 as the official Zero ops do: the same dtype, device and layout as x
    if stride == 1:
        return lambda x: x.mul(0.0)
    return lambda x: x[:, :, ::stride, ::stride].mul(0.0)


@torch_op("zero", "none")
def build_zero(p, ins):
    return _zero_fn(p["stride"]), op_shape("zero", p, ins)


def _sum(*xs):
    return functools.reduce(operator.add, xs)


def _mean(*xs):
    return _sum(*xs) / len(xs) if len(xs) > 1 else xs[0]


def _concat(*xs):
    return torch.cat(list(xs), 1) if len(xs) > 1 else xs[0]


@torch_op("add", "sum")
def build_add(p, ins):
    return _sum, op_shape("add", p, ins)


@torch_op("mean")
def build_mean(p, ins):
    return _mean, op_shape("mean", p, ins)


@torch_op("concat")
def build_concat(p, ins):
    return _concat, op_shape("concat", p, ins)


class ConcatConv(nn.Module):
    """Channel concatenation, then a 1x1 conv (no bias) to ``c`` channels."""

    def __init__(self, c_in: int, c: int):
        super().__init__()
        self.conv = conv2d(c_in, c, 1)

    def forward(self, *xs):
        return self.conv(torch.cat(list(xs), 1) if len(xs) > 1 else xs[0])


@torch_op("concat_conv")
def build_concat_conv(p, ins):
    return ConcatConv(concat_shape(ins)[0], p["c"]), op_shape("concat_conv", p, ins)


def _channels(start: int, stop: int):
    return lambda x: x[:, start:stop]


@torch_op("split")
def build_split(p, ins):
    out = op_shape("split", p, ins)
    sizes = split_sizes(ins[0][0], p["parts"])
    start = sum(sizes[:p["index"]])
    return _channels(start, start + sizes[p["index"]]), out


@torch_op("slice")
def build_slice(p, ins):
    return _channels(0, p["c"]), op_shape("slice", p, ins)


# constructors that only build submodules: compile may copy these (nasl.compiler.clone)
for _cls in (ConcatConv,):
    cloneable(_cls)
