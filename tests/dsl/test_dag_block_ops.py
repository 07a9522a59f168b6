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
