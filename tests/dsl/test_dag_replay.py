"""Repeated dag cells are replayed, not re-interpreted: the graph must be the interpreter's, exactly."""
from __future__ import annotations

import pytest

import nasl
from nasl.dsl import dag_replay
from tests.conftest import EXAMPLES

SCALED = {          # keep the big spaces quick; the structure stays the default one
    "darts.nas": dict(C=4, layers=5),
    "nasnet.nas": dict(C=4, N=2),
    "enas_micro.nas": dict(C=4, L=3),
}


def _snapshot(g) -> tuple:
    """Everything a compile reads from an ArchGraph, in insertion order."""
    nodes = [(n, dict(a)) for n, a in g.nodes(data=True)]
    edges = [(u, v, k, dict(a)) for u, v, k, a in g.edges(keys=True, data=True)]
    return nodes, edges, dict(g.graph)


def _both(space, arch):
    dag_replay.ENABLED = False
    try:
        plain = space.realize(arch)
    finally:
        dag_replay.ENABLED = True
    return plain, space.realize(arch)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.nas")), ids=lambda p: p.stem)
def test_replayed_cells_give_the_interpreters_graph(path):
    space = nasl.load(path, **SCALED.get(path.name, {}))
    for seed in range(4):
        arch = space.sample(seed=seed)
        plain, replayed = _both(space, arch)
        assert _snapshot(replayed) == _snapshot(plain), (path.name, seed)


def test_nb201_replays_twelve_of_fifteen_cells():
    space = nasl.load(EXAMPLES / "nas_bench_201.nas")
    arch = space.sample(seed=0)
    g = space.realize(arch)
    ops = [n for n, a in g.nodes(data=True) if a["kind"] == "op"]
    cells = {n.split(".")[0] for n in ops if n.startswith("cell[")}
    assert len(cells) == 15
    # one recorded application per stage width (16, 32, 64); the other 12 cells are replays
    builder_memo = _memo_of(space, arch)
    assert len(builder_memo) == 3


def _memo_of(space, arch):
    from nasl.dsl.builder import GraphBuilder
    seen = {}
    original = GraphBuilder.__init__

    def spy(self):
        original(self)
        seen["memo"] = self.memo
    GraphBuilder.__init__ = spy
    try:
        space.realize(arch)
    finally:
        GraphBuilder.__init__ = original
    return seen["memo"]


EDGE_CASES = {
    "same tensor given twice": """
        input x: [3, 8, 8]
        def cell(c) = dag(inputs=2, nodes=4) { edge i -> j: choice(conv(c, k=1), identity) }
        genotype g = cell
        network {
            h = x >> conv(4, k=1)
            a = g(4)(h, h)
            b = g(4)(a, h)
            return g(4)(b, a)
        }
    """,
    "a tap inside a cell": """
        input x: [3, 8, 8]
        def cell(c) = dag(nodes=3) { edge i -> j: choice(conv(c, k=1), identity) }
        def tapped(c)(h) { return cell(c)(h) >> tap("t") }
        genotype g = cell
        network {
            h = x >> conv(4, k=1)
            h = g(4)(h)
            h = tapped(4)(h)
            return g(4)(h)
        }
    """,
    "an op as a closure value": """
        input x: [3, 8, 8]
        def cell(op) = dag(nodes=3) { edge i -> j: choice(op, identity) }
        genotype g = cell
        network {
            h = x >> conv(4, k=1)
            h = g(conv(4, k=3))(h)
            h = g(conv(4, k=3))(h)
            return g(avg_pool(k=3, padding=1))(h)
        }
    """,
    "nested dags": """
        input x: [3, 8, 8]
        def inner(c) = dag(nodes=3) { edge i -> j: choice(conv(c, k=1), identity) }
        genotype motif = inner
        def outer(c) = dag(nodes=3) { edge i -> j: choice(motif(c), conv(c, k=3)) }
        genotype g = outer
        network {
            h = x >> conv(4, k=1)
            repeat 3 { h = g(4)(h) }
            return h
        }
    """,
}


@pytest.mark.parametrize("source", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_match_the_interpreter(source):
    space = nasl.loads(source)
    for arch in space.sample(seed=1, n=6):
        plain, replayed = _both(space, arch)
        assert _snapshot(replayed) == _snapshot(plain)


def test_ctx_but_copies_every_field_and_refuses_unknown_ones():
    from nasl.dsl.context import Ctx
    c = Ctx("spec")
    for i, slot in enumerate(Ctx.__slots__):
        setattr(c, slot, ("value", i))
    copy = c.but()
    assert all(getattr(copy, s) == ("value", i) for i, s in enumerate(Ctx.__slots__))
    assert c.but(depth=7).depth == 7 and c.but(depth=7).trace == ("value", Ctx.__slots__.index("trace"))
    with pytest.raises(TypeError, match="no field 'dpeth'"):
        c.but(dpeth=1)
