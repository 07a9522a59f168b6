"""Shape inference before any module is built, and its diagnostics."""
from __future__ import annotations

import pytest
import torch

import nasl
from nasl.compiler import compile, count_params, infer_shapes, torch_op
from nasl.compiler import layers
from nasl.ir import oplib
from nasl.ir.errors import NaslError

MISMATCH = """\
input x: [3, 8, 8]
network {
    a = x >> conv(8, k=3)
    b = x >> conv(8, k=3, stride=2)
    h = add(a, b)
    return h >> global_avg_pool >> linear(2)
}
"""


def test_adding_different_shapes_is_an_error_at_the_span():
    space = nasl.loads(MISMATCH, "mismatch.nas")
    with pytest.raises(NaslError) as info:
        compile(space, {})
    err = info.value
    assert "cannot add tensors of different shapes" in err.message
    assert "[8, 8, 8]" in err.message and "[8, 4, 4]" in err.message
    # at the op that made the odd input (the strided conv), the merge named in the hint (issue 14)
    assert err.span is not None and err.span.file == "mismatch.nas" and err.span.line == 4
    assert err.path == "conv_1" and "merged by 'add' (add) at 5:9" in err.hint
    assert "mismatch.nas:4:" in err.render() and "    b = x >> conv(8, k=3, stride=2)" in err.render()


def test_inference_runs_without_building_modules(monkeypatch):
    space = nasl.loads(MISMATCH.replace("stride=2", "stride=1"))
    with layers.BUILDERS.isolated(empty=True):
        shapes = infer_shapes(space.realize({}))
    assert shapes["add"] == (8, 8, 8) and shapes["output"] == (2,)


def test_linear_on_a_feature_map_says_what_to_do():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> conv(4, k=3) >> linear(2) }")
    with pytest.raises(NaslError, match=r"linear needs flat features \[F\] or tokens \[S, D\], got \[4, 8, 8\] "
                       r"\(flatten or global_avg_pool the map first\)"):
        compile(space, {})


def test_a_window_larger_than_the_map_is_an_error():
    space = nasl.loads("input x: [3, 4, 4]\nnetwork { return x >> conv(4, k=7, stride=1) "
                       ">> max_pool(k=3, stride=2, padding=0) >> max_pool(k=3, stride=2, padding=0) }")
    with pytest.raises(NaslError, match="does not fit a map of size 1"):
        compile(space, {})


def test_concat_needs_equal_maps():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { a = x >> avg_pool(k=3, stride=2)\n"
                       "return concat(x, a) }")
    with pytest.raises(NaslError, match="cannot concatenate"):
        compile(space, {})


def test_even_pool_without_padding_halves_the_map():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> avg_pool(k=2, stride=2) }")
    assert infer_shapes(space.realize({}))["output"] == (3, 4, 4)


def test_input_shape_must_be_known_and_valid():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> relu }")
    assert compile(space, {}, input_shape=(2, 5, 5))(torch.randn(1, 2, 5, 5)).shape == (1, 2, 5, 5)
    with pytest.raises(NaslError, match="positive ints"):
        compile(space, {}, input_shape=(3, 0, 8))


@pytest.fixture
def private_registries(isolated_ops):
    yield


def test_a_user_op_without_shape_rule_gets_its_shape_from_meta_tensors(private_registries):
    nasl.register_op("pool_twice", (("c", oplib.REQUIRED),))

    @torch_op("pool_twice")
    def build(params, in_shapes):
        m = torch.nn.Sequential(torch.nn.Conv2d(in_shapes[0][0], params["c"], 1), torch.nn.MaxPool2d(2),
                                torch.nn.MaxPool2d(2))
        return m, None

    space = nasl.loads("input x: [3, 16, 16]\nnetwork { return x >> pool_twice(5) >> global_avg_pool }")
    g = space.realize({})
    assert infer_shapes(g)["pool_twice"] == (5, 4, 4)
    model = compile(space, {})
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 5)
    assert count_params(model) == 3 * 5 + 5


def test_an_op_without_builder_is_an_error_at_its_span(private_registries):
    nasl.register_op("no_torch_here", ())
    space = nasl.loads("input x: [3, 16, 16]\nnetwork { return x >> no_torch_here }")
    with pytest.raises(NaslError, match="no PyTorch builder") as info:
        compile(space, {})
    assert info.value.span is not None and info.value.span.line == 2
