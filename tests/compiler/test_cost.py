"""Params and FLOPs counted from the ArchGraph equal the built module's.

``flops`` is what ``torch.utils.flop_counter.FlopCounterMode`` counts at
batch 1; ``macs`` is NAS-Bench-201's published "FLOPs" convention.
"""
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import nasl
from nasl.compiler import build_op, compile, compile_graph, count_params, torch_ops
from nasl.compiler import layers
from nasl.compiler.cost import OpCost, cost, cost_graph, get_cost_rule, op_cost
from nasl.compiler.layers import run_impl
from tests.compiler.test_darts import DARTS_V2, genotype_arch
from tests.compiler.test_nb201 import BEST_C100, uniform
from tests.compiler.test_ops import EXAMPLES, _resolved, single_op_graph
from tests.conftest import nb201_arch

CASES = [(name, i) for name in torch_ops() for i in range(max(1, len(EXAMPLES.get(name, []))))]


def counted_flops(model, *xs) -> int:
    with FlopCounterMode(display=False) as counter:
        model(*xs)
    return counter.get_total_flops()


@pytest.mark.parametrize("name,case", CASES)
def test_op_cost_equals_the_built_op(name, case):
    assert get_cost_rule(name) is not None, f"add a cost rule for op '{name}' to nasl/compiler/cost.py"
    given, in_shapes = EXAMPLES[name][case]
    params = _resolved(name, given)
    impl, out_shape = build_op(name, params, in_shapes)
    c = op_cost(name, params, in_shapes, out_shape)
    n = sum(p.numel() for p in impl.parameters()) if isinstance(impl, torch.nn.Module) else 0
    assert c.params == n
    if isinstance(impl, torch.nn.Module):
        impl.eval()
    xs = [torch.randn((1,) + tuple(s)) for s in in_shapes]
    assert c.flops == counted_flops(lambda *a: run_impl(impl, list(a)), *xs)
    assert 2 * c.macs >= c.flops
    # the same through the graph: a one-op network costs what its op costs
    g = single_op_graph(name, params, in_shapes)
    total = cost_graph(g)
    assert (total.params, total.flops, total.macs) == (c.params, c.flops, c.macs)
    model = compile_graph(g).eval()
    assert count_params(model) == c.params and counted_flops(model, *xs) == c.flops


def test_macs_count_bias_adds():
    assert op_cost("linear", {"n": 10, "bias": True}, [(64,)], (10,)) == OpCost(650, 1280, 650)
    assert op_cost("conv", {"c": 2, "k": 1, "stride": 1, "dilation": 1, "groups": 1, "bias": True},
                   [(3, 4, 4)], (2, 4, 4)) == OpCost(8, 2 * 96, 96 + 32)


def test_user_op_without_a_rule_is_measured_on_meta(monkeypatch):
    def build(p, ins):
        return torch.nn.Sequential(torch.nn.Linear(ins[0][0], p["n"]), torch.nn.ReLU()), (p["n"],)

    with layers.BUILDERS.isolated():
        layers.BUILDERS.register("cost_test_mlp", build)    # removed after the test
        assert op_cost("cost_test_mlp", {"n": 8}, [(4,)], (8,)) == OpCost(40, 64, 32)


# REFERENCE.md: params of the official code; FLOPs 7.78305M .. 220.11969M (Conv2d + Linear multiply-adds)
NB201 = [
    (uniform("nor_conv_3x3"), 1_531_546, 220_119_690),
    (BEST_C100, 1_288_506, None),
    (uniform("none"), 73_306, 7_783_050),
    (uniform("skip_connect"), 73_306, 7_783_050),
]


@pytest.mark.parametrize("arch,params,macs", NB201)
def test_nb201_counts_without_building(nb201, monkeypatch, arch, params, macs):
    with layers.BUILDERS.isolated(empty=True):      # nothing can be built
        c = nasl.cost(nb201, nb201_arch(arch))
    assert c.params == params
    if macs is not None:
        assert c.macs == macs
    assert c.output_shapes == {"output": (10,)}
    assert c.flops == sum(x.flops for x in c.per_op.values())


