"""The torch supernet on hand-built SuperGraphs (tests/oneshot/supergraphs.py): modes, gradients, subnets."""
from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from nasl.ir.errors import NaslError, NotRelaxable
from nasl.oneshot import MODES, compile_supernet
from tests.oneshot.reference_darts import parse_weights
from tests.oneshot.supergraphs import (Cond, Elastic, HandSuperGraph, darts_arch, darts_like,  # noqa: F401
                                       digits_like)

torch.set_num_threads(1)            # tiny tensors: threads only contend (the CI machine has 2 cores)

RELAXED = ["darts", "snas", "gdas", "pcdarts", "proxyless"]
SAMPLED = ["spos", "enas", "oneshot", "ofa"]


def digits_arch(rng, ops=("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")):
    a = {f"cell.edge[{i}->{j}]": rng.choice(ops) for j in (1, 2) for i in range(j)}
    a.update(width=rng.choice((4, 8)), depth=rng.choice((1, 2)))
    return a


def test_modes_registered_and_unknown_mode():
    for m in RELAXED + SAMPLED:
        assert MODES[m] == "nasl.oneshot.modes:build"
    assert "bank" not in MODES or MODES["bank"] != "nasl.oneshot.modes:build"
    with pytest.raises(NaslError) as e:
        compile_supernet(digits_like(), "dartz")
    assert "\n" not in e.value.message and "darts" in str(e.value.hint)
    with pytest.raises(NaslError, match="unknown supernet option 'afine'"):
        compile_supernet(digits_like(), "darts", afine=False)


@pytest.mark.parametrize("mode", RELAXED)
@pytest.mark.parametrize("graph", ["digits", "darts"])
def test_every_alpha_gets_a_gradient(mode, graph):
    torch.manual_seed(0)
    if graph == "digits":
        g, x = digits_like(), torch.randn(3, 1, 8, 8)
    else:
        g, x = darts_like(), torch.randn(3, 3, 8, 8)
    sn = compile_supernet(g, mode, seed=0)
    for _ in range(5 if mode == "proxyless" else 1):   # binary gates: an inactive gate blocks what feeds it
        sn(x).square().sum().backward()
    assert len(sn.arch_parameters()) == len(sn.alpha) + len(sn.beta)
    for p in sn.arch_parameters():
        assert p.grad is not None and bool((p.grad != 0).any())
    ids = {id(p) for p in sn.weights()}
    assert not ids & {id(p) for p in sn.arch_parameters()}
    assert ids | {id(p) for p in sn.arch_parameters()} == {id(p) for p in sn.parameters()}


def _count_calls(sn):
    calls = []
    for n, impl in sn._impl.items():
        if isinstance(impl, nn.Module):
            impl.register_forward_pre_hook(lambda m, a, n=n: calls.append(n))
    return calls


def test_gdas_runs_one_candidate_per_edge():
    ops = ("nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")       # every candidate a module, so every run counts
    g = digits_like(widths=(8,), depths=(2,), ops=ops)
    sn = compile_supernet(g, "gdas", seed=0)
    calls = _count_calls(sn)
    for step in range(5):
        calls.clear()
        sn(torch.randn(2, 1, 8, 8))
        for b in range(2):
            for edge in ("0->1", "0->2", "1->2"):
                ran = [c for c in calls if c.startswith(f"cell[{b}].edge[{edge}].")]
                assert len(ran) == 1, (edge, ran)
    sn2 = compile_supernet(g, "darts")
    calls = _count_calls(sn2)
    sn2(torch.randn(2, 1, 8, 8))
    assert len([c for c in calls if ".edge[" in c]) == 2 * 3 * 3


