"""The op library's signatures: names, parameters and arities, without torch.

``.nas`` files name ops; this registry is what lets ``nasl check`` validate
those names and their keyword parameters without importing torch. The
compiler attaches a PyTorch builder to the same names. Users add their own
ops with :func:`register_op`, in the style of timm's ``register_model``: its
``builder``, ``shape`` and ``cost`` functions are kept on the signature (this
module never calls them, so it stays torch-free) and the compiler finds them
there when it has no rule of its own for the name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from nasl.ir.binding import bind_arguments
from nasl.registry import Registry, caller_module

REQUIRED = object()
VARIADIC = -1


@dataclass(frozen=True)
class OpSig:
    """What a ``.nas`` file may say about an op.

    ``params`` lists ``(name, default)`` in positional order; ``REQUIRED``
    marks a parameter without default. ``inputs`` is the number of tensors the
    op takes, or ``VARIADIC`` for merges. ``zero`` marks ops whose output is
    identically zero (an absent edge), ``identity`` ops that pass the input on.
    """

    name: str
    params: tuple = ()
    inputs: int = 1
    category: str = "layer"
    doc: str = ""
    zero: bool = False
    identity: bool = False
    # the user's code for the op (see register_op); not part of the signature's identity, so a
    # module that registers the same op again with fresh function objects is no clash
    builder: Optional[Callable] = field(default=None, compare=False, hash=False)
    shape: Optional[Callable] = field(default=None, compare=False, hash=False)
    cost: Optional[Callable] = field(default=None, compare=False, hash=False)

    @property
    def param_names(self) -> tuple:
        return tuple(p for p, _ in self.params)

    def bind(self, args: tuple = (), kwargs: dict | None = None, *, base: dict | None = None, span=None) -> dict:
        """Map call arguments to parameter names, onto those ``base`` already binds.

        Raises :class:`~nasl.ir.errors.NaslTypeError` (at ``span``) naming the
        parameter that is unknown, given twice or one too many.
        """
        return bind_arguments(f"'{self.name}'", self.param_names, args, kwargs, base=base, span=span)

    def missing(self, bound: dict) -> list:
        return [p for p, d in self.params if d is REQUIRED and p not in bound]

    def resolved(self, bound: dict) -> dict:
        """All parameters with defaults filled in."""
        return {p: bound.get(p, None if d is REQUIRED else d) for p, d in self.params}


# the op signatures; plug-ins of the entry-point group ``nasl.ops`` load before the first read.
# The same definition again (a module imported twice, fresh function objects) is no clash.
OPS = Registry("op", "nasl.ops", same=lambda old, new: old == new)


def register_op(name: str, params: tuple | list | dict = (), *, inputs: int = 1, category: str = "layer",
                doc: str = "", zero: bool = False, identity: bool = False, builder: Callable | None = None,
                shape: Callable | None = None, cost: Callable | None = None, replace: bool = False,
                example: tuple | None = None) -> OpSig:
    """Register an op signature, and optionally its PyTorch builder, shape rule and cost rule.

    ``params`` is a sequence of names (required) or ``(name, default)``
    pairs, or a dict ``{name: default}``; use :data:`REQUIRED` for no default.
    ``builder(params, in_shapes) -> (impl, out_shape or None)`` makes the op
    (``impl`` an ``nn.Module`` or a function of the input tensors);
    ``shape(params, in_shapes) -> out_shape`` gives its output shape without
    building it; ``cost(params, in_shapes, out_shape)`` returns an
    ``OpCost`` or a ``{"params", "flops", "macs"}`` dict. Shapes exclude
    the batch dimension; ``params`` holds every parameter, defaults filled in.
    ``example`` is ``(params given in a .nas file, input shapes)``: the case
    ``tests/test_registries.py`` builds, shapes and costs, and that ``nasl
    list ops`` shows.

    This is the one way to add an op (docs/language.md, "Adding an op").
    """
    for what, fn in (("builder", builder), ("shape", shape), ("cost", cost)):
        if fn is not None and not callable(fn):
            raise TypeError(f"register_op({name!r}): {what} must be callable, got {type(fn).__name__}")
    if not name.isidentifier():
        raise ValueError(f"op name must be an identifier, got {name!r}")
    if isinstance(params, dict):
        plist = tuple(params.items())
    else:
        plist = tuple(p if isinstance(p, tuple) else (p, REQUIRED) for p in params)
    sig = OpSig(name, plist, inputs, category, doc, zero, identity, builder, shape, cost)
    if example is not None:
        _check_example(name, example)
    OPS.register(name, sig, replace=replace, origin=caller_module(),
                 **({"example": example} if example is not None else {}))
    return sig


def _check_example(name: str, example) -> None:
    ok = (isinstance(example, tuple) and len(example) == 2 and isinstance(example[0], dict)
          and isinstance(example[1], (list, tuple)) and all(isinstance(s, (list, tuple)) for s in example[1]))
    if not ok:
        raise TypeError(f"register_op({name!r}): example is (params dict, [input shape, ...]), got {example!r}")


def is_library_op(name: str) -> bool:
    """Whether ``name`` is one of nasl's own ops (whose parameter conventions nasl checks)."""
    return name in _LIBRARY and OPS.find(name) is _LIBRARY[name]


