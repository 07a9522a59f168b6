"""The fast paths of the compiler: copied modules, dead-op pruning, the shared graph plan."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

import nasl
from nasl.compiler import build, compile, count_params
from nasl.compiler.clone import ModuleFactory, _can_copy
from nasl.compiler.plan import plan_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _nb201(arch="|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|"):
    from nasl.formats.nb201 import from_string
    return nasl.load(EXAMPLES / "nas_bench_201.nas", C=4, N=2), from_string(arch)


def _compile(space, arch, copy_modules: bool, seed: int = 0):
    torch.manual_seed(seed)
    return compile(space, arch, options=build.BuildOptions(copy_modules=copy_modules))


@pytest.mark.parametrize("example,params", [
    ("nas_bench_201.nas", dict(C=4, N=2)), ("darts.nas", dict(C=4, layers=3)), ("enas_macro.nas", {}),
    ("mobilenet.nas", dict(stem=8, widths=[8, 8, 16, 16, 16], final=32, feature=32, classes=10)),
    ("transformer.nas", dict(image=16, patch=4, dims=[16], depths=[3], head_dim=4, classes=10)),
])
def test_copied_modules_equal_freshly_built_ones(example, params):
    """Same classes, attributes, state and initial values (for the same seed) as without copying."""
    space = nasl.load(EXAMPLES / example, **params)
    arch = space.sample(seed=3)
    fast, slow = _compile(space, arch, True), _compile(space, arch, False)
    assert fast.code == slow.code
    a, b = fast.state_dict(), slow.state_dict()
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k
    for (na, ma), (nb, mb) in zip(list(fast.named_modules())[1:], list(slow.named_modules())[1:]):   # not the root
        assert na == nb and type(ma) is type(mb)
        keys = set(vars(mb)) - {"_parameters", "_buffers", "_modules"}
        assert {k: vars(ma)[k] for k in keys} == {k: vars(mb)[k] for k in keys}, na
    x = torch.randn(2, *next(iter(fast.input_shapes.values())))
    fast.train(), slow.train()
    outs = []
    for model in (fast, slow):
        torch.manual_seed(0)            # the same dropout masks
        outs.append(model(x))
    assert torch.equal(*outs)


def test_copies_own_their_parameters_and_buffers():
    space, arch = _nb201()
    model = compile(space, arch)
    ptrs = [t.data_ptr() for t in model.state_dict().values() if t.numel()]
    assert len(ptrs) == len(set(ptrs))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.weight.shape == (4, 4, 3, 3)]
    assert len(convs) > 2 and not torch.equal(convs[0].weight, convs[1].weight)   # drawn separately
    x = torch.randn(2, 3, 32, 32)
    model.train()(x)                                # running stats move in every BN independently
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(int(b.num_batches_tracked) == 1 for b in bns)
    assert len({b.running_mean.data_ptr() for b in bns}) == len(bns)


def test_user_modules_are_built_every_time():
    class Scaled(nn.Module):                        # its constructor does more than build layers
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 1)
            nn.init.constant_(self.conv.weight, 0.5)

    calls = []

    def builder(p, ins):
        calls.append(1)
        return Scaled(ins[0][0]), tuple(ins[0])

    assert not _can_copy(Scaled(2))
    factory = ModuleFactory()
    mods = [factory.build(builder, "scaled", {}, [(2, 4, 4)]) for _ in range(3)]
    assert len(calls) == 3 and all(torch.all(m.conv.weight == 0.5) for m in mods)


def test_copying_is_off_under_a_device_context():
    with torch.device("meta"):
        assert not ModuleFactory().enabled
        space, arch = _nb201()
        model = compile(space, arch)
    assert all(p.device.type == "meta" for p in model.parameters())


def test_a_copied_network_deepcopies_and_reloads():
    space, arch = _nb201()
    model = compile(space, arch)
    clone = copy.deepcopy(model)
    fresh = compile(space, arch)
    fresh.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 32, 32)
    model.eval(), clone.eval(), fresh.eval()
    assert torch.equal(model(x), clone(x)) and torch.equal(model(x), fresh(x))


DEAD = """
input x: [3, 8, 8]
network {
    h = x >> conv(4, k=3)
    unused = h >> conv(8, k=3) >> bn
    side = unused >> relu
    return h >> relu
}
"""


def test_dead_ops_are_pruned_from_the_forward():
    space = nasl.loads(DEAD)
    g = space.realize({})
    plan = plan_graph(g)
    assert {n for n in g if n not in plan.live} == {"conv_1", "bn", "relu"}
    model = compile(space, {})
    targets = [n.target for n in model.graph.nodes if n.op == "call_module"]
    assert targets == ["conv", "relu_1"]
    assert "bn" not in model.code and "conv_1" not in model.code
    # their modules stay registered: the parameters are the whole graph's, as nasl.cost counts them
    assert list(model.state_dict())[:3] == ["conv.weight", "conv_1.weight", "bn.weight"]
    cost = nasl.cost(space, {})
    assert count_params(model) == cost.params == 4 * 3 * 9 + 8 * 4 * 9 + 2 * 8
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 8, 8))
    assert counter.get_total_flops() == cost.flops == 2 * 4 * 3 * 9 * 64     # the live conv only


def test_nb201_dead_nodes_keep_the_official_parameter_count():
    """Edge 2->3 is none: node 2 reaches the output only through a zero edge, which the DAG drops.
    The official cell computes it and multiplies by zero; here it is not computed."""
    space, arch = _nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|")
    model = compile(space, arch)
    assert "edge_1_2" not in model.code and "edge_0_2" not in model.code
    assert count_params(model) == nasl.cost(space, arch).params
    assert any(k.startswith("cell_0_0.edge_1_2.") for k in model.state_dict())


def test_dead_ops_still_get_their_shapes_checked():
    space = nasl.loads(DEAD.replace("unused = h >> conv(8, k=3) >> bn", "unused = h >> linear(3)"))
    with pytest.raises(nasl.NaslError, match="shape mismatch"):
        compile(space, {})


def test_plan_matches_networkx():
    import networkx as nx
    space, arch = _nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|none~2|")
    g = space.realize(arch)
    plan = plan_graph(g)
    # node 2 of each cell reaches the output only through a 'none' edge, which the DAG drops
    assert {n for n in g if n not in plan.live} == {n for n in g if "edge[0->2]" in n or "edge[1->2]" in n
                                                    or "node[2]" in n}
    space, arch = _nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|none~2|"
                         .replace("none~2", "nor_conv_1x1~2"))
    g = space.realize(arch)
    plan = plan_graph(g)
    assert plan.order == list(nx.lexicographical_topological_sort(g, key=list(g.nodes).index))
    assert all(plan.inputs[n] == g.inputs_of(n) for n in g)
    assert plan.live == set(g)          # every NB201 node reaches the output


def test_plan_sorts_a_graph_built_out_of_order():
    from nasl.ir.archgraph import ArchGraph
    g = ArchGraph()
    g.graph.update(inputs=["x"], outputs=["output"])
    g.add_node("output", kind="output", op="output", params={})
    g.add_node("b", kind="op", op="relu", params={})
    g.add_node("a", kind="op", op="relu", params={})
    g.add_node("x", kind="input", op="input", params={}, shape=(2, 4, 4))
    g.add_edge("x", "a", port=0)
    g.add_edge("a", "b", port=0)
    g.add_edge("b", "output", port=0)
    plan = plan_graph(g)
    assert plan.order == ["x", "a", "b", "output"]
    model = build.compile_graph(g)
    assert model(torch.full((1, 2, 4, 4), -1.0)).abs().sum() == 0


def _draws(factory, builder, n=3, seed=7):
    torch.manual_seed(seed)
    return [factory.build(builder, "op", {}, [(4, 8, 8)]) for _ in range(n)]


def test_copied_layers_with_biases_draw_what_their_constructors_draw():
    """Copies of Conv and Linear layers with biases get the initial values their constructors draw."""
    def builder(p, ins):
        return nn.Sequential(nn.Conv2d(4, 6, 3, bias=True), nn.Conv1d(6, 2, 1), nn.Linear(8, 3)), None
    fast, slow = _draws(ModuleFactory(True), builder), _draws(ModuleFactory(False), builder)
    for a, b in zip(fast, slow):
        sa, sb = a.state_dict(), b.state_dict()
        assert list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(fast[1][0].bias, fast[2][0].bias)


def test_a_patched_reset_parameters_is_still_called(monkeypatch):
    def zeros(self):
        nn.init.zeros_(self.weight)
    monkeypatch.setattr(nn.Conv2d, "reset_parameters", zeros)

    def builder(p, ins):
        return nn.Sequential(nn.Conv2d(4, 4, 1, bias=False)), None
    copies = _draws(ModuleFactory(True), builder)
    assert all(not m[0].weight.detach().any() for m in copies)


@pytest.mark.parametrize("example,params", [
    ("nas_bench_201.nas", dict(C=4, N=2)), ("darts.nas", dict(C=4, layers=3)),
    ("hierarchical.nas", dict(C=4)), ("nas_bench_101.nas", dict(C=8)),
    ("enas_micro.nas", dict(C=4, L=2)),
])
def test_merges_built_directly_equal_traced_ones(example, params):
    """Sums and concats skip the fx tracer; the graph and its code are what tracing gives."""
    space = nasl.load(EXAMPLES / example, **params)
    for seed in range(3):
        arch = space.sample(seed=seed)
        torch.manual_seed(0)
        direct = compile(space, arch)
        torch.manual_seed(0)
        traced = compile(space, arch, options=build.BuildOptions(direct_emit=False))
        assert direct.code == traced.code

        def nodes(gm):
            return [(n.op, n.name, n.target, str(n.args), dict(n.kwargs), dict(n.meta)) for n in gm.graph.nodes]
        assert nodes(direct) == nodes(traced)
        x = torch.randn(2, *next(iter(direct.input_shapes.values())))
        assert torch.equal(direct.eval()(x), traced.eval()(x))


# weights that cannot fit are refused before torch is asked for them ----------------------------------------

def test_a_channel_count_that_cannot_be_allocated_is_an_error_at_its_op():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> conv(10000000000) }", "big.nas")
    with pytest.raises(nasl.NaslError) as info:
        compile(space, {})
    e = info.value
    assert e.span is not None and (e.span.file, e.span.line) == ("big.nas", 2)
    assert "op 'conv'" in e.message and "270,000,000,000 parameters" in e.message and "GiB" in e.message


def test_a_space_parameter_too_large_to_build_names_the_first_op_that_needs_it():
    space = nasl.load(Path(__file__).parents[2] / "examples" / "nas_bench_201.nas", C=10_000_000_000)
    with pytest.raises(nasl.NaslError, match=r"op 'conv' \(conv\) cannot be built: its weights need"):
        compile(space, space.sample(0))


def test_the_whole_network_is_checked_against_the_memory_limit():
    from nasl.compiler.budget import check_weights
    from nasl.compiler.infer import infer_shapes
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> conv(16) >> conv(16) }", "two.nas")
    g = space.realize({})
    plan = plan_graph(g)
    shapes = infer_shapes(g, None, plan)
    check_weights(g, plan, shapes, limit=10 ** 6)           # 432 + 2,304 parameters fit
    with pytest.raises(nasl.NaslError) as info:
        check_weights(g, plan, shapes, limit=10_000)        # each op fits, both do not (10,944 bytes)
    assert info.value.message.startswith("the network cannot be built: its weights need 2,736 parameters")
    assert "the largest op is 'conv'" in info.value.hint


def test_a_user_op_that_fails_to_allocate_is_an_error_at_its_op(monkeypatch, isolated_ops):
    from nasl.compiler import torch_op
    nasl.register_op("greedy", ())

    calls = []

    @torch_op("greedy")
    def build(params, in_shapes):
        calls.append(1)
        if len(calls) in fail_on:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 10^12 bytes")
        return nn.Identity(), in_shapes[0]

    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> greedy }", "g.nas")
    for fail_on in ({2}, {1}):          # when building the module, and when shape inference builds it
        calls.clear()
        with pytest.raises(nasl.NaslError, match="op 'greedy' .* not enough memory for its weights") as info:
            compile(space, {})
        assert info.value.span.line == 2 and len(calls) == min(fail_on)
