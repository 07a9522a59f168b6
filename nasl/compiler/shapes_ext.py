"""Shape rules of mbconv and squeeze-excite, the activations, resampling, 1-D and token ops,
without torch.

Conventions: ``[C, H, W]`` is a feature map, ``[C, L]`` a 1-D signal (the
1-D convs and pools act on ``L``), and ``[S, D]`` a sequence of ``S`` tokens
of width ``D`` (attention, ``linear`` and ``layer_norm`` act on ``D``). The
last two have the same rank, so the op decides which one it reads.
:mod:`nasl.compiler.shapes` imports this module at its end.
"""
from __future__ import annotations

from nasl.compiler.shapes import ShapeError, feature_map, one_input, check_positive, spatial_out, conv_out, same_padding, shape_rule

# mobile blocks ------------------------------------------------------------------------

def make_divisible(v, divisor: int = 8, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``, by default
    ``divisor``), rounded up once more if that lost over 10% of ``v``: the channel rule of
    MobileNetV2/V3 and Once-for-All (TF slim's ``_make_divisible``)."""
    floor = divisor if min_value is None else min_value
    out = max(floor, int(v + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * v else out


def se_width(c: int, reduction: int, divisor: int = 1) -> int:
    """The squeeze-excite width of ``c`` channels: ``make_divisible(c // reduction, divisor)``
    (with ``divisor=1``, ``max(1, c // reduction)``)."""
    return make_divisible(c // reduction, divisor)


def se_op_width(p: dict, c: int) -> int:
    """The width of a ``squeeze_excite`` op on ``c`` channels: its ``width`` when given (MnasNet
    squeezes to a quarter of the block's input, not of the gated map), else :func:`se_width`."""
    return p["width"] if p.get("width") is not None else se_width(c, p["reduction"], p["divisor"])


# activation names of the blocks' `act` parameter (builders in nasl.compiler.layers_ext)
ACTIVATIONS = ("relu", "relu6", "hswish", "swish", "silu", "gelu", "sigmoid", "hsigmoid", "tanh")


def se_ratio(se):
    """What an mbconv's ``se`` asks for: ``None`` for no squeeze-excite, ``"ofa"`` for ``true``, or
    the ratio of a number in (0, 1]; anything else is refused."""
    if se is False or se is None:
        return None
    if se is True:
        return "ofa"
    if isinstance(se, (int, float)) and 0 <= se <= 1:
        return se or None            # 0 means none, as MnasNet's "SE ratio 0"
    raise ShapeError(f"mbconv's 'se' must be true, false or a ratio in (0, 1], got {se!r}")


def mbconv_widths(p: dict, c_in: int) -> tuple:
    """``(mid, se)`` of an mbconv: the expanded width ``round(c_in * expand)`` and the squeeze-excite
    width (0 without squeeze-excite). ``se=true`` is OFA's MBConvLayer, ``make_divisible(mid // 4, 8)``
    of the expanded channels; a ratio ``se=r`` is MnasNet's MnasBlock (and EfficientNet's),
    ``max(1, int(c_in * r))`` of the block's input channels."""
    mid = int(round(c_in * p["expand"]))
    kind = se_ratio(p.get("se", False))
    if kind is None:
        return mid, 0
    return mid, (se_width(mid, 4, 8) if kind == "ofa" else max(1, int(c_in * kind)))


def se_gate(se) -> str:
    """The gate of an mbconv's squeeze-excite: OFA's hard sigmoid for ``se=true``, MnasNet's sigmoid
    for a ratio."""
    return "hsigmoid" if se_ratio(se) == "ofa" else "sigmoid"


@shape_rule("mbconv")
def _mbconv(p, ins):
    s = feature_map(ins, "mbconv")
    check_positive(p, "c", "k", "stride", "groups")
    e = p["expand"]
    if not isinstance(e, (int, float)) or isinstance(e, bool) or e <= 0:
        raise ShapeError(f"parameter 'expand' must be a positive number, got {e!r}")
    mid, _ = mbconv_widths(p, s[0])
    if mid < 1:
        raise ShapeError(f"expand={e} leaves no channels of the {s[0]} inputs")
    g = p["groups"]
    if s[0] % g or mid % g or p["c"] % g:
        raise ShapeError(f"groups={g} must divide the input ({s[0]}), expanded ({mid}) and output ({p['c']}) "
                         f"channels of mbconv")
    if p.get("act", "relu6") not in ACTIVATIONS:
        raise ShapeError(f"mbconv act must be one of {', '.join(ACTIVATIONS)}, got {p.get('act')!r}")
    if not isinstance(p.get("residual", True), bool):
        raise ShapeError("mbconv's 'residual' must be true or false")
    se_ratio(p.get("se", False))
    return (p["c"],) + spatial_out(s, p["k"], p["stride"], same_padding(p["k"]))


@shape_rule("squeeze_excite")
def _squeeze_excite(p, ins):
    s = feature_map(ins, "squeeze_excite")
    check_positive(p, "reduction", "divisor")
    if p.get("width") is not None:
        check_positive(p, "width")
    if p.get("gate", "sigmoid") not in ("sigmoid", "hsigmoid"):
        raise ShapeError(f"squeeze_excite gate must be sigmoid or hsigmoid, got {p.get('gate')!r}")
    return s


ACTIVATION_OPS = ("gelu", "silu", "swish", "hswish", "hsigmoid", "tanh", "sigmoid", "relu6")
UPSAMPLE_MODES = {3: ("nearest", "bilinear", "bicubic"), 2: ("nearest", "linear")}


def _rank(in_shapes, op: str, ranks: tuple, what: str) -> tuple:
    s = one_input(in_shapes, op)
    if len(s) not in ranks:
        raise ShapeError(f"{op} needs {what}, got {list(s)}")
    return s


def _bools(p: dict, *names: str):
    for n in names:
        if not isinstance(p.get(n), bool):
            raise ShapeError(f"parameter '{n}' must be true or false, got {p.get(n)!r}")


@shape_rule(*ACTIVATION_OPS)
def _activation(p, ins):
    return one_input(ins, "this activation")


# resampling and channel order ----------------------------------------------------

def resample_mode(p, s) -> str:
    """The interpolation mode: ``p["mode"]``, or (``None``) bilinear on maps and linear on signals."""
    return p["mode"] if p["mode"] is not None else ("bilinear" if len(s) == 3 else "linear")


def _mode(p, s, op):
    modes = UPSAMPLE_MODES[len(s)]
    if resample_mode(p, s) not in modes:
        kind = "a feature map [C, H, W]" if len(s) == 3 else "a signal [C, L]"
        raise ShapeError(f"{op} mode on {kind} must be one of {', '.join(modes)}, got {p['mode']!r}")


@shape_rule("upsample")
def _upsample(p, ins):
    s = _rank(ins, "upsample", (2, 3), "a feature map [C, H, W] or a signal [C, L]")
    scale = p["scale"]
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0:
        raise ShapeError(f"upsample scale must be a positive number, got {scale!r}")
    _mode(p, s, "upsample")
    out = tuple(int(d * scale) for d in s[1:])
    if min(out) < 1:
        raise ShapeError(f"upsample by {scale} leaves no positions of {list(s[1:])}")
    return (s[0],) + out


def resize_size(size, s: tuple) -> tuple:
    """The spatial size ``resize(size)`` gives an input of shape ``s`` (an int is every side)."""
    dims = len(s) - 1
    out = (size,) * dims if isinstance(size, int) and not isinstance(size, bool) else tuple(size) \
        if isinstance(size, (list, tuple)) else None
    if out is None or len(out) != dims or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                                                  for d in out):
        raise ShapeError(f"resize size must be a positive int or a list of {dims} positive ints, got {size!r}")
    return out


@shape_rule("resize")
def _resize(p, ins):
    s = _rank(ins, "resize", (2, 3), "a feature map [C, H, W] or a signal [C, L]")
    _mode(p, s, "resize")
    return (s[0],) + resize_size(p["size"], s)


@shape_rule("channel_shuffle")
def _channel_shuffle(p, ins):
    s = _rank(ins, "channel_shuffle", (2, 3), "channels first, [C, H, W] or [C, L]")
    check_positive(p, "groups")
    if s[0] % p["groups"]:
        raise ShapeError(f"channel_shuffle groups={p['groups']} must divide the {s[0]} channels")
    return s


# 1-D convolutions and pooling -----------------------------------------------------

def _signal(ins, op):
    return _rank(ins, op, (2,), "a signal [C, L]")


@shape_rule("conv1d")
def _conv1d(p, ins):
    s = _signal(ins, "conv1d")
    check_positive(p, "c", "k", "stride", "dilation", "groups")
    _bools(p, "bias")
    if s[0] % p["groups"] or p["c"] % p["groups"]:
        raise ShapeError(f"groups={p['groups']} must divide the input channels ({s[0]}) "
                         f"and the output channels ({p['c']})")
    return (p["c"], conv_out(s[1], p["k"], p["stride"], same_padding(p["k"], p["dilation"]), p["dilation"]))


def pool1d_padding(p) -> int:
    return same_padding(p["k"]) if p.get("padding") is None else p["padding"]


@shape_rule("max_pool1d", "avg_pool1d")
def _pool1d(p, ins):
    s = _signal(ins, "1-D pooling")
    check_positive(p, "k", "stride")
    pad = pool1d_padding(p)
    if not isinstance(pad, int) or isinstance(pad, bool) or pad < 0 or 2 * pad > p["k"]:
        raise ShapeError(f"pool padding must be an int between 0 and k/2, got {pad!r}")
    return (s[0], conv_out(s[1], p["k"], p["stride"], pad))


# tokens [S, D] ---------------------------------------------------------------------

def _tokens(ins, op):
    return _rank(ins, op, (2,), "a token sequence [S, D]")


def attention_widths(p: dict, dim: int) -> int:
    """The width of the queries, keys and values: ``heads * head_dim``, by default ``dim``."""
    check_positive(p, "heads")
    if p.get("head_dim") is None:
        if dim % p["heads"]:
            raise ShapeError(f"heads={p['heads']} must divide the token width {dim} (or give head_dim)")
        return dim
    check_positive(p, "head_dim")
    return p["heads"] * p["head_dim"]


@shape_rule("multihead_attention")
def _mha(p, ins):
    s = _tokens(ins, "multihead_attention")
    attention_widths(p, s[1])
    _bools(p, "bias")
    return s


def mlp_width(p: dict, dim: int) -> int:
    r = p["mlp_ratio"]
    if not isinstance(r, (int, float)) or isinstance(r, bool) or r <= 0:
        raise ShapeError(f"mlp_ratio must be a positive number, got {r!r}")
    hidden = int(dim * r)
    if hidden < 1:
        raise ShapeError(f"mlp_ratio={r} leaves no hidden units for width {dim}")
    return hidden


@shape_rule("transformer_block")
def _block(p, ins):
    s = _tokens(ins, "transformer_block")
    attention_widths(p, s[1])
    mlp_width(p, s[1])
    _bools(p, "bias")
    if p["act"] not in ACTIVATIONS:
        raise ShapeError(f"transformer_block act must be one of {', '.join(ACTIVATIONS)}, got {p['act']!r}")
    return s


@shape_rule("patch_embed")
def _patch_embed(p, ins):
    s = _rank(ins, "patch_embed", (3,), "a feature map [C, H, W]")
    check_positive(p, "dim", "patch")
    if s[1] % p["patch"] or s[2] % p["patch"]:
        raise ShapeError(f"patch={p['patch']} must divide the map's height and width ({s[1]}x{s[2]})")
    return ((s[1] // p["patch"]) * (s[2] // p["patch"]), p["dim"])


@shape_rule("pos_embed")
def _pos_embed(p, ins):
    return _tokens(ins, "pos_embed")


@shape_rule("cls_token")
def _cls_token(p, ins):
    s = _tokens(ins, "cls_token")
    return (s[0] + 1, s[1])


@shape_rule("token_pool")
def _token_pool(p, ins):
    s = _tokens(ins, "token_pool")
    if p["mode"] not in ("mean", "cls"):
        raise ShapeError(f"token_pool mode must be mean or cls, got {p['mode']!r}")
    return (s[1],)
