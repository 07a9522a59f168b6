"""Super-realize (ONESHOT.md): restrict(arch) gives back realize(arch), node for node, on every space it supports."""
from __future__ import annotations

import pytest

import nasl
from nasl.ir.errors import NotRelaxable
from tests.conftest import EXAMPLES, ROOT

DARTS8 = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3",
          "dil_conv_5x5"]

# every example space whose constructs super-realize supports, with the parameters it is checked at
SUPPORTED = {
    "digits": (ROOT / "nasl/spaces/digits.nas", {}),
    "dpp_net": (EXAMPLES / "dpp_net.nas", {}),
    "nas_bench_201": (EXAMPLES / "nas_bench_201.nas", {}),
    "darts": (EXAMPLES / "darts.nas", {"layers": 5}),
    "darts_none": (EXAMPLES / "darts.nas", {"layers": 5, "ops": DARTS8}),
    "fbnet": (EXAMPLES / "fbnet.nas", {}),
    "hierarchical": (EXAMPLES / "hierarchical.nas", {}),
    "hierarchical_flat": (EXAMPLES / "hierarchical_flat.nas", {}),
    "mnasnet": (EXAMPLES / "mnasnet.nas", {}),
    "mobilenet": (EXAMPLES / "mobilenet.nas", {}),
    "proxylessnas": (EXAMPLES / "proxylessnas.nas", {}),
    "rnn_cell": (EXAMPLES / "rnn_cell.nas", {}),
    "robnet": (EXAMPLES / "robnet.nas", {}),
    "robnet_free": (EXAMPLES / "robnet_free.nas", {}),
    "tabular_mlp": (EXAMPLES / "tabular_mlp.nas", {}),
    "transformer": (EXAMPLES / "transformer.nas", {}),
}

# the spaces it refuses, and why (each is still searchable; mode="bank" shares weights on any space)
REFUSED = {
    "auto_deeplab": "'trellis' recurses under a choice more than 4 levels deep",
    "block_qnn": "parameter 'c' depends on a choice that a supernet cannot share weights over",
    "enas_macro": "a tensor chosen by a subset or an index",
    "enas_micro": "a dag with loose_inputs=identity()",
    "genetic_cnn": "a dag with prune=True",
    "metaqnn": "'layers' recurses under a choice more than 4 levels deep",
    "nas_bench_101": "a dag with channels='nasbench101'",
    "nasnet": "a dag with output=\"loose\"",
    "path_level": "the alternatives give different numbers of tensors",
    "pbt_digits": "the float choice 'p' cannot be relaxed",
    "pnas": "needs an unordered pick of distinct inputs",
    "zoph_le": "a dag with implicit_io=True",
}


def _signature(g):
    nodes = {n: (d["op"], tuple(sorted((d.get("params") or {}).items()))) for n, d in g.nodes(data=True)}
    edges = sorted((u, v, d["port"]) for u, v, d in g.edges(data=True))
    return nodes, edges, list(g.graph["inputs"]), list(g.graph["outputs"])


# realizing 200 architectures of these takes 8-25 s each on one core
_HEAVY = {"darts", "darts_none", "fbnet", "hierarchical", "hierarchical_flat", "mnasnet", "robnet", "robnet_free"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in _HEAVY else n
                                  for n in sorted(SUPPORTED)])
def test_restrict_equals_realize(name):
    path, params = SUPPORTED[name]
    space = nasl.load(path, **params)
    sg = space.super_realize()
    for arch in space.sample(seed=0, n=200):
        got, node_map = sg.restrict(arch)
        assert _signature(got) == _signature(space.realize(arch)), dict(arch)
        for rid, sid in node_map.items():       # every realized op sits on a super node of its op
            assert sg.nodes[sid]["op"] == got.nodes[rid]["op"]


def test_every_example_is_listed():
    names = {p.stem for p in EXAMPLES.glob("*.nas")}
    assert names == ({k for k in SUPPORTED if (EXAMPLES / f"{k}.nas").exists()} | set(REFUSED))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_spaces_say_why_at_a_position(name):
    space = nasl.load(EXAMPLES / f"{name}.nas")
    with pytest.raises(NotRelaxable) as e:
        space.super_realize()
    assert REFUSED[name] in e.value.message
    assert e.value.span is not None and e.value.span.line > 0
    assert "\n" not in e.value.message


def test_darts_shares_weights_by_source_and_alpha_by_genotype():
    space = nasl.load(EXAMPLES / "darts.nas", layers=8, ops=DARTS8)
    sg = space.super_realize()
    alpha = sg.graph["alpha"]
    # one alpha row per (node, source), shared by every cell of a genotype: 2 x 14 x 8 = 224
    assert sum(rows * len(labels) for rows, labels in alpha.values()) == 224
    assert alpha["normal.node[3]"] == (3, tuple(DARTS8))
    # 14 mixed ops per cell, 8 cells
    mixed = {(d["path"], d["row"], n.split(".node")[0]) for n, d in sg.selects()}
    assert len(mixed) == 14 * 8


def test_width_and_kernel_choices_are_elastic():
    from nasl.ir.supergraph import Elastic
    sg = nasl.load(ROOT / "nasl/spaces/digits.nas").super_realize()
    stem = sg.nodes["conv"]
    assert isinstance(stem["params"]["c"], Elastic) and stem["params"]["c"].options == (8, 16, 24)
    depth = [d for _, d in sg.selects() if d["how"] == "depth"]
    assert [d["path"] for d in depth] == ["depth"]


def test_a_stride_choice_forks_into_candidates():
    sg = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> conv(4, k=3, stride=choice(1, 2)) }").super_realize()
    convs = [d["params"]["stride"] for _, d in sg.ops() if d["op"] == "conv"]
    assert sorted(convs) == [1, 2] and len(sg.selects()) == 1


def test_a_float_choice_is_not_relaxable():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> conv(4) >> dropout(float_range(0, 0.5)) }")
    with pytest.raises(NotRelaxable) as e:
        space.super_realize()
    assert e.value.span.line == 2
