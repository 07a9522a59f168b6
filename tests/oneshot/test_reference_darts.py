"""The hand-written reference search networks reproduce the official code's numbers.

Counts and genotypes below were obtained by running the official search
networks on CPU (quark0/darts cnn/model_search.py, yuhuixu1993/PC-DARTS
model_search.py, D-X-Y/AutoDL-Projects TinyNetworkDarts); with the same
state and alphas the reference networks' outputs were also bit-identical to
the official ones in train and eval mode (checked once, not in CI: the
official code is not vendored).
"""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from tests.oneshot.reference_darts import (  # noqa: E402
    NB201_OPS, PRIMITIVES, Network, PCNetwork, TinyNetworkDarts, channel_shuffle, count, official_genotype_parse)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # two threads on the shared 2-core machine make these small convolutions 10-50x slower
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def darts():
    torch.manual_seed(0)
    return Network(16, 10, 8)


def test_darts_counts(darts):
    assert count(darts.weights()) == 1_930_618
    assert count(darts.arch_parameters()) == 224
    assert [tuple(a.shape) for a in darts.arch_parameters()] == [(14, 8), (14, 8)]
    assert count(darts.parameters()) == 1_930_618 + 224      # weights and alphas are disjoint and complete


def test_pcdarts_counts():
    net = PCNetwork(16, 10, 8)
    assert count(net.weights()) == 299_578
    assert count(net.arch_parameters()) == 252
    assert [tuple(a.shape) for a in net.arch_parameters()] == [(14, 8), (14, 8), (14,), (14,)]


def test_nb201_counts():
    net = TinyNetworkDarts()
    assert count(net.weights()) == 1_692_826
    assert count(net.arch_parameters()) == 30
    assert net.alphas.shape == (6, 5) and net.ops == NB201_OPS


def test_candidate_bns_are_not_affine(darts):
    # every BN inside a cell is affine=False; only the stem BN has weights
    cell_bns = [m for m in darts.cells.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert cell_bns and not any(m.affine for m in cell_bns)
    assert darts.stem[1].affine
    # each mixed op holds the 8 primitives; the pools are followed by a BN
    edge = darts.cells[0].edges[0]
    assert len(edge.ops) == len(PRIMITIVES) == 8
    assert isinstance(edge.ops[1][1], torch.nn.BatchNorm2d) and isinstance(edge.ops[2][1], torch.nn.BatchNorm2d)


@pytest.mark.parametrize("make", [lambda: Network(8, 10, 3), lambda: PCNetwork(8, 10, 3), lambda: TinyNetworkDarts(8, 1)])
def test_forward_backward_reach_every_parameter(make):
    torch.manual_seed(0)
    net = make()
    out = net(torch.randn(2, 3, 8, 8))
    assert out.shape == (2, 10)
    out.square().sum().backward()
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in net.arch_parameters())
    assert sum(p.grad is not None for p in net.weights()) == len(net.weights())


def test_channel_shuffle_interleaves_groups():
    x = torch.arange(8.0).view(1, 8, 1, 1)
    assert channel_shuffle(x, 4).flatten().tolist() == [0, 2, 4, 6, 1, 3, 5, 7]


def _formula_alphas():
    normal = torch.tensor([[2 * math.sin(7 * e + 3 * k) for k in range(8)] for e in range(14)])
    reduce = torch.tensor([[2 * math.cos(5 * e + 2 * k) for k in range(8)] for e in range(14)])
    return normal, reduce


def test_genotype_parse_matches_official_output():
    normal, reduce = _formula_alphas()
    # quark0/darts Network.genotype() with these alphas
    assert official_genotype_parse(normal, reduce) == (
        [("dil_conv_5x5", 0), ("avg_pool_3x3", 1), ("dil_conv_3x3", 2), ("avg_pool_3x3", 0),
         ("max_pool_3x3", 1), ("dil_conv_5x5", 3), ("dil_conv_3x3", 4), ("dil_conv_5x5", 0)],
        [("dil_conv_5x5", 1), ("skip_connect", 0), ("sep_conv_5x5", 1), ("max_pool_3x3", 0),
         ("avg_pool_3x3", 3), ("dil_conv_5x5", 1), ("avg_pool_3x3", 4), ("dil_conv_3x3", 0)])


def test_pcdarts_genotype_parse_weights_edges_by_beta():
    normal, reduce = _formula_alphas()
    bn = torch.tensor([2 * math.cos(3 * e) for e in range(14)])
    br = torch.tensor([2 * math.sin(2 * e + 1) for e in range(14)])
    # yuhuixu1993/PC-DARTS Network.genotype() with these alphas and betas
    assert official_genotype_parse(normal, reduce, bn, br) == (
        [("dil_conv_5x5", 0), ("avg_pool_3x3", 1), ("dil_conv_3x3", 2), ("avg_pool_3x3", 0),
         ("max_pool_3x3", 1), ("dil_conv_5x5", 3), ("dil_conv_3x3", 4), ("avg_pool_3x3", 1)],
        [("skip_connect", 0), ("dil_conv_5x5", 1), ("sep_conv_5x5", 1), ("dil_conv_3x3", 2),
         ("max_pool_3x3", 2), ("dil_conv_5x5", 1), ("avg_pool_3x3", 4), ("skip_connect", 1)])


def test_genotype_parse_ignores_none_and_breaks_ties_low():
    a = torch.zeros(14, 8)
    a[0, 0] = 50.0             # node 0, source 0: 'none' dominates, its best other op is tiny
    a[1, 4] = 1.0              # node 0, source 1: sep_conv_3x3
    # every other node: all equal -> sources 0 and 1, op max_pool_3x3 (the first non-'none')
    normal, _ = official_genotype_parse(a, torch.zeros(14, 8))
    assert normal[:2] == [("sep_conv_3x3", 1), ("max_pool_3x3", 0)]
    assert normal[2:] == [("max_pool_3x3", 0), ("max_pool_3x3", 1)] * 3


def test_genotype_parse_softmax_matters_across_edges():
    # the edge ranking compares weights of different rows, so softmax (as officially) changes it
    a = torch.zeros(14, 8)
    a[0, 1:] = 5.0                    # raw max 5 but flat: softmax ~1/7 per op
    a[1, 3] = 2.0                     # raw max 2, peaked: softmax larger
    a[2, 5] = 1.0
    with_softmax = official_genotype_parse(a, a)[0][:2]
    raw = official_genotype_parse(a, a, softmax=False)[0][:2]
    assert with_softmax == [("skip_connect", 1), ("max_pool_3x3", 0)]
    assert raw == [("max_pool_3x3", 0), ("skip_connect", 1)]


def test_genotype_parse_rejects_a_bad_shape():
    with pytest.raises(ValueError, match="not"):
        official_genotype_parse(torch.zeros(13, 8), torch.zeros(14, 8))


def test_network_genotype_uses_the_rule(darts):
    with torch.no_grad():
        n, r = _formula_alphas()
        darts.alphas_normal.copy_(n)
        darts.alphas_reduce.copy_(r)
    assert darts.genotype() == official_genotype_parse(n, r)


def test_nb201_genotype_is_the_argmax_per_edge():
    net = TinyNetworkDarts(8, 1)
    with torch.no_grad():
        net.alphas.zero_()
        net.alphas[0, 3] = 1.0        # edge 1<-0: nor_conv_3x3
        net.alphas[5, 0] = 1.0        # edge 3<-2: none
    g = net.genotype()
    assert g[0] == [("nor_conv_3x3", 0)]
    assert g[2] == [("none", 0), ("none", 1), ("none", 2)]
