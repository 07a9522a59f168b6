"""Initialising a block of new layers so that it computes the identity (Net2Deeper).

Each new op with weights can be set to pass its input on (``id``: a Dirac conv kernel, an
identity matrix, a BN whose eval-mode affine is the identity; an mbconv with a residual whose
projection is zeroed) or to output zeros (``zero``: BN's or the last layer's scale zeroed).
Weightless ops are fixed: a ReLU passes its input only where the input is non-negative (the
output of another ReLU), a pool passes zeros but not a general input, a sum of the input and
zeros is the input, a mean of copies of the input is the input. The modes are searched, the
most ``id`` first, until the block's output is its input; a block that no modes make the
identity is refused (e.g. a digits cell whose genotype has no skip path from input to output).
"""
from __future__ import annotations

import itertools

import torch

X, Z, O = "X", "Z", "O"         # the block's input, zeros, anything else
RELUS = {"relu", "conv_bn_relu", "rect_conv_bn_relu"}
KEEP_SIGN = {"identity", "dropout", "max_pool", "avg_pool", "global_avg_pool"}
MAX_MODES = 12


def nonnegative(r, n, depth: int = 0) -> bool:
    """Whether node ``n``'s output is >= 0 everywhere (so a ReLU after it is the identity)."""
    d = r.graph.nodes[n]
    if d.get("kind") != "op" or depth > 50:
        return False
    op = d["op"]
    if op in RELUS or op in ("relu6", "sigmoid", "hsigmoid"):
        return True
    if op in KEEP_SIGN | {"sum", "add", "mean", "concat"}:
        return all(nonnegative(r, u, depth + 1) for u in r.inputs(n))
    return False


def _can_pass(r, n) -> bool:
    op, p, ins = r.op(n), r.params(n), r.in_shapes(n)
    out = tuple(r.shapes[n])
    if ins[0] != out:
        return False
    if op in ("conv", "relu_conv_bn", "conv_bn_relu", "dw_conv"):
        k = p.get("k", 1)
        return p.get("stride", 1) == 1 and isinstance(k, int) and k % 2 == 1 and p.get("groups", 1) in (1, out[0])
    return op in ("linear", "bn")


def modes_of(r, n) -> list:
    op = r.op(n)
    if op == "mbconv":
        res = bool(r.params(n).get("residual", True)) and tuple(r.shapes[n]) == r.in_shapes(n)[0] \
            and r.params(n).get("stride", 1) == 1
        return ["id"] if res else ["zero"]
    if op in ("conv", "linear", "bn", "relu_conv_bn", "conv_bn_relu", "dw_conv"):
        return ["id", "zero"] if _can_pass(r, n) else ["zero"]
    if op in ("sep_conv", "dil_conv"):
        return ["zero"]
    return []


def _value(op, mode, ins, x_nonneg):
    if mode == "zero":
        return Z
    a = ins[0] if ins else O
    relu = (X if x_nonneg else O) if a == X else a
    if op in ("identity", "dropout"):
        return a
    if op in ("relu", "relu_conv_bn", "conv_bn_relu"):
        return relu if a != O else O
    if op in ("conv", "linear", "bn", "dw_conv", "mbconv"):
        return a if mode == "id" else O
    if op in ("zero", "none"):
        return Z
    if op in ("avg_pool", "max_pool", "relu6"):
        return Z if a == Z else O
    if op in ("sum", "add"):
        xs = sum(v == X for v in ins)
        return Z if all(v == Z for v in ins) else X if xs == 1 and all(v in (X, Z) for v in ins) else O
    if op == "mean":
        return X if all(v == X for v in ins) else Z if all(v == Z for v in ins) else O
    if op == "concat":
        return Z if all(v == Z for v in ins) else O
    return O


def identity_modes(r, new: list, source, output) -> dict | None:
    """``{node: mode}`` that makes the block ``new`` (reading ``source``) output its input, or None."""
    x_nonneg = nonnegative(r, source)
    weighted = [n for n in new if modes_of(r, n)]
    if len(weighted) > MAX_MODES:
        weighted_opts = [[modes_of(r, n)[0]] for n in weighted]   # too many to search: the first mode each
    else:
        weighted_opts = [modes_of(r, n) for n in weighted]
    combos = sorted(itertools.product(*weighted_opts), key=lambda c: sum(m == "zero" for m in c))
    for combo in combos:
        mode = dict(zip(weighted, combo))
        vals = {source: X}
        for n in new:
            ins = [vals.get(u, O) for u in r.inputs(n)]
            vals[n] = _value(r.op(n), mode.get(n, "fixed"), ins, x_nonneg)
        if vals[output] == X:
            return mode
    return None


def _dirac(w: torch.Tensor):
    w.zero_()
    c = min(w.shape[0], w.shape[1]) if w.shape[1] != 1 else w.shape[0]
    mid = tuple(s // 2 for s in w.shape[2:])
    i = torch.arange(c)               # one indexed write, not one per channel
    w[(i, torch.zeros_like(i) if w.shape[1] == 1 else i) + mid] = 1.0


def _bn_id(T, pre):
    T[pre + "running_mean"].zero_()
    T[pre + "running_var"].fill_(1.0 - 1e-5)    # eval BN divides by sqrt(var + eps) = 1
    T[pre + "weight"].fill_(1.0)
    T[pre + "bias"].zero_()


def _bn_zero(T, pre):
    T[pre + "weight"].zero_()
    T[pre + "bias"].zero_()


def initialise(op: str, mode: str, T: dict):
    """Set node tensors ``T`` (``{suffix: tensor}``, modified in place) to the mode."""
    with torch.no_grad():
        if op in ("conv", "dw_conv", "linear"):
            if mode == "id":
                _dirac(T["weight"].view(*T["weight"].shape, *([1, 1] if op == "linear" else [])))
            else:
                T["weight"].zero_()
            if "bias" in T:
                T["bias"].zero_()
        elif op == "bn":
            (_bn_id if mode == "id" else _bn_zero)(T, "")
        elif op in ("relu_conv_bn", "conv_bn_relu"):
            if mode == "id":
                _dirac(T["conv.weight"])
                _bn_id(T, "bn.")
            else:
                _bn_zero(T, "bn.")
        elif op == "mbconv":
            _bn_zero(T, "body.project.bn.")
        elif op == "sep_conv":
            _bn_zero(T, "bn2.")
        elif op == "dil_conv":
            _bn_zero(T, "bn.")