@pytest.mark.parametrize("arch", [uniform("nor_conv_3x3"), BEST_C100, uniform("avg_pool_3x3")])
def test_nb201_flops_equal_flop_counter(nb201, arch):
    model = compile(nb201, nb201_arch(arch)).eval()
    c = cost(nb201, nb201_arch(arch))
    assert c.params == count_params(model)
    assert c.flops == counted_flops(model, torch.randn(1, 3, 32, 32))
    assert c.layers == sum(1 for _ in nb201.realize(nb201_arch(arch)).ops())


def test_nb201_input_shape_override(nb201):
    c = cost(nb201, nb201_arch(uniform("nor_conv_3x3")), input_shape=(3, 16, 16))
    model = compile(nb201, nb201_arch(uniform("nor_conv_3x3")), input_shape=(3, 16, 16)).eval()
    assert c.flops == counted_flops(model, torch.randn(1, 3, 16, 16))


def test_darts_v2_counts():
    space = nasl.load("examples/darts.nas", C=36, layers=20)
    arch = genotype_arch(DARTS_V2)
    c = cost(space, arch)
    assert c.params == 3_349_342
    assert c.flops == counted_flops(compile(space, arch).eval(), torch.randn(1, 3, 32, 32))


def test_by_op_sums_per_node(nb201):
    c = cost(nb201, nb201_arch(BEST_C100))
    by = c.by_op()
    assert sum(x.params for x in by.values()) == c.params
    assert by["relu_conv_bn"].params > 0 and by["sum"] == OpCost()
    assert by["linear"] == OpCost(650, 1280, 650)


# NAS-Bench-201 runs every edge of a cell, so its published FLOPs count the ops that feed only `none` edges
DEAD_FEEDING = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|skip_connect~0|skip_connect~1|none~2|"


def test_count_dead_gives_nb201s_published_macs(nb201):
    arch = nb201_arch(DEAD_FEEDING)
    live, everything = nasl.cost(nb201, arch), nasl.cost(nb201, arch, count_dead=True)
    per_conv = 16 * 16 * 32 * 32                         # a 1x1 conv of C channels at HxW: C*C*H*W, each stage
    assert per_conv == 32 * 32 * 16 * 16 == 64 * 64 * 8 * 8
    assert live.macs == 7_783_050 + 15 * per_conv        # node 1's conv only; node 2 feeds only `none`
    assert everything.macs == 7_783_050 + 15 * 3 * per_conv == 19_579_530
    assert everything.params == live.params               # the weights were counted either way
    # with every op live, nothing changes
    full = nb201_arch(uniform("nor_conv_3x3"))
    assert nasl.cost(nb201, full, count_dead=True).macs == nasl.cost(nb201, full).macs == 220_119_690


def test_count_dead_flops_equal_a_forward_that_runs_every_op(nb201):
    # nasl's forward skips dead ops; FlopCounterMode over each op run on its own counts them all
    arch = nb201_arch(DEAD_FEEDING)
    c = nasl.cost(nb201, arch, count_dead=True)
    graph = nb201.realize(arch)
    from nasl.compiler.infer import infer_shapes
    from nasl.compiler.plan import plan_graph
    plan = plan_graph(graph)
    shapes = infer_shapes(graph, None, plan)
    total = 0
    for n in plan.order:
        d = graph.nodes[n]
        if d.get("kind") != "op":
            continue
        ins = [shapes[u] for u in plan.inputs[n]]
        impl, _ = layers.build_op(d["op"], d.get("params") or {}, ins)
        total += counted_flops(lambda *a, impl=impl: run_impl(impl, list(a)), *[torch.randn((1,) + s) for s in ins])
    assert c.flops == total
