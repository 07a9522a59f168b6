"""Parameters and FLOPs of an architecture, from its ``ArchGraph`` and the
inferred shapes, without building any module.

Each op has a *cost rule* ``rule(params, in_shapes, out_shape) -> OpCost``
(shapes without the batch dimension). The counts are for one sample:

- ``params``: what ``sum(p.numel() for p in model.parameters())`` gives
  (BatchNorm's running statistics are buffers, not parameters);
- ``flops``: what ``torch.utils.flop_counter.FlopCounterMode`` reports for a
  forward pass at batch 1: 2 per multiply-add of convolutions and matrix
  products (``Linear``, ``MM``); biases, normalization, activations, pooling
  and elementwise merges count nothing;
- ``macs``: the multiply-adds of the convolutions and linear layers, with
  one add per output for a bias. This is what NAS-Bench-201 publishes as
  "FLOPs" (7.78305M to 220.11969M on CIFAR-10), with one difference: the
  benchmark's code runs every edge of a cell, so it also counts the ops
  whose node feeds only ``none`` edges, which nasl's forward never runs.
  ``cost(..., count_dead=True)`` counts them too and gives the published
  numbers.

An op without a cost rule (a user op registered only with a builder) is
built once on the ``meta`` device, where its weights take no memory, and
measured with ``FlopCounterMode``; register a rule with :func:`cost_rule`
to avoid that. This module imports torch only for that fallback.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from nasl.compiler.infer import infer_shapes
from nasl.compiler.plan import plan_graph
from nasl.compiler.shapes_ext import mbconv_widths, se_op_width
from nasl.compiler.user_ops import reraise
from nasl.compiler.op_rules import COST_RULES, cost_rule, get_builder, raw_cost_rule, run_impl
from nasl.ir.errors import NaslError


@dataclass(frozen=True)
class OpCost:
    params: int = 0
    flops: int = 0
    macs: int = 0

    def __add__(self, other: "OpCost") -> "OpCost":
        return OpCost(self.params + other.params, self.flops + other.flops, self.macs + other.macs)


FREE = OpCost()


@dataclass
class Cost:
    """The cost of one architecture: totals, and ``per_op`` by node id."""

    params: int
    flops: int
    macs: int
    layers: int = 0
    per_op: dict = field(default_factory=dict, repr=False)       # node -> OpCost
    op_names: dict = field(default_factory=dict, repr=False)     # node -> op name
    output_shapes: dict = field(default_factory=dict)

    def by_op(self) -> dict:
        """``{op name: OpCost}`` summed over the nodes of each op."""
        out: dict = {}
        for n, c in self.per_op.items():
            out[self.op_names[n]] = out.get(self.op_names[n], FREE) + c
        return out


def get_cost_rule(name: str):
    """The cost rule of ``name``: one registered with :func:`cost_rule`, else ``register_op(cost=)``'s
    (whose result may be a ``{"params", "flops", "macs"}`` dict)."""
    fn = COST_RULES.find(name)
    if fn is None:
        fn = raw_cost_rule(name)
        return None if fn is None else _as_op_cost(fn)
    return fn


def _as_op_cost(rule):
    def wrapped(p, ins, out):
        c = rule(p, ins, out)
        if isinstance(c, OpCost):
            return c
        if isinstance(c, dict) and set(c) <= {"params", "flops", "macs"}:
            return OpCost(**{k: int(v) for k, v in c.items()})
        raise TypeError(f"a cost rule must return an OpCost or a dict of params, flops and macs, got {c!r}")
    wrapped.__module__ = getattr(rule, "__module__", None)    # still the user's code (see user_ops)
    return wrapped


# building blocks -----------------------------------------------------------

def conv(c_in: int, c_out: int, kernel, out_hw, groups: int = 1, bias: bool = False) -> OpCost:
    """A Conv2d: ``kernel`` is ``k`` or ``(kh, kw)``, ``out_hw`` the output ``(H, W)``."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    per_out = (c_in // groups) * kh * kw
    positions = c_out * prod(out_hw)
    w = c_out * per_out
    return OpCost(w + (c_out if bias else 0), 2 * per_out * positions,
                  per_out * positions + (positions if bias else 0))


