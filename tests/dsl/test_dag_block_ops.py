"""A block definition with choices inside, used as a dag node or edge op."""
from __future__ import annotations

import nasl


def test_block_node_op_registers_its_choices():
    space = nasl.loads("""
        input x: [3, 16, 16]
        def layer(j)(h) {
            c = choice(4, 8) as filters
            return h >> conv(c, k=choice(1, 3) as k)
        }
        def chain = dag(nodes=3, implicit_io=true, merge="concat_pad") {
            edge i -> j: optional
            node j: op = layer(j)
        }
        network { return chain(x) }""")
    assert space.size() == 4 ** 3 * 2 ** 3 == len(set(space.enumerate()))
    arch = space.sample(seed=0)
    assert {"chain.node[2].op.layer.filters", "chain.node[2].op.layer.k"} <= set(arch)
    assert space.realize(arch).op_counts()["conv"] == 3


def test_block_edge_op_registers_its_choices():
    space = nasl.loads("""
        input x: [4, 8, 8]
        def branch(c)(h) { return h >> conv(c, k=choice(1, 3) as k) >> optional(bn) as norm }
        def cell(c) = dag(nodes=3) { edge i -> j: branch(c) }
        network { return cell(4)(x) }""")
    assert space.size() == 4 ** 3
    arch = space.sample(seed=1)
    assert space.realize(arch).op_counts()["conv"] == 3


NESTED = """
    input x: [3, 8, 8]
    def inner(c) = dag(nodes=3) { edge i -> j: choice(conv(c, k=1), identity) }
    def branch(c)(h) { return h >> conv(c, k=choice(1, 3) as k) }
    def outer(c) = dag(nodes=3) { edge i -> j: EDGE }
"""


def _nested(edge: str, network: str = "network { return outer(4)(x >> conv(4, k=1)) }"):
    return nasl.loads(NESTED.replace("EDGE", edge) + network)


def _all_realize(space):
    archs = list(space.enumerate())
    assert len(archs) == space.size() == len(set(a.id for a in archs))
    for a in archs:
        space.realize(a)
    return archs


def test_a_dag_as_an_edge_op_registers_its_choices():
    space = _nested("inner(c)")
    assert space.size() == (2 ** 3) ** 3            # 3 edges, each an inner dag of 3 binary edges
    _all_realize(space)


def test_dags_among_a_choices_alternatives_register_their_choices_under_its_guard():
    space = _nested("choice(inner(c), conv(c, k=3))")
    assert space.size() == (2 ** 3 + 1) ** 3 == 729
    archs = _all_realize(space)
    conv_only = next(a for a in archs if all(v == "conv" for v in a.values()))
    assert len(conv_only) == 3                      # an unchosen inner dag asks nothing
    tied = nasl.loads(NESTED.replace("EDGE", "choice(inner(c), branch(c), identity)") + """
        genotype g = outer
        network { h = x >> conv(4, k=1)
                  repeat 2 { h = g(4)(h) }
                  return h }""")
    assert tied.size() == (2 ** 3 + 2 + 1) ** 3
    _all_realize(tied)
