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


_identity.fx_emit = lambda graph, xs: xs[0]        # no node: the input is the output


def _zero_fn(stride: int):
    # x * 0 as the official Zero ops do: the same dtype, device and layout as x
    if stride == 1:
        fn = lambda x: x.mul(0.0)                   # noqa: E731
    else:
        fn = lambda x: x[:, :, ::stride, ::stride].mul(0.0)     # noqa: E731
    fn.fx_emit = functools.partial(_emit_zero, stride)
    return fn


def _emit_zero(stride: int, graph, xs):
    """The nodes tracing a zero op adds: ``x.mul(0.0)``, after ``x[:, :, ::s, ::s]`` if strided."""
    x = xs[0]
    if stride != 1:
        every = slice(None, None, None)
        x = graph.create_node("call_function", operator.getitem,
                              (x, (every, every, slice(None, None, stride), slice(None, None, stride))), {})
    return graph.create_node("call_method", "mul", (x, 0.0), {})


@torch_op("zero", "none")
def build_zero(p, ins):
    return _zero_fn(p["stride"]), op_shape("zero", p, ins)


def _sum(*xs):
    return functools.reduce(operator.add, xs)


def _mean(*xs):
    return _sum(*xs) / len(xs) if len(xs) > 1 else xs[0]


def _concat(*xs):
    return torch.cat(list(xs), 1) if len(xs) > 1 else xs[0]


def _emit_sum(graph, xs):
    """The nodes tracing ``_sum`` adds to an fx graph (``a + b``, then ``+ c`` ...), without the
    tracer: building them directly is about 3x cheaper, and merges are a third of a cell's ops."""
    node = xs[0]
    for x in xs[1:]:
        node = graph.create_node("call_function", operator.add, (node, x), {})
    return node


def _emit_mean(graph, xs):
    """The nodes tracing ``_mean`` adds: the sum, then ``/ n``."""
    if len(xs) == 1:
        return xs[0]
    return graph.create_node("call_function", operator.truediv, (_emit_sum(graph, xs), len(xs)), {})


def _emit_concat(graph, xs):
    """The node tracing ``_concat`` adds (``torch.cat([a, b], 1)``), without the tracer."""
    return graph.create_node("call_function", torch.cat, (list(xs), 1), {}) if len(xs) > 1 else xs[0]


_sum.fx_emit = _emit_sum            # build.py uses these instead of tracing; the code is the same
_concat.fx_emit = _emit_concat
_mean.fx_emit = _emit_mean


@torch_op("add", "sum")
def build_add(p, ins):
    return _sum, op_shape("add", p, ins)


@torch_op("mean")
def build_mean(p, ins):
    return _mean, op_shape("mean", p, ins)


@torch_op("concat")
def build_concat(p, ins):
    return _concat, op_shape("concat", p, ins)


def _concat_padded(pads: list):
    def concat_pad(*xs):
        # zero rows and columns at the bottom and right bring every map to the largest size
        padded = [x if pad == (0, 0, 0, 0) else nn.functional.pad(x, pad) for x, pad in zip(xs, pads)]
        return torch.cat(padded, 1) if len(padded) > 1 else padded[0]
    return concat_pad


@torch_op("concat_pad")
def build_concat_pad(p, ins):
    out = op_shape("concat_pad", p, ins)
    if all(tuple(s[1:]) == tuple(out[1:]) for s in ins):
        return _concat, out
    return _concat_padded([(0, out[2] - s[2], 0, out[1] - s[1]) for s in ins]), out


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
    fn = lambda x: x[:, start:stop]             # noqa: E731
    fn.fx_emit = functools.partial(_emit_channels, start, stop)
    return fn


def _emit_channels(start: int, stop: int, graph, xs):
    """The node tracing a channel slice adds: ``x[:, start:stop]``."""
    return graph.create_node("call_function", operator.getitem,
                             (xs[0], (slice(None, None, None), slice(start, stop, None))), {})


@torch_op("split")
def build_split(p, ins):
    out = op_shape("split", p, ins)
    sizes = split_sizes(ins[0][0], p["parts"])
    start = sum(sizes[:p["index"]])
    return _channels(start, start + sizes[p["index"]]), out


@torch_op("slice")
def build_slice(p, ins):
    return _channels(0, p["c"]), op_shape("slice", p, ins)


def _pad_to(pads: tuple):
    return lambda x: torch.nn.functional.pad(x, pads)


@torch_op("pad_channels")
def build_pad_channels(p, ins):
    # F.pad lists (before, after) pairs from the last dim back: none on the spatial dims, then channels
    pads = (0, 0) * (len(ins[0]) - 1) + (0, p["c"] - ins[0][0])
    return _pad_to(pads), op_shape("pad_channels", p, ins)

# constructors that only build submodules: compile may copy these (nasl.compiler.clone)
for _cls in (ConcatConv,):
    cloneable(_cls)
