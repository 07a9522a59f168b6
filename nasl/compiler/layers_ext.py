"""PyTorch builders of the activations, resampling, channel shuffle and 1-D convs and pools.

Shape rules in :mod:`nasl.compiler.shapes_ext`, costs in :mod:`nasl.compiler.cost_ext`.
Every op here is a ``torch.nn`` module, so the compiled network names it in
its ``state_dict`` and the standalone export writes it as a constructor call.
"""
from __future__ import annotations

from torch import nn

from nasl.compiler.clone import cloneable
from nasl.compiler.layers import activation, torch_op
from nasl.compiler.shapes import op_shape, same_padding
from nasl.compiler.shapes_ext import ACTIVATION_OPS, pool1d_padding, resample_mode


def _activation_builder(name: str):
    def build(p, ins):
        return activation(name), op_shape(name, p, ins)
    build.__name__ = f"build_{name}"
    return build


for _name in ACTIVATION_OPS:
    torch_op(_name)(_activation_builder(_name))


def _upsampler(p, ins):
    out = op_shape("upsample" if "scale" in p else "resize", p, ins)
    mode = resample_mode(p, ins[0])
    # an explicit output size, not scale_factor: the module then gives exactly the inferred shape
    return nn.Upsample(size=out[1:], mode=mode, align_corners=None if mode == "nearest" else False), out


torch_op("upsample", "resize")(_upsampler)


@torch_op("channel_shuffle")
def build_channel_shuffle(p, ins):
    return nn.ChannelShuffle(p["groups"]), op_shape("channel_shuffle", p, ins)


@torch_op("conv1d")
def build_conv1d(p, ins):
    m = nn.Conv1d(ins[0][0], p["c"], p["k"], stride=p["stride"], padding=same_padding(p["k"], p["dilation"]),
                  dilation=p["dilation"], groups=p["groups"], bias=bool(p["bias"]))
    return m, op_shape("conv1d", p, ins)


@torch_op("max_pool1d")
def build_max_pool1d(p, ins):
    return nn.MaxPool1d(p["k"], stride=p["stride"], padding=pool1d_padding(p)), op_shape("max_pool1d", p, ins)


@torch_op("avg_pool1d")
def build_avg_pool1d(p, ins):
    m = nn.AvgPool1d(p["k"], stride=p["stride"], padding=pool1d_padding(p),
                     count_include_pad=bool(p["count_include_pad"]))
    return m, op_shape("avg_pool1d", p, ins)


for _cls in (nn.Upsample, nn.MaxPool1d, nn.AvgPool1d):
    cloneable(_cls)