def linear(f_in: int, f_out: int, rows: int = 1, bias: bool = True) -> OpCost:
    """A Linear layer applied to ``rows`` vectors."""
    return OpCost(f_in * f_out + (f_out if bias else 0), 2 * rows * f_in * f_out,
                  rows * f_in * f_out + (rows * f_out if bias else 0))


def norm(c: int, affine: bool = True) -> OpCost:
    return OpCost(2 * c if affine else 0)


# the op library ---------------------------------------------------------------

@cost_rule("avg_pool", "max_pool", "global_avg_pool", "identity", "tap", "zero", "none", "relu", "dropout",
           "flatten", "add", "sum", "mean", "concat", "concat_pad", "split", "slice", "pad_channels",
           "Add", "Sub", "Mult", "Div", "Gate3", "Sigmoid", "Tanh", "ReLU", "Sin", "Cos", "SeLU", "PosEnc")
def _free(p, ins, out):
    return FREE


@cost_rule("conv")
def _conv(p, ins, out):
    return conv(ins[0][0], p["c"], p["k"], out[1:], p["groups"], bool(p["bias"]))


@cost_rule("conv_bn_relu", "relu_conv_bn")
def _conv_bn(p, ins, out):
    return conv(ins[0][0], p["c"], p["k"], out[1:]) + norm(p["c"])


@cost_rule("dw_conv")
def _dw(p, ins, out):
    c = ins[0][0]
    return conv(c, c, p["k"], out[1:], groups=c)


@cost_rule("sep_conv")
def _sep(p, ins, out):
    c_in, c, k, hw = ins[0][0], p["c"], p["k"], out[1:]
    return (conv(c_in, c_in, k, hw, groups=c_in) + conv(c_in, c_in, 1, hw) + norm(c_in)
            + conv(c_in, c_in, k, hw, groups=c_in) + conv(c_in, c, 1, hw) + norm(c))


@cost_rule("dil_conv")
def _dil(p, ins, out):
    c_in, c, hw = ins[0][0], p["c"], out[1:]
    return conv(c_in, c_in, p["k"], hw, groups=c_in) + conv(c_in, c, 1, hw) + norm(c)