@pytest.mark.parametrize("mode", ["spos", "darts"])
def test_sampled_forward_runs_only_the_architecture(mode, monkeypatch):
    import nasl.oneshot.supernet as S
    g = digits_like()
    sn = compile_supernet(g, mode)
    calls = []
    by_id = {id(m): n for n, m in sn._impl.items()}
    real = S.run_sliced

    def counted(big, small, ins):           # every op the architecture forward runs, full size or sliced
        if isinstance(big, nn.Module):
            calls.append(by_id[id(big)])
        return real(big, small, ins)
    monkeypatch.setattr(S, "run_sliced", counted)
    rng = random.Random(0)
    for _ in range(10):
        a = digits_arch(rng)
        calls.clear()
        with sn.use(a):
            sn(torch.randn(2, 1, 8, 8))
        ag, node_map = g.restrict(a)
        want = [n for n, d in ag.nodes(data=True) if d.get("kind") == "op" and isinstance(sn._impl[n], nn.Module)]
        assert sorted(calls) == sorted(want)


def test_sampled_mode_needs_an_architecture():
    sn = compile_supernet(digits_like(), "spos")
    with pytest.raises(NaslError, match="runs one architecture"):
        sn(torch.randn(1, 1, 8, 8))
    assert len(sn.alpha) == 0 and sn.arch_parameters() == []
    with pytest.raises(NaslError, match="derive"):
        sn.derive()


@pytest.mark.parametrize("mode", ["spos", "ofa", "oneshot", "darts", "gdas"])
def test_subnet_equals_supernet_digits_like(mode):
    torch.manual_seed(0)
    sn = compile_supernet(digits_like(), mode, seed=0)
    with torch.no_grad():               # random BN statistics, so eval mode is not the identity
        for m in sn.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    sn.eval()
    x = torch.randn(4, 1, 8, 8)
    rng = random.Random(1)
    for _ in range(50):
        a = digits_arch(rng)
        m = sn.subnet(a).eval()
        assert torch.allclose(m(x), sn(x, a), atol=1e-6, rtol=0)


def test_subnet_equals_supernet_darts_like_affine_false():
    torch.manual_seed(0)
    sn = compile_supernet(darts_like(C=4, layers=3, nodes=3), "darts", affine=False, seed=0)
    sn.train()
    for _ in range(2):                  # real running statistics
        sn(torch.randn(8, 3, 8, 8))
    sn.eval()
    x = torch.randn(4, 3, 8, 8)
    rng = random.Random(2)
    for _ in range(20):
        a = darts_arch(rng, nodes=3)
        assert torch.allclose(sn.subnet(a).eval()(x), sn(x, a), atol=1e-6, rtol=0)


def test_elastic_subnet_holds_slices():
    sn = compile_supernet(digits_like(widths=(4, 8)), "ofa")
    a = {"cell.edge[0->1]": "nor_conv_3x3", "cell.edge[0->2]": "nor_conv_1x1", "cell.edge[1->2]": "none",
         "width": 4, "depth": 1}
    sd = sn.sub_state_dict(a)
    big = sn.net.state_dict()
    assert torch.equal(sd["conv.weight"], big["conv.weight"][:4])
    assert torch.equal(sd["linear.weight"], big["linear.weight"][:, :4])
    key = "cell_0.edge_0_1.nor_conv_3x3.nor_conv_3x3.conv.weight"
    assert torch.equal(sd[key], big[key][:4, :4])
    assert "cell_1.edge_0_1.nor_conv_3x3.nor_conv_3x3.conv.weight" not in sd          # depth 1: the second cell is not there


def test_kernel_crop_is_centre():
    from nasl.oneshot.elastic import slice_like
    w = torch.arange(2 * 1 * 5 * 5).float().view(2, 1, 5, 5)
    assert torch.equal(slice_like(w, (1, 1, 3, 3), (2, 3)), w[:1, :, 1:4, 1:4])


