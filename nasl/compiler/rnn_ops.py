"""The RNN cell operators of Schrimpf et al. (2018), on vectors ``[..., H]``.

Core operators: ``MM`` (a linear layer with bias and fresh weights at every
occurrence: ``MM(x) = W x + b``), ``Add``, ``Mult``, ``Gate3``, ``Sigmoid``,
``Tanh``, ``ReLU``; extended ones: ``Sub``, ``Div``, ``Sin``, ``Cos``,
``PosEnc``, ``LayerNorm``, ``SeLU``. They act on the last dimension, so a
cell input ``[H]`` is ``[N, H]`` at run time.

``Gate3(x, y, f) = sigmoid(f) * x + (1 - sigmoid(f)) * y``.

``PosEnc(x) = x + PE(t)`` adds the sinusoidal encoding of Vaswani et al. of
the current time step ``t`` over the features of ``x``. In a recurrent cell
(``nasl.compiler.rnn``) ``t`` comes from the cell's state; an op used alone
(a feed-forward network) sees ``t = 0``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from nasl.compiler.layers import torch_op
from nasl.compiler.shapes import op_shape

def mm_features(p, in_shape) -> tuple:
    """``(in_features, out_features)`` of an ``MM``."""
    return in_shape[-1], (in_shape[-1] if p.get("n") is None else p["n"])


@torch_op("MM")
def build_mm(p, ins):
    f_in, f_out = mm_features(p, ins[0])
    return nn.Linear(f_in, f_out, bias=True), op_shape("MM", p, ins)


def _add(a, b):
    return a + b


def _sub(a, b):
    return a - b


def _mult(a, b):
    return a * b


def _div(a, b):
    return a / b


def _gate3(x, y, f):
    g = torch.sigmoid(f)
    return g * x + (1 - g) * y


_FUNCS = {"Add": _add, "Sub": _sub, "Mult": _mult, "Div": _div, "Gate3": _gate3,
          "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "ReLU": torch.relu, "Sin": torch.sin, "Cos": torch.cos,
          "SeLU": nn.functional.selu}


def _functional(name):
    fn = _FUNCS[name]

    def build(p, ins):
        return fn, op_shape(name, p, ins)
    build.__name__ = f"build_{name}"
    return build


for _name in _FUNCS:
    torch_op(_name)(_functional(_name))


@torch_op("LayerNorm")
def build_layernorm(p, ins):
    return nn.LayerNorm(ins[0][-1]), op_shape("LayerNorm", p, ins)


class PosEnc(nn.Module):
    """``x + PE(t)``: sin at the even features, cos at the odd ones, of ``t / 10000^(2i/H)``."""

    def __init__(self, features: int):
        super().__init__()
        self.features = features
        self.log_base = math.log(10000.0)

    def forward(self, x, step=None):
        if step is None:
            step = torch.zeros(x.shape[:-1] + (1,), dtype=x.dtype, device=x.device)
        i = torch.arange(0, self.features, 2, dtype=x.dtype, device=x.device)
        angle = step * torch.exp(i * (-self.log_base / self.features))
        pe = torch.stack([torch.sin(angle), torch.cos(angle)], -1).flatten(-2)[..., :self.features]
        return x + pe


@torch_op("PosEnc")
def build_posenc(p, ins):
    return PosEnc(ins[0][-1]), op_shape("PosEnc", p, ins)