@cost_rule("factorized_reduce")
def _fr(p, ins, out):
    c_in, c, hw = ins[0][0], p["c"], out[1:]
    return conv(c_in, c // 2, 1, hw) + conv(c_in, c - c // 2, 1, hw) + norm(c)


@cost_rule("rect_conv_bn_relu")
def _rect_conv(p, ins, out):
    return conv(ins[0][0], p["c"], (p["kh"], p["kw"]), out[1:]) + norm(p["c"])


@cost_rule("conv_7x1_1x7", "conv_1xk_kx1")
def _conv71(p, ins, out):
    c_in, c, k = ins[0][0], p["c"], p.get("k", 7)
    return conv(c_in, c_in, (1, k), (ins[0][1], out[2])) + conv(c_in, c, (k, 1), out[1:]) + norm(c)


def squeeze_excite(c: int, mid: int) -> OpCost:
    return conv(c, mid, 1, (1, 1), bias=True) + conv(mid, c, 1, (1, 1), bias=True)


@cost_rule("squeeze_excite")
def _se(p, ins, out):
    c = ins[0][0]
    return squeeze_excite(c, se_op_width(p, c))


@cost_rule("mbconv")
def _mbconv(p, ins, out):
    c_in, c, hw, g = ins[0][0], p["c"], out[1:], p["groups"]
    mid, se_mid = mbconv_widths(p, c_in)
    total = FREE
    if p["expand"] != 1:
        total += conv(c_in, mid, 1, ins[0][1:], groups=g) + norm(mid)
    total += conv(mid, mid, p["k"], hw, groups=mid) + norm(mid)
    if se_mid:
        total += squeeze_excite(mid, se_mid)
    return total + conv(mid, c, 1, hw, groups=g) + norm(c)


@cost_rule("concat_conv")
def _concat_conv(p, ins, out):
    return conv(sum(s[0] for s in ins), p["c"], 1, out[1:])


@cost_rule("linear")
def _linear(p, ins, out):
    s = ins[0]
    return linear(s[-1], p["n"], rows=prod(s[:-1]), bias=bool(p["bias"]))


@cost_rule("MM")
def _mm(p, ins, out):
    s = ins[0]
    return linear(s[-1], out[-1], rows=prod(s[:-1]), bias=True)


@cost_rule("bn")
def _bn(p, ins, out):
    return norm(ins[0][0], bool(p["affine"]))


@cost_rule("layer_norm")
def _layer_norm(p, ins, out):
    s = ins[0]
    return norm(s[0] if len(s) == 3 else s[-1])


@cost_rule("LayerNorm")
def _rnn_layer_norm(p, ins, out):
    return norm(ins[0][-1])




# counting ---------------------------------------------------------------------

def measured_cost(op: str, params: dict, in_shapes: list) -> OpCost:
    """Build an op on the ``meta`` device and count it (``macs``: flops / 2, biases not seen)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    with torch.device("meta"):
        impl, _ = get_builder(op)(params, [tuple(s) for s in in_shapes])
        n = sum(p.numel() for p in impl.parameters()) if isinstance(impl, torch.nn.Module) else 0
        xs = [torch.empty((1,) + tuple(s)) for s in in_shapes]
        with FlopCounterMode(display=False) as counter:
            run_impl(impl, xs)
    flops = counter.get_total_flops()
    return OpCost(n, flops, flops // 2)


def op_cost(op: str, params: dict, in_shapes: list, out_shape) -> OpCost:
    """The cost of one op with these inputs and output (shapes without batch)."""
    rule = get_cost_rule(op)
    if rule is None:
        return measured_cost(op, params, in_shapes)
    return rule(params, [tuple(s) for s in in_shapes], tuple(out_shape))


def cost_graph(graph, input_shape=None, count_dead: bool = False) -> Cost:
    """The :class:`Cost` of an ``ArchGraph`` (see :func:`cost`).

    Dead ops (on no path to an output) count their parameters, which the
    compiled module holds, but no FLOPs, since its forward never runs them;
    with ``count_dead`` they count their FLOPs too, as code that runs every
    op of a cell does (NAS-Bench-201's).
    """
    plan = plan_graph(graph)
    shapes = infer_shapes(graph, input_shape, plan)
    per_op, names = {}, {}
    total = FREE
    nodes = graph.nodes
    for n in plan.order:
        d = nodes[n]
        if d.get("kind") != "op":
            continue
        try:
            c = op_cost(d["op"], d.get("params") or {}, [shapes[u] for u in plan.inputs[n]], shapes[n])
        except Exception as e:  # noqa: BLE001 - a user op's own code failed (see user_ops)
            reraise(e, n, d, "while its cost was counted")
        if n not in plan.live and not count_dead:   # the module holds its weights; its forward never runs it
            c = OpCost(params=c.params)
        per_op[n], names[n] = c, d["op"]
        total += c
    outs = {o: shapes[o] for o in graph.graph.get("outputs", [])}
    return Cost(total.params, total.flops, total.macs, len(per_op), per_op, names, outs)


def cost(space, arch, input_shape=None, count_dead: bool = False) -> Cost:
    """Parameters, FLOPs and MACs of one architecture of ``space``, for one sample.

    ``cost(...).params`` equals the compiled module's parameter count and
    ``.flops`` what ``FlopCounterMode`` counts for its forward at batch 1;
    nothing is built. ``input_shape`` is as for ``nasl.compile``.
    ``count_dead=True`` also counts the FLOPs of ops the forward never runs
    (those feeding only ``none`` edges): NAS-Bench-201's published "FLOPs"
    are ``cost(..., count_dead=True).macs``.
    """
    try:
        return cost_graph(space.realize(arch), input_shape, count_dead)
    except NaslError as e:              # draw the caret under a shape error's span
        e.with_source(getattr(getattr(space, "_backend", None), "source", None))
        raise


__all__ = ["Cost", "OpCost", "cost", "cost_graph", "op_cost", "cost_rule", "get_cost_rule", "conv", "linear",
           "norm"]
