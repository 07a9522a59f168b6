"""Shape and channel inference over an :class:`~nasl.ir.archgraph.ArchGraph`.

Shapes are tuples without the batch dimension: ``(C, H, W)`` for feature
maps and ``(F,)`` for flat features. Each op has a *shape rule*
``rule(params, in_shapes) -> out_shape`` that raises :class:`ShapeError` with
a plain reason; :func:`~nasl.compiler.infer.infer_shapes` walks the graph in topological order
before any module is built and turns that reason into a
:class:`~nasl.ir.errors.NaslError` at the op's span.

An op without a rule (a user op registered only with a builder) gets its
shape from its builder, run on a ``meta`` tensor, so it costs no memory.

Padding conventions: ``padding=None`` and the 'same' padding of convs are
``dilation * (k - 1) // 2``. For odd kernels that is ``k // 2 * dilation``;
for even kernels it is the smaller half, so ``avg_pool(k=2, stride=2)``
halves an even map exactly as ``AvgPool2d(2, 2)`` does (NAS-Bench-201's
residual shortcut).
"""
from __future__ import annotations

from nasl.compiler.op_rules import SHAPE_RULES, get_builder, get_shape_rule, run_impl, shape_rule  # noqa: F401 (re-exported)

Shape = tuple


class ShapeError(ValueError):
    """An op cannot take inputs of these shapes; the message says why."""


class NoBuilder(ShapeError):
    """An op with neither a shape rule nor a PyTorch builder."""


def same_padding(k: int, dilation: int = 1) -> int:
    return dilation * (k - 1) // 2


