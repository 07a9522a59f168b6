"""An example of every op of the library: the params a ``.nas`` file gives it and its input shapes.

``register_op(..., example=...)`` keeps a user op's example on its registry
entry; :mod:`nasl.ir.oplib` attaches these to the library's entries. The
first of each op's list is its ``example`` (``nasl list ops`` shows it;
``tests/test_registries.py`` builds, shapes and costs it); the others are
``examples``, which ``tests/compiler/test_ops.py`` runs through the compiler
as well.
"""
from __future__ import annotations

# op -> list of (params given in a .nas file, input shapes)
EXAMPLES = {
    "conv": [({"c": 8, "k": 3}, [(4, 9, 9)]), ({"c": 8, "k": 5, "stride": 2, "dilation": 2, "groups": 4,
                                                   "bias": True}, [(4, 16, 16)])],
    "conv_bn_relu": [({"c": 8, "k": 1}, [(4, 8, 8)]), ({"c": 8, "k": 3, "stride": 2}, [(4, 7, 7)])],
    "relu_conv_bn": [({"c": 8, "k": 3}, [(4, 8, 8)]), ({"c": 6, "k": 3, "stride": 2, "dilation": 2}, [(4, 9, 9)])],
    "sep_conv": [({"c": 8, "k": 3}, [(4, 8, 8)]), ({"c": 6, "k": 5, "stride": 2}, [(4, 9, 9)]),
                 ({"c": 4, "k": 7}, [(4, 8, 8)])],
    "dil_conv": [({"c": 8, "k": 3}, [(4, 8, 8)]), ({"c": 8, "k": 5, "stride": 2}, [(4, 11, 11)])],
    "dw_conv": [({"k": 3}, [(4, 8, 8)]), ({"k": 5, "stride": 2}, [(4, 8, 8)])],
    "conv_7x1_1x7": [({"c": 4}, [(4, 8, 8)]), ({"c": 8, "stride": 2}, [(4, 9, 9)])],
    "conv_1xk_kx1": [({"c": 4}, [(4, 8, 8)]), ({"c": 8, "k": 5, "stride": 2}, [(4, 9, 9)])],
    "factorized_reduce": [({"c": 8}, [(4, 8, 8)]), ({"c": 7}, [(4, 9, 9)])],
    "mbconv": [({"c": 4, "k": 3}, [(4, 8, 8)]), ({"c": 8, "k": 5, "expand": 3, "stride": 2, "se": True},
                                                  [(4, 9, 9)]), ({"c": 6, "k": 7, "expand": 1}, [(4, 8, 8)]),
               ({"c": 8, "k": 3, "expand": 4, "groups": 2, "se": True, "act": "hswish"}, [(8, 6, 6)]),
               ({"c": 8, "k": 3, "expand": 1.5, "residual": False, "act": "relu"}, [(8, 6, 6)]),
               ({"c": 8, "k": 5, "expand": 3, "se": 0.25, "act": "relu"}, [(8, 6, 6)]),
               ({"c": 12, "k": 3, "expand": 6, "stride": 2, "se": 0.25, "act": "relu"}, [(6, 7, 7)])],
    "squeeze_excite": [({}, [(8, 4, 4)]), ({"reduction": 4, "divisor": 8, "gate": "hsigmoid"}, [(72, 3, 3)]),
                       ({"width": 5}, [(12, 3, 3)])],
    "avg_pool": [({}, [(4, 8, 8)]), ({"k": 2, "stride": 2}, [(4, 8, 8)]),
                 ({"k": 3, "stride": 2, "padding": 0, "count_include_pad": True}, [(4, 9, 9)])],
    "max_pool": [({}, [(4, 8, 8)]), ({"k": 3, "stride": 2, "padding": 1}, [(4, 9, 9)])],
    "global_avg_pool": [({}, [(4, 5, 5)]), ({}, [(4, 9)])],
    "identity": [({}, [(4, 5, 5)])],
    "tap": [({"name": "c_t"}, [(4, 5, 5)])],
    "zero": [({}, [(4, 8, 8)]), ({"stride": 2}, [(4, 9, 9)])],
    "none": [({}, [(4, 8, 8)]), ({"stride": 2}, [(4, 8, 8)])],
    "linear": [({"n": 10}, [(16,)]), ({"n": 3, "bias": False}, [(5,)]), ({"n": 6}, [(7, 4)])],
    "bn": [({}, [(4, 5, 5)]), ({"affine": False}, [(6,)]), ({}, [(4, 9)])],
    "relu": [({}, [(4, 5, 5)])],
    "dropout": [({"p": 0.2}, [(4, 5, 5)])],
    "flatten": [({}, [(4, 5, 5)])],
    "layer_norm": [({}, [(4, 5, 5)]), ({}, [(7,)]), ({}, [(5, 8)])],
    # activations
    **{a: [({}, [(4, 5, 5)]), ({}, [(6,)])] for a in ("gelu", "silu", "swish", "hswish", "hsigmoid", "tanh",
                                                       "sigmoid", "relu6")},
    # resampling and channel order
    "upsample": [({}, [(3, 4, 5)]), ({"scale": 1.5, "mode": "bilinear"}, [(3, 4, 5)]),
                 ({"scale": 3, "mode": "linear"}, [(3, 5)]), ({"scale": 0.5, "mode": "bicubic"}, [(2, 8, 8)])],
    "resize": [({"size": 7}, [(3, 4, 5)]), ({"size": [3, 9], "mode": "nearest"}, [(3, 4, 5)]),
               ({"size": 11, "mode": "linear"}, [(2, 5)])],
    "channel_shuffle": [({"groups": 2}, [(6, 3, 3)]), ({"groups": 3}, [(6, 5)])],
    # 1-D signals
    "conv1d": [({"c": 8}, [(4, 9)]), ({"c": 8, "k": 5, "stride": 2, "dilation": 2, "groups": 4, "bias": True},
                                      [(4, 16)])],
    "max_pool1d": [({}, [(4, 9)]), ({"k": 2, "stride": 2}, [(4, 9)])],
    "avg_pool1d": [({}, [(4, 9)]), ({"k": 3, "stride": 2, "padding": 0, "count_include_pad": True}, [(4, 9)])],
    # tokens
    "multihead_attention": [({"heads": 2}, [(5, 8)]), ({"heads": 3, "head_dim": 4, "bias": False}, [(6, 8)])],
    "transformer_block": [({"heads": 2}, [(5, 8)]), ({"heads": 2, "mlp_ratio": 3.5, "head_dim": 6,
                                                      "act": "relu"}, [(4, 8)])],
    "patch_embed": [({"dim": 8, "patch": 4}, [(3, 8, 12)])],
    "pos_embed": [({}, [(5, 8)])],
    "cls_token": [({}, [(5, 8)])],
    "token_pool": [({}, [(5, 8)]), ({"mode": "cls"}, [(5, 8)])],
    "add": [({}, [(4, 5, 5), (4, 5, 5)])],
    "sum": [({}, [(4, 5, 5), (4, 5, 5), (4, 5, 5)])],
    "mean": [({}, [(4, 5, 5), (4, 5, 5)])],
    "concat": [({}, [(4, 5, 5), (3, 5, 5)])],
    "concat_conv": [({"c": 6}, [(4, 5, 5), (3, 5, 5)])],
    "concat_pad": [({}, [(4, 5, 5), (3, 5, 5)]), ({}, [(4, 8, 8), (3, 4, 3), (2, 8, 6)])],
    "rect_conv_bn_relu": [({"c": 4, "kh": 1, "kw": 7}, [(3, 8, 8)]), ({"c": 6, "kh": 5, "kw": 3, "stride": 3},
                                                                      [(4, 10, 9)])],
    "split": [({"parts": 3, "index": 0}, [(8, 4, 4)]), ({"parts": 3, "index": 2}, [(8, 4, 4)])],
    "slice": [({"c": 3}, [(8, 4, 4)])],
    "pad_channels": [({"c": 11}, [(8, 4, 4)]), ({"c": 8}, [(8, 4, 4)]), ({"c": 6}, [(4,)])],
    # RNN cell operators on vectors [H]
    "MM": [({"n": 6}, [(4,)]), ({}, [(5,)])],
    "Add": [({}, [(4,), (4,)])], "Sub": [({}, [(4,), (4,)])],
    "Mult": [({}, [(4,), (4,)])], "Div": [({}, [(4,), (4,)])],
    "Gate3": [({}, [(4,), (4,), (4,)])],
    "Sigmoid": [({}, [(4,)])], "Tanh": [({}, [(4,)])], "ReLU": [({}, [(4,)])], "Sin": [({}, [(4,)])],
    "Cos": [({}, [(4,)])], "SeLU": [({}, [(4,)])], "LayerNorm": [({}, [(6,)])], "PosEnc": [({}, [(5,)])],
}