def get_op(name: str) -> OpSig | None:
    return OPS.find(name)


def list_ops(pattern: str = "*") -> list[str]:
    """Registered op names matching a glob pattern, sorted."""
    return OPS.names(pattern)


def op_names() -> list[str]:
    return OPS.keys()


R = REQUIRED
_CONV = (("c", R), ("k", 3), ("stride", 1))
_STD: list[tuple[str, tuple, dict]] = [
    # convolutions
    ("conv", (("c", R), ("k", 3), ("stride", 1), ("dilation", 1), ("groups", 1), ("bias", False)),
     dict(doc="Conv2d with 'same' padding (k//2 * dilation)")),
    ("conv_bn_relu", _CONV, dict(doc="Conv-BN-ReLU (NAS-Bench-101 style)")),
    ("relu_conv_bn", _CONV + (("dilation", 1),), dict(doc="ReLU-Conv-BN (NAS-Bench-201, DARTS preprocessing)")),
    ("sep_conv", _CONV, dict(doc="DARTS separable conv: two stacked ReLU-depthwise-pointwise-BN")),
    ("dil_conv", _CONV + (("dilation", 2),), dict(doc="ReLU, dilated depthwise, pointwise, BN")),
    ("dw_conv", (("k", 3), ("stride", 1)), dict(doc="depthwise conv keeping the channels")),
    ("conv_7x1_1x7", (("c", R), ("stride", 1)), dict(doc="ReLU, 1x7 conv, 7x1 conv, BN")),
    ("rect_conv_bn_relu", (("c", R), ("kh", 3), ("kw", 3), ("stride", 1)),
     dict(doc="Conv (kh x kw kernel, odd sizes, 'same' padding)-BN-ReLU (Zoph & Le's layers)")),
    ("conv_1xk_kx1", (("c", R), ("k", 3), ("stride", 1)),
     dict(doc="ReLU, 1xk conv, kx1 conv, BN (NASNet's '1x3 then 3x1'); k odd")),
    ("factorized_reduce", (("c", R),), dict(doc="two stride-2 1x1 convs on shifted inputs, concatenated")),
    ("mbconv", (("c", R), ("k", 3), ("expand", 6), ("stride", 1), ("se", False), ("residual", True),
                ("groups", 1), ("act", "relu6")),
     dict(doc="MobileNetV2 inverted residual; optional squeeze-excite: se=true is OFA's (make_divisible(mid // 4, 8) "
              "channels, hard sigmoid), se=0.25 MnasNet's (a quarter of the input channels, sigmoid); "
              "grouped 1x1 convs with a channel shuffle, act relu6/relu/hswish/...")),
    ("squeeze_excite", (("reduction", 4), ("divisor", 1), ("gate", "sigmoid"), ("width", None)),
     dict(doc="squeeze-and-excitation gate to make_divisible(c // reduction, divisor) channels, or to `width`")),
    # pooling and simple layers
    ("avg_pool", (("k", 3), ("stride", 1), ("padding", None), ("count_include_pad", False)), {}),
    ("max_pool", (("k", 3), ("stride", 1), ("padding", None)), {}),
    ("global_avg_pool", (), {}),
    ("identity", (), dict(identity=True, doc="passes the input on")),
    ("zero", (("stride", 1),), dict(zero=True, doc="an all-zero output (an absent edge)")),
    ("none", (("stride", 1),), dict(zero=True, doc="alias of zero, as NAS-Bench-201 and DARTS name it")),
    ("linear", (("n", R), ("bias", True)), {}),
    ("bn", (("affine", True),), {}),
    ("relu", (), {}),
    ("dropout", (("p", 0.5),), {}),
    ("flatten", (), {}),
    ("layer_norm", (), dict(doc="LayerNorm over the channels of a map, or the last dimension of [S, D] / [F]")),
    # activations (any shape)
    ("gelu", (), {}), ("silu", (), {}), ("swish", (), dict(doc="alias of silu")),
    ("hswish", (), dict(doc="hard swish, x * relu6(x + 3) / 6 (MobileNetV3)")),
    ("hsigmoid", (), dict(doc="hard sigmoid, relu6(x + 3) / 6 (MobileNetV3)")),
    ("tanh", (), {}), ("sigmoid", (), {}), ("relu6", (), {}),
    # resampling and channel order, on [C, H, W] or [C, L]
    ("upsample", (("scale", 2), ("mode", "nearest")),
     dict(doc="resample to floor(size * scale); mode nearest, bilinear, bicubic (maps) or linear (signals)")),
    ("resize", (("size", R), ("mode", None)),
     dict(doc="resample to a fixed size (an int for every side, or [h, w]); modes as upsample, "
              "by default bilinear (maps) or linear (signals)")),
    ("channel_shuffle", (("groups", R),), dict(doc="ShuffleNet's channel shuffle")),
    # 1-D signals [C, L]
    ("conv1d", (("c", R), ("k", 3), ("stride", 1), ("dilation", 1), ("groups", 1), ("bias", False)),
     dict(doc="Conv1d with 'same' padding over [C, L]")),
    ("max_pool1d", (("k", 3), ("stride", 1), ("padding", None)), {}),
    ("avg_pool1d", (("k", 3), ("stride", 1), ("padding", None), ("count_include_pad", False)), {}),
    # tokens [S, D]
    ("multihead_attention", (("heads", R), ("head_dim", None), ("bias", True)),
     dict(doc="self-attention over [S, D] tokens (heads * head_dim wide; head_dim = D / heads by default)")),
    ("transformer_block", (("heads", R), ("mlp_ratio", 4), ("head_dim", None), ("bias", True), ("act", "gelu")),
     dict(doc="pre-norm ViT block: x + attn(ln(x)), x + mlp(ln(x)) with int(D * mlp_ratio) hidden units")),
    ("patch_embed", (("dim", R), ("patch", R)), dict(doc="[C, H, W] to [H*W/patch^2, dim] tokens (a strided conv)")),
    ("pos_embed", (), dict(doc="adds a learned [S, D] position table")),
    ("cls_token", (), dict(doc="prepends a learned token: [S, D] to [S + 1, D]")),
    ("token_pool", (("mode", "mean"),), dict(doc="[S, D] to [D]: the mean of the tokens, or the first (mode=cls)")),
    # merges and channel ops
    ("add", (), dict(category="merge", doc="elementwise sum")),
    ("sum", (), dict(category="merge", doc="elementwise sum")),
    ("mean", (), dict(category="merge", doc="elementwise mean")),
    ("concat", (), dict(category="merge", doc="channel concatenation")),
    ("concat_conv", (("c", R),), dict(category="merge", doc="concatenation then 1x1 conv to c channels")),
    ("concat_pad", (), dict(category="merge", doc="channel concatenation, smaller maps zero-padded at the bottom "
                                                  "and right to the largest (Zoph & Le)")),
    ("split", (("parts", R), ("index", R)), dict(category="channel", doc="one of `parts` near-equal channel groups")),
    ("slice", (("c", R),), dict(category="channel", doc="the first c channels")),
    ("pad_channels", (("c", R),), dict(category="channel", doc="zero channels appended up to c (PyramidNet shortcuts)")),
    ("tap", (("name", R),), dict(category="output", doc="passes its input on and exports it as a named output")),
    # RNN cell operators (Schrimpf et al.)
    ("MM", (("n", None),), dict(category="rnn", doc="a linear map with fresh weights")),
    ("Add", (), dict(category="rnn")), ("Sub", (), dict(category="rnn")),
    ("Mult", (), dict(category="rnn")), ("Div", (), dict(category="rnn")),
    ("Gate3", (), dict(category="rnn", doc="sigmoid(f)*x + (1-sigmoid(f))*y")),
    ("Sigmoid", (), dict(category="rnn")), ("Tanh", (), dict(category="rnn")),
    ("ReLU", (), dict(category="rnn")), ("Sin", (), dict(category="rnn")), ("Cos", (), dict(category="rnn")),
    ("PosEnc", (), dict(category="rnn")), ("LayerNorm", (), dict(category="rnn")), ("SeLU", (), dict(category="rnn")),
]
_ARITY = {"add": VARIADIC, "sum": VARIADIC, "mean": VARIADIC, "concat": VARIADIC, "concat_conv": VARIADIC,
          "concat_pad": VARIADIC,
          "Add": 2, "Sub": 2, "Mult": 2, "Div": 2, "Gate3": 3}

_LIBRARY: dict[str, OpSig] = {}
for _name, _params, _kw in _STD:
    _LIBRARY[_name] = register_op(_name, _params, inputs=_ARITY.get(_name, 1), **_kw)
del _name, _params, _kw


def _attach_examples() -> None:
    # the library's examples live beside their tests' data (nasl/ir/op_examples.py), one per op at least
    from nasl.ir.op_examples import EXAMPLES
    for name, cases in EXAMPLES.items():
        OPS.annotate(name, example=cases[0], examples=cases)


_attach_examples()