def test_affine_false_strips_candidate_and_preprocessing_bn_only():
    sn = compile_supernet(darts_like(), "darts", affine=False)
    assert sn.net.bn.weight is not None                                  # the stem's bn op keeps affine
    pre = sn._impl["pre0[0].relu_conv_bn"]
    assert pre.bn.weight is None                                         # DARTS's preprocessing: affine=False
    cand = sn._impl["normal[0].node[2].src[0].sep_conv_3x3.sep_conv"]
    assert cand.bn1.weight is None and cand.bn2.weight is None


def test_official_darts_parse_on_planted_alpha():
    g = darts_like(nodes=4, ops=("none", "max_pool_3x3", "skip_connect", "sep_conv_3x3"))
    sn = compile_supernet(g, "darts")
    ops = ["none", "max_pool_3x3", "skip_connect", "sep_conv_3x3"]
    gen = torch.Generator().manual_seed(3)
    for trial in range(20):
        with torch.no_grad():
            for p in sn.alpha:
                sn.alpha[p].copy_(torch.randn(sn.alpha[p].shape, generator=gen))
                if trial % 4 == 0:
                    sn.alpha[p][:, 0] += 3.0                        # 'none' strongest everywhere: left out
        rows = torch.cat([torch.softmax(sn.alpha[f"normal.node[{j}]"], -1) for j in range(2, 6)]).detach().numpy()
        gene = parse_weights(rows, ops)
        arch = sn.derive()
        for j, pairs in zip(range(2, 6), gene):
            srcs = sorted(pairs, key=lambda t: t[1])
            assert list(arch[f"normal.node[{j}].inputs"]) == [s for _, s in srcs]
            assert [arch[f"normal.node[{j}].edge[{k}]"] for k in range(2)] == [op for op, _ in srcs]



def test_expected_cost_is_differentiable_and_tracks_the_architecture():
    sn = compile_supernet(digits_like(), "darts")
    c = sn.expected_cost("params")
    c.backward()
    assert all(sn.alpha[p].grad is not None for p in sn.alpha)
    from nasl.compiler.cost import cost_graph
    a = {"cell.edge[0->1]": "nor_conv_3x3", "cell.edge[0->2]": "nor_conv_1x1", "cell.edge[1->2]": "none",
         "width": 8, "depth": 2}
    with torch.no_grad():                                  # nearly one-hot on a
        for p in sn.alpha:
            labels = list(sn.sg.graph["alpha"][p][1])
            sn.alpha[p].fill_(-30.0)
            sn.alpha[p][labels.index(a[p])] = 30.0
    want = cost_graph(sn.sg.restrict(a)[0]).params
    assert abs(float(sn.expected_cost("params")) - want) / want < 1e-3


def test_probs_and_temperature():
    sn = compile_supernet(darts_like(), "gdas")
    pr = sn.probs()
    assert set(pr) == {"normal.node[2][0]", "normal.node[2][1]", "normal.node[3][0]", "normal.node[3][1]",
                       "normal.node[3][2]"}
    assert abs(sum(pr["normal.node[2][0]"].values()) - 1) < 1e-6
    sn.set_temperature(0.5)
    assert sn.tau == 0.5


def test_nothing_to_relax():
    g = digits_like(widths=(8,), depths=(1,), ops=("nor_conv_3x3",))
    g.graph["alpha"] = {}
    with pytest.raises(NaslError, match="nothing to relax"):
        compile_supernet(g, "darts")


def test_elastic_kernel_is_not_relaxable():
    g = HandSuperGraph()
    g.add_node("x", kind="input", shape=(1, 8, 8))
    g.graph.update(inputs=["x"], outputs=["output"], edges={}, alpha={"k": (None, (3, 5))})
    h = g.add_op("conv", "conv", {"c": 4, "k": Elastic("k", {3: 3, 5: 5}), "stride": 1, "dilation": 1,
                                  "groups": 1, "bias": False}, ["x"])
    g.add_node("output", kind="output")
    g.add_edge(h, "output", port=0)
    with pytest.raises(NotRelaxable, match="'k' sets a size inside 'conv'"):
        compile_supernet(g, "darts")
    sn = compile_supernet(g, "ofa")                        # sampled: the centre crop
    sn.eval()
    x = torch.randn(2, 1, 8, 8)
    y = sn(x, {"k": 3})
    w = sn.net.conv.weight[:, :, 1:4, 1:4]
    assert torch.allclose(y, torch.nn.functional.conv2d(x, w, padding=1), atol=1e-6)


