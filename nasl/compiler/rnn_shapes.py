"""Shape rules of the RNN cell operators (:mod:`nasl.compiler.rnn_ops`), without torch.

They live apart from the builders so that shape inference (``nasl check``)
of an RNN cell space does not import torch; :mod:`nasl.compiler.shapes`
imports this module at its end.
"""
from __future__ import annotations

from nasl.compiler.shapes import ShapeError, shape_rule

UNARY = ("Sigmoid", "Tanh", "ReLU", "Sin", "Cos", "SeLU", "LayerNorm")
BINARY = ("Add", "Sub", "Mult", "Div")


def _same(ins, n: int, op: str):
    if len(ins) != n:
        raise ShapeError(f"{op} takes {n} input(s), got {len(ins)}")
    ins = [tuple(s) for s in ins]
    if not ins[0]:
        raise ShapeError(f"{op} needs a vector input [H]")
    if any(s != ins[0] for s in ins):
        raise ShapeError(f"{op} needs inputs of the same shape, got " + ", ".join(str(list(s)) for s in ins))
    return ins[0]


@shape_rule(*UNARY)
def _unary(p, ins):
    return _same(ins, 1, "this operator")


@shape_rule(*BINARY)
def _binary(p, ins):
    return _same(ins, 2, "this operator")


@shape_rule("Gate3")
def _gate3_shape(p, ins):
    return _same(ins, 3, "Gate3")


@shape_rule("MM")
def _mm_shape(p, ins):
    s = _same(ins, 1, "MM")
    n = p.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise ShapeError(f"parameter 'n' must be a positive int, got {n!r}")
    return s[:-1] + (s[-1] if n is None else n,)


@shape_rule("PosEnc")
def _posenc_shape(p, ins):
    if len(ins) == 2:      # the time step, fed by a recurrent cell
        if tuple(ins[1]) != (1,):
            raise ShapeError(f"PosEnc's step input must have shape [1], got {list(ins[1])}")
        return _same(ins[:1], 1, "PosEnc")
    return _same(ins, 1, "PosEnc")
