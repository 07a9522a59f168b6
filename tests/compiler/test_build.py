"""Code generation: submodule paths, merges, outputs."""
from __future__ import annotations

import pytest
import torch

import nasl
from nasl.compiler import compile, module_paths
from nasl.compiler.build import sanitize
from nasl.ir.archgraph import ArchGraph


@pytest.mark.parametrize("raw,clean", [
    ("cell[0][2]", "cell_0_2"), ("edge[0->1]", "edge_0_1"), ("relu_conv_bn", "relu_conv_bn"),
    ("0abc", "n0abc"), ("class", "class_"), ("forward", "forward_"), ("[]", "op"),
])
def test_sanitize(raw, clean):
    assert sanitize(raw) == clean


def _graph(*ids) -> ArchGraph:
    g = ArchGraph()
    for n in ids:
        g.add_node(n, kind="op", op="relu", params={}, scope="", span=None)
    return g


def test_paths_are_nested_unique_and_prefix_free():
    g = _graph("cell[0][2].edge[0->1].relu_conv_bn", "a[1]", "a_1", "b.c", "b.c.d", "cell[0][2].edge[0.5].x")
    paths = module_paths(g)
    assert paths["cell[0][2].edge[0->1].relu_conv_bn"] == "cell_0_2.edge_0_1.relu_conv_bn"
    assert paths["a[1]"] == "a_1" and paths["a_1"] == "a_1_1"
    assert paths["b.c"] == "b.c" and paths["b.c.d"] == "b_c_d"
    assert paths["cell[0][2].edge[0.5].x"] == "cell_0_2.edge_0_5.x"
    assert len(set(paths.values())) == len(paths)


def test_several_outputs_come_back_as_a_tuple():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { a = x >> conv(4, k=3)\n"
                       "return a >> relu, a >> global_avg_pool }")
    model = compile(space, {})
    out = model(torch.randn(2, 3, 8, 8))
    assert isinstance(out, tuple) and [o.shape for o in out] == [(2, 4, 8, 8), (2, 4)]


def test_merges_are_plain_operations_in_the_code():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { a = x >> conv(4, k=3)\nb = x >> conv(4, k=1)\n"
                       "return concat(add(a, b), mean(a, b)) }")
    model = compile(space, {})
    code = model.code
    assert "torch.cat([" in code and " + " in code and " / 2" in code
    x = torch.randn(1, 3, 8, 8)
    a, b = model.conv(x), model.conv_1(x)
    assert torch.allclose(model(x), torch.cat([a + b, (a + b) / 2], 1))


def test_the_same_tensor_twice_in_a_merge():
    space = nasl.loads("input x: [2, 4, 4]\nnetwork { h = x >> relu\nreturn add(h, h) }")
    x = torch.randn(1, 2, 4, 4)
    assert torch.allclose(compile(space, {})(x), 2 * x.relu())


def test_torch_compile_traces_the_module():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { a = x >> relu_conv_bn(4, k=3)\n"
                       "b = x >> conv(4, k=1)\nreturn add(a, b) >> bn >> global_avg_pool >> linear(3) }")
    model = compile(space, {}).eval()
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(torch.compile(model, backend="aot_eager")(x), model(x))