def test_oneshot_path_dropout():
    ops = ("nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    g = digits_like(widths=(8,), depths=(2,), ops=ops)
    sn = compile_supernet(g, "oneshot", seed=0)
    assert len(sn.alpha) == 0
    calls = _count_calls(sn)
    sn(torch.randn(2, 1, 8, 8))                    # rate 0: every candidate runs (Bender et al.)
    assert len([c for c in calls if ".edge[" in c]) == 2 * 3 * 3
    sn.set_drop_rate(1.0)                          # everything dropped but one per edge
    calls.clear()
    sn(torch.randn(2, 1, 8, 8)).sum().backward()
    assert len([c for c in calls if ".edge[" in c]) == 2 * 3
    sn.eval()
    calls.clear()
    sn(torch.randn(2, 1, 8, 8))                    # eval: no dropout
    assert len([c for c in calls if ".edge[" in c]) == 2 * 3 * 3
    with pytest.raises(NaslError, match="derive"):
        sn.derive()


def test_width_fork_branches_of_different_sizes():
    """A select whose branches differ in channels (a fork on an unsliceable width): its users are
    built for the largest; an architecture slices them, the mixture zero-pads the narrow branch."""
    g = HandSuperGraph()
    g.add_node("x", kind="input", shape=(1, 8, 8))
    g.graph.update(inputs=["x"], outputs=["output"], edges={}, alpha={"w": (None, (4, 8))})
    conv = {"k": 3, "stride": 1, "dilation": 1, "groups": 1, "bias": False}
    a = g.add_op("conv4", "conv", dict(conv, c=4), ["x"], (Cond("w", frozenset({4})),))
    b = g.add_op("conv8", "conv", dict(conv, c=8), ["x"], (Cond("w", frozenset({8})),))
    s = g.add_select("fork", "w", (4, 8), [(a, (4,)), (b, (8,))])
    h = g.add_op("head", "conv", dict(conv, c=2), [s])
    g.add_node("output", kind="output")
    g.add_edge(h, "output", port=0)
    x = torch.randn(2, 1, 8, 8)
    sn = compile_supernet(g, "spos")
    assert tuple(sn.net.head.weight.shape) == (2, 8, 3, 3)
    for w in (4, 8):
        assert torch.allclose(sn.subnet({"w": w})(x), sn(x, {"w": w}), atol=1e-6)
    sn = compile_supernet(g, "darts")
    sn(x).sum().backward()
    assert sn.alpha["w"].grad is not None


@pytest.mark.parametrize("arch", [None, {"cell.edge[0->1]": "nor_conv_3x3", "cell.edge[0->2]": "skip_connect",
                                         "cell.edge[1->2]": "nor_conv_1x1", "width": 4, "depth": 2}])
def test_functional_call_through_the_supernet(arch):
    """DARTS's second order (torch.func) swaps the weights: both forwards must read the swapped ones."""
    from torch.func import functional_call
    sn = compile_supernet(digits_like(), "darts")
    x = torch.randn(2, 1, 8, 8)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in sn.named_parameters()}
    args = (x,) if arch is None else (x, arch)
    y = functional_call(sn, params, args)
    assert torch.allclose(y, sn(*args))
    y.sum().backward()
    assert params["net.linear.weight"].grad is not None
    zeroed = dict(params, **{"net.linear.weight": torch.zeros_like(params["net.linear.weight"])})
    assert torch.allclose(functional_call(sn, zeroed, args), sn.net.linear.bias.expand(2, -1))
