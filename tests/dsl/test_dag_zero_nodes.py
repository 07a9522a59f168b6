"""A dag node whose incoming edges are all zero: it is zeros of the shape its edges give.

In a reduction cell (RobNet, DARTS-format spaces with `none`) the edges that read the cell
inputs have stride 2, so a node whose edges are all zero must still be at half resolution
for the nodes that sum it with strided edges.
"""
from __future__ import annotations

import torch

import nasl
from nasl.compiler.infer import infer_shapes

REDUCTION_CELL = """
    input x: [4, 8, 8]
    def cell = dag(inputs=1, nodes=3) {
        edge i -> j where i == 0: choice(zero(stride=2), conv(4, k=3, stride=2))
        edge i -> j where i > 0: identity
    }
    network { return cell(x) }
"""


def test_all_zero_node_in_a_strided_cell_has_the_reduced_shape():
    space = nasl.loads(REDUCTION_CELL)
    arch = space.validate({"cell.edge[0->1]": "zero", "cell.edge[0->2]": "conv"})
    shapes = infer_shapes(space.realize(arch))
    assert [tuple(s) for n, s in shapes.items() if n.startswith("cell.node[1]")] == [(4, 4, 4)]
    out = nasl.compile(space, arch)(torch.randn(2, 4, 8, 8))
    assert out.shape == (2, 4, 4, 4)


def test_all_zero_node_at_stride_one_is_zeros_of_the_first_input():
    space = nasl.loads(REDUCTION_CELL.replace("stride=2", "stride=1"))
    for arch in space.enumerate():
        out = nasl.compile(space, arch)(torch.randn(1, 4, 8, 8))
        assert out.shape == (1, 4, 8, 8)
