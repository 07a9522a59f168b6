"""Every op with a PyTorch builder: its output shape is the inferred shape.

The test is parametrized over the registry, so a newly registered op is
tested as soon as it has an example (and fails until it has one).
"""
from __future__ import annotations

import pytest
import torch

from nasl.compiler import build_op, compile_graph, op_shape, torch_ops
from nasl.compiler.layers import run_impl
from nasl.ir.archgraph import ArchGraph
from nasl.ir.oplib import OPS, get_op, list_ops

# op -> list of (params given in a .nas file, input shapes): the registry's examples (nasl/ir/op_examples.py
# for the library; register_op(example=...) for a user op)
EXAMPLES = {n: OPS.entry(n).meta.get("examples") or [OPS.entry(n).meta["example"]]
            for n in torch_ops() if OPS.find(n) is not None and "example" in OPS.entry(n).meta}
CASES = [(name, i) for name in torch_ops() for i in range(max(1, len(EXAMPLES.get(name, []))))]


def _resolved(name, given):
    sig = get_op(name)
    assert sig is not None, f"op '{name}' has a builder but no signature in nasl.ir.oplib"
    bound = sig.bind((), given)
    assert not sig.missing(bound), sig.missing(bound)
    return sig.resolved(bound)


def single_op_graph(name, params, in_shapes) -> ArchGraph:
    g = ArchGraph()
    g.graph["inputs"], g.graph["outputs"] = [], ["output"]
    for i, s in enumerate(in_shapes):
        g.add_node(f"x{i}", kind="input", op="input", params={}, shape=tuple(s), scope="", span=None)
        g.graph["inputs"].append(f"x{i}")
    g.add_node(f"block[0].{name}", kind="op", op=name, params=params, scope="block[0]", span=None)
    for i in range(len(in_shapes)):
        g.add_edge(f"x{i}", f"block[0].{name}", port=i)
    g.add_node("output", kind="output", op="output", params={}, scope="", span=None)
    g.add_edge(f"block[0].{name}", "output", port=0)
    return g


@pytest.mark.parametrize("name,case", CASES)
def test_op_output_shape_is_the_inferred_shape(name, case):
    assert name in EXAMPLES, f"give op '{name}' an example (nasl/ir/op_examples.py, or register_op(example=...))"
    given, in_shapes = EXAMPLES[name][case]
    params = _resolved(name, given)
    inferred = op_shape(name, params, in_shapes)
    torch.manual_seed(0)
    xs = [torch.randn((2,) + s) for s in in_shapes]
    impl, out_shape = build_op(name, params, in_shapes)
    assert tuple(out_shape) == inferred
    if isinstance(impl, torch.nn.Module):
        impl.eval()
    eager = run_impl(impl, xs)
    assert tuple(eager.shape) == (2,) + inferred
    # the same op, compiled as a one-op network through torch.fx
    model = compile_graph(single_op_graph(name, params, in_shapes)).eval()
    out = model(*xs)
    assert tuple(out.shape) == (2,) + inferred
    if isinstance(impl, torch.nn.Module):       # same weights, same numbers
        model.load_state_dict({f"block_0.{name}.{k}": v for k, v in impl.state_dict().items()})
        out = model(*xs)
    assert torch.equal(out, eager)


def test_every_standard_op_has_a_builder():
    missing = [n for n in list_ops() if n not in torch_ops()]
    assert not missing, missing


def test_zero_is_zero_and_strided():
    z, shape = build_op("none", {"stride": 2}, [(4, 9, 9)])
    out = z(torch.randn(2, 4, 9, 9))
    assert shape == (4, 5, 5) and out.shape == (2, 4, 5, 5) and not out.any()


def test_split_covers_the_channels_in_order():
    x = torch.arange(8.0).view(1, 8, 1, 1)
    parts = [build_op("split", {"parts": 3, "index": i}, [(8, 1, 1)])[0](x).flatten().tolist() for i in range(3)]
    assert parts == [[0, 1, 2], [3, 4, 5], [6, 7]]


def test_factorized_reduce_halves_and_matches_darts_shift_on_even_maps():
    fr, shape = build_op("factorized_reduce", {"c": 8}, [(4, 8, 8)])
    fr.eval()
    x = torch.randn(2, 4, 8, 8)
    ref = torch.cat([fr.conv1(x.relu()), fr.conv2(x.relu()[:, :, 1:, 1:])], 1)
    assert torch.allclose(fr(x), fr.bn(ref))
    assert shape == (8, 4, 4)


def test_sep_conv_matches_the_darts_layout():
    m, _ = build_op("sep_conv", {"c": 8, "k": 3, "stride": 2}, [(4, 8, 8)])
    assert [type(l).__name__ for l in m] == ["ReLU", "Conv2d", "Conv2d", "BatchNorm2d"] * 2
    assert (m.dw1.stride, m.dw2.stride) == ((2, 2), (1, 1))
    assert (m.pw1.in_channels, m.pw1.out_channels, m.pw2.out_channels) == (4, 4, 8)
    # depthwise 4*9 twice, pointwise 4*4 + 4*8, BN 2*4 + 2*8
    assert sum(p.numel() for p in m.parameters()) == 72 + 16 + 32 + 8 + 16


def test_avg_pool_count_include_pad_follows_the_param():
    ones = torch.ones(1, 1, 3, 3)
    excl = build_op("avg_pool", {"k": 3, "stride": 1, "padding": 1, "count_include_pad": False}, [(1, 3, 3)])[0]
    incl = build_op("avg_pool", {"k": 3, "stride": 1, "padding": 1, "count_include_pad": True}, [(1, 3, 3)])[0]
    assert torch.equal(excl(ones), ones)
    assert incl(ones)[0, 0, 0, 0].item() == pytest.approx(4 / 9)
