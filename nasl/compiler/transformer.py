"""Transformer ops on token sequences ``[S, D]`` (``[N, S, D]`` at run time).

``multihead_attention`` is ViT's self-attention: one linear map to queries,
keys and values (``heads * head_dim`` wide each, ``head_dim = D / heads`` by
default), softmax of ``q k^T / sqrt(head_dim)``, and an output projection
back to ``D``. ``transformer_block`` is the pre-norm block of ViT and
AutoFormer: ``x + attn(ln(x))``, then ``x + fc2(act(fc1(ln(x))))`` with
``int(D * mlp_ratio)`` hidden units. The attention is written with
``torch.matmul`` rather than ``nn.MultiheadAttention``, so that
``FlopCounterMode`` sees its products and the standalone export can write
its source.

``patch_embed`` cuts a map into ``patch x patch`` patches and maps each to
``dim`` features (a strided conv); ``pos_embed`` adds a learned position
table, ``cls_token`` prepends a learned token, and ``token_pool`` reads the
sequence out as ``[D]``: the mean of its tokens, or its first (cls) token.
"""
from __future__ import annotations

import torch
from torch import nn

from nasl.compiler.clone import cloneable
from nasl.compiler.layers import activation, torch_op
from nasl.compiler.shapes import op_shape
from nasl.compiler.shapes_ext import attention_widths, mlp_width


class MultiheadAttention(nn.Module):
    """Self-attention of ``heads`` heads of ``head_dim`` features over ``[N, S, dim]`` tokens."""

    def __init__(self, dim: int, heads: int, head_dim: int, bias: bool = True):
        super().__init__()
        self.heads = heads
        self.head_dim = head_dim
        self.qkv = nn.Linear(dim, 3 * heads * head_dim, bias=bias)
        self.proj = nn.Linear(heads * head_dim, dim)

    def forward(self, x):
        n, s = x.shape[0], x.shape[1]
        qkv = self.qkv(x).reshape(n, s, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = torch.softmax(torch.matmul(q * self.head_dim ** -0.5, k.transpose(-2, -1)), dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(n, s, self.heads * self.head_dim)
        return self.proj(out)


def _attention(p, dim: int) -> MultiheadAttention:
    inner = attention_widths(p, dim)
    return MultiheadAttention(dim, p["heads"], inner // p["heads"], bool(p["bias"]))


@torch_op("multihead_attention")
def build_mha(p, ins):
    return _attention(p, ins[0][1]), op_shape("multihead_attention", p, ins)


class TransformerBlock(nn.Module):
    """Pre-norm Transformer block: attention and an MLP, each added back to its input."""

    def __init__(self, dim: int, attn: MultiheadAttention, hidden: int, act: str = "gelu"):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = attn
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = activation(act)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


@torch_op("transformer_block")
def build_transformer_block(p, ins):
    dim = ins[0][1]
    m = TransformerBlock(dim, _attention(p, dim), mlp_width(p, dim), p["act"])
    return m, op_shape("transformer_block", p, ins)


class PatchEmbed(nn.Module):
    """Non-overlapping ``patch x patch`` patches of ``[N, C, H, W]`` to ``[N, H*W/patch^2, dim]`` tokens."""

    def __init__(self, c_in: int, dim: int, patch: int):
        super().__init__()
        self.proj = nn.Conv2d(c_in, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


@torch_op("patch_embed")
def build_patch_embed(p, ins):
    return PatchEmbed(ins[0][0], p["dim"], p["patch"]), op_shape("patch_embed", p, ins)


class PosEmbed(nn.Module):
    """Adds a learned ``[S, D]`` table (held by an ``nn.Embedding``, initialized N(0, 0.02^2))."""

    def __init__(self, seq: int, dim: int):
        super().__init__()
        self.table = nn.Embedding(seq, dim)
        nn.init.trunc_normal_(self.table.weight, std=0.02)

    def forward(self, x):
        return x + self.table.weight


@torch_op("pos_embed")
def build_pos_embed(p, ins):
    return PosEmbed(*ins[0]), op_shape("pos_embed", p, ins)


class ClsToken(nn.Module):
    """Prepends one learned token to ``[N, S, D]``, giving ``[N, S + 1, D]``."""

    def __init__(self, dim: int):
        super().__init__()
        self.token = nn.Embedding(1, dim)
        nn.init.trunc_normal_(self.token.weight, std=0.02)

    def forward(self, x):
        return torch.cat([self.token.weight.expand(x.shape[0], 1, x.shape[2]), x], 1)


@torch_op("cls_token")
def build_cls_token(p, ins):
    return ClsToken(ins[0][1]), op_shape("cls_token", p, ins)


def _mean_tokens(x):
    return x.mean(1)


def _first_token(x):
    return x[:, 0]


@torch_op("token_pool")
def build_token_pool(p, ins):
    return (_mean_tokens if p["mode"] == "mean" else _first_token), op_shape("token_pool", p, ins)


# PosEmbed and ClsToken draw their own init in __init__, so they are built every time, not copied
for _cls in (MultiheadAttention, TransformerBlock, PatchEmbed):
    cloneable(_cls)
