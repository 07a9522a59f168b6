"""Cost rules of the activations, resampling, 1-D and token ops (:mod:`nasl.compiler.shapes_ext`).

As in :mod:`nasl.compiler.cost`, ``flops`` is what ``FlopCounterMode``
counts: the convolutions, the linear maps and attention's two batched
matrix products (``q @ k^T`` and ``attn @ v``, 2 per multiply-add each);
activations, softmax, normalization, resampling and pooling count nothing.
"""
from __future__ import annotations

from nasl.compiler.cost import FREE, OpCost, conv, cost_rule, linear, norm
from nasl.compiler.shapes_ext import ACTIVATION_OPS, attention_widths, mlp_width


@cost_rule(*ACTIVATION_OPS, "upsample", "resize", "channel_shuffle", "max_pool1d", "avg_pool1d", "token_pool")
def _free(p, ins, out):
    return FREE


@cost_rule("conv1d")
def _conv1d(p, ins, out):
    return conv(ins[0][0], p["c"], (p["k"], 1), out[1:], p["groups"], bool(p["bias"]))


def attention(seq: int, dim: int, inner: int, bias: bool) -> OpCost:
    """Self-attention over ``seq`` tokens of width ``dim``: the q/k/v projection (to ``inner``
    each, ``bias`` on it), the two score products, and the output projection (with bias)."""
    scores = OpCost(0, 2 * 2 * seq * seq * inner, 2 * seq * seq * inner)
    return linear(dim, 3 * inner, rows=seq, bias=bias) + scores + linear(inner, dim, rows=seq, bias=True)


@cost_rule("multihead_attention")
def _mha(p, ins, out):
    seq, dim = ins[0]
    return attention(seq, dim, attention_widths(p, dim), bool(p["bias"]))


@cost_rule("transformer_block")
def _block(p, ins, out):
    seq, dim = ins[0]
    hidden = mlp_width(p, dim)
    return (norm(dim) + attention(seq, dim, attention_widths(p, dim), bool(p["bias"])) + norm(dim)
            + linear(dim, hidden, rows=seq) + linear(hidden, dim, rows=seq))


@cost_rule("patch_embed")
def _patch_embed(p, ins, out):
    c, h, w = ins[0]
    return conv(c, p["dim"], p["patch"], (h // p["patch"], w // p["patch"]), bias=True)


@cost_rule("pos_embed")
def _pos_embed(p, ins, out):
    return OpCost(ins[0][0] * ins[0][1])


@cost_rule("cls_token")
def _cls_token(p, ins, out):
    return OpCost(ins[0][1])