def conv_out(size: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    out = (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    if out < 1:
        raise ShapeError(f"a {k}x{k} window (stride {stride}, padding {padding}, dilation {dilation}) "
                         f"does not fit a map of size {size}")
    return out


def one_input(in_shapes, op: str) -> Shape:
    if len(in_shapes) != 1:
        raise ShapeError(f"{op} takes 1 input, got {len(in_shapes)}")
    return tuple(in_shapes[0])


def feature_map(in_shapes, op: str) -> Shape:
    s = one_input(in_shapes, op)
    if len(s) != 3:
        raise ShapeError(f"{op} needs a feature map [C, H, W], got {list(s)}")
    return s


def spatial_out(s: Shape, k: int, stride: int, padding: int, dilation: int = 1) -> tuple:
    return (conv_out(s[1], k, stride, padding, dilation), conv_out(s[2], k, stride, padding, dilation))


def check_positive(params: dict, *names: str):
    for n in names:
        v = params.get(n)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ShapeError(f"parameter '{n}' must be a positive int, got {v!r}")


@shape_rule("conv")
def _conv(p, ins):
    s = feature_map(ins, "conv")
    check_positive(p, "c", "k", "stride", "dilation", "groups")
    if s[0] % p["groups"] or p["c"] % p["groups"]:
        raise ShapeError(f"groups={p['groups']} must divide the input channels ({s[0]}) "
                         f"and the output channels ({p['c']})")
    return (p["c"],) + spatial_out(s, p["k"], p["stride"], same_padding(p["k"], p["dilation"]), p["dilation"])


@shape_rule("conv_bn_relu", "relu_conv_bn", "sep_conv", "dil_conv")
def _conv_like(p, ins):
    s = feature_map(ins, "this op")
    check_positive(p, "c", "k", "stride")
    d = p.get("dilation", 1)
    return (p["c"],) + spatial_out(s, p["k"], p["stride"], same_padding(p["k"], d), d)


@shape_rule("dw_conv")
def _dw(p, ins):
    s = feature_map(ins, "dw_conv")
    check_positive(p, "k", "stride")
    return (s[0],) + spatial_out(s, p["k"], p["stride"], same_padding(p["k"]))


@shape_rule("conv_7x1_1x7", "conv_1xk_kx1")
def _conv71(p, ins):
    s = feature_map(ins, "this op")
    check_positive(p, "c", "stride", *(("k",) if "k" in p else ()))
    k = p.get("k", 7)          # conv_7x1_1x7 has no k
    if k % 2 == 0:
        raise ShapeError(f"conv_1xk_kx1 needs an odd k, got {k}")
    return (p["c"],) + spatial_out(s, k, p["stride"], k // 2)


@shape_rule("factorized_reduce")
def _fr(p, ins):
    s = feature_map(ins, "factorized_reduce")
    check_positive(p, "c")
    if p["c"] < 2:
        raise ShapeError("factorized_reduce needs at least 2 output channels")
    return (p["c"],) + spatial_out(s, 1, 2, 0)


@shape_rule("relu", "dropout", "identity", "tap")
def _same(p, ins):
    return one_input(ins, "this op")


@shape_rule("bn", "layer_norm")
def _norm(p, ins):
    s = one_input(ins, "this op")
    if len(s) not in (1, 2, 3):
        raise ShapeError(f"normalization needs [C, H, W], [C, L] / [S, D] or [F], got {list(s)}")
    return s


@shape_rule("avg_pool", "max_pool")
def _pool(p, ins):
    s = feature_map(ins, "pooling")
    check_positive(p, "k", "stride")
    pad = same_padding(p["k"]) if p.get("padding") is None else p["padding"]
    if not isinstance(pad, int) or pad < 0 or 2 * pad > p["k"]:
        raise ShapeError(f"pool padding must be an int between 0 and k/2, got {pad!r}")
    return (s[0],) + spatial_out(s, p["k"], p["stride"], pad)


@shape_rule("global_avg_pool")
def _gap(p, ins):
    s = one_input(ins, "global_avg_pool")
    if len(s) not in (2, 3):
        raise ShapeError(f"global_avg_pool needs a feature map [C, H, W] or a signal [C, L], got {list(s)}")
    return (s[0],)


@shape_rule("flatten")
def _flatten(p, ins):
    s = one_input(ins, "flatten")
    n = 1
    for d in s:
        n *= d
    return (n,)


@shape_rule("linear")
def _linear(p, ins):
    s = one_input(ins, "linear")
    check_positive(p, "n")
    if len(s) not in (1, 2):
        raise ShapeError(f"linear needs flat features [F] or tokens [S, D], got {list(s)}"
                         + (" (flatten or global_avg_pool the map first)" if len(s) == 3 else ""))
    return s[:-1] + (p["n"],)


@shape_rule("zero", "none")
def _zero(p, ins):
    s = one_input(ins, "zero")
    check_positive(p, "stride")
    if p["stride"] == 1:
        return s
    if len(s) != 3:
        raise ShapeError(f"a strided zero needs a feature map [C, H, W], got {list(s)}")
    return (s[0],) + spatial_out(s, 1, p["stride"], 0)


def _merge_inputs(ins, op):
    if not ins:
        raise ShapeError(f"{op} needs at least one input")
    return [tuple(s) for s in ins]


@shape_rule("add", "sum", "mean")
def _elementwise(p, ins):
    ins = _merge_inputs(ins, "this merge")
    if any(s != ins[0] for s in ins):
        raise ShapeError("cannot add tensors of different shapes: " + ", ".join(str(list(s)) for s in ins))
    return ins[0]


def concat_shape(ins) -> Shape:
    ins = _merge_inputs(ins, "concat")
    if any(len(s) != len(ins[0]) or s[1:] != ins[0][1:] for s in ins):
        raise ShapeError("cannot concatenate tensors whose shapes differ beyond the channels: "
                         + ", ".join(str(list(s)) for s in ins))
    return (sum(s[0] for s in ins),) + ins[0][1:]


@shape_rule("concat")
def _concat(p, ins):
    return concat_shape(ins)


@shape_rule("concat_pad")
def _concat_pad(p, ins):
    ins = _merge_inputs(ins, "concat_pad")
    if any(len(s) != 3 for s in ins):
        raise ShapeError("concat_pad needs feature maps [C, H, W], got " + ", ".join(str(list(s)) for s in ins))
    return (sum(s[0] for s in ins), max(s[1] for s in ins), max(s[2] for s in ins))


@shape_rule("rect_conv_bn_relu")
def _rect_conv(p, ins):
    s = feature_map(ins, "rect_conv_bn_relu")
    check_positive(p, "c", "kh", "kw", "stride")
    if p["kh"] % 2 == 0 or p["kw"] % 2 == 0:
        raise ShapeError(f"rect_conv_bn_relu needs odd kernel sizes, got {p['kh']}x{p['kw']}")
    kh, kw, stride = p["kh"], p["kw"], p["stride"]
    return (p["c"], conv_out(s[1], kh, stride, kh // 2), conv_out(s[2], kw, stride, kw // 2))


@shape_rule("concat_conv")
def _concat_conv(p, ins):
    s = concat_shape(ins)
    check_positive(p, "c")
    if len(s) != 3:
        raise ShapeError(f"concat_conv needs feature maps [C, H, W], got {list(s)}")
    return (p["c"],) + s[1:]


def split_sizes(channels: int, parts: int) -> list:
    """Near-equal channel groups; the remainder goes to the first groups."""
    return [channels // parts + (1 if i < channels % parts else 0) for i in range(parts)]


@shape_rule("split")
def _split(p, ins):
    s = one_input(ins, "split")
    check_positive(p, "parts")
    if not isinstance(p["index"], int) or not 0 <= p["index"] < p["parts"]:
        raise ShapeError(f"split index must be in 0..{p['parts'] - 1}, got {p['index']!r}")
    if p["parts"] > s[0]:
        raise ShapeError(f"cannot split {s[0]} channels into {p['parts']} parts")
    return (split_sizes(s[0], p["parts"])[p["index"]],) + s[1:]


@shape_rule("pad_channels")
def _pad_channels(p, ins):
    s = one_input(ins, "pad_channels")
    check_positive(p, "c")
    if p["c"] < s[0]:
        raise ShapeError(f"cannot zero-pad a tensor of {s[0]} channels to fewer ({p['c']})")
    return (p["c"],) + s[1:]


@shape_rule("slice")
def _slice(p, ins):
    s = one_input(ins, "slice")
    check_positive(p, "c")
    if p["c"] > s[0]:
        raise ShapeError(f"cannot take the first {p['c']} channels of a tensor with {s[0]}")
    return (p["c"],) + s[1:]


def op_shape(op: str, params: dict, in_shapes: list) -> Shape:
    """The output shape of one op; raises :class:`ShapeError`."""
    rule = get_shape_rule(op)
    if rule is not None:
        return tuple(rule(params, [tuple(s) for s in in_shapes]))
    builder = get_builder(op)
    if builder is None:
        raise NoBuilder(f"op '{op}' has no PyTorch builder")
    _, out = builder(params, [tuple(s) for s in in_shapes])
    return tuple(out) if out is not None else meta_shape(op, params, in_shapes)


def meta_shape(op: str, params: dict, in_shapes: list) -> Shape:
    """Run an op's builder on ``meta`` tensors: the shape without the arithmetic."""
    import torch
    impl, _ = get_builder(op)(params, [tuple(s) for s in in_shapes])
    with torch.device("meta"):
        if isinstance(impl, torch.nn.Module):
            impl = impl.to("meta")
        out = run_impl(impl, [torch.empty((1,) + tuple(s)) for s in in_shapes])
    return tuple(out.shape[1:])


