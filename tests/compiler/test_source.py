"""The forward written straight from the record of the fx graph (nasl.compiler.recorded, .source).

It must be the text torch.fx generates for the same graph, and the graph replayed on demand must
be the graph the compiler used to build, so that ``model.code``, ``recompile()``, copies, pickles
and the exports cannot tell the two paths apart.
"""
from __future__ import annotations

import copy
import io
import operator
import pickle
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import nasl  # noqa: E402
from torch import fx, nn  # noqa: E402
from torch.fx.proxy import GraphAppendingTracer  # noqa: E402
from nasl.compiler import build, compile, torch_op  # noqa: E402
from nasl.compiler.merges import _concat, _emit_zero, _mean, _zero_fn, _channels  # noqa: E402
from nasl.compiler.clone import container_factory  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FX = build.BuildOptions(direct_source=False)
CASES = [("nas_bench_201.nas", dict(C=4, N=2)), ("darts.nas", dict(C=4, layers=3)), ("enas_macro.nas", {}),
         ("nas_bench_101.nas", dict(C=8)), ("hierarchical.nas", dict(C=4)), ("enas_micro.nas", dict(C=4, L=2)),
         ("mobilenet.nas", dict(stem=8, widths=[8, 8, 16, 16, 16], final=32, feature=32, classes=10)),
         ("genetic_cnn.nas", {}), ("tabular_mlp.nas", {}), ("zoph_le.nas", {})]


def _nodes(gm):
    return [(n.op, n.name, n.target, str(n.args), dict(n.kwargs), dict(n.meta)) for n in gm.graph.nodes]


def _pair(space, arch):
    torch.manual_seed(0)
    direct = compile(space, arch)
    torch.manual_seed(0)
    return direct, compile(space, arch, options=FX)


@pytest.mark.parametrize("example,params", CASES)
def test_the_written_forward_is_torch_fx_s_code_for_the_same_graph(example, params):
    space = nasl.load(EXAMPLES / example, **params)
    for seed in range(2):
        direct, traced = _pair(space, space.sample(seed=seed))
        assert "_graph" not in vars(direct)                 # not built: the forward was written directly
        assert direct.code == traced.code and direct._lineno_map == traced._lineno_map
        assert list(direct.state_dict()) == list(traced.state_dict())
        assert _nodes(direct) == _nodes(traced)             # the graph replayed on first use
        code = direct.code
        direct.recompile()                                   # torch.fx regenerates the same text
        assert direct.code == code
        x = torch.randn(2, *next(iter(direct.input_shapes.values())))
        assert torch.equal(direct.eval()(x), traced.eval()(x))


def test_copies_and_pickles_replay_the_graph_first():
    from nasl.formats.nb201 import from_string
    space = nasl.load(EXAMPLES / "nas_bench_201.nas", C=4, N=1)
    model, traced = _pair(space, from_string("|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|"
                                             "nor_conv_1x1~1|none~2|"))
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    want = model(x)
    clone = copy.deepcopy(model)
    assert clone.code == model.code and torch.equal(clone(x), want)
    again = pickle.loads(pickle.dumps(model))       # torch.fx re-traces the code (its own frees)
    assert again.code == pickle.loads(pickle.dumps(traced)).code and torch.equal(again(x), want)
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    assert torch.equal(torch.load(buf, weights_only=False)(x), want)


def test_an_op_traced_from_its_function_falls_back_to_the_fx_graph(isolated_ops):
    nasl.register_op("halve", ())

    @torch_op("halve")
    def build_halve(params, in_shapes):
        return (lambda x: torch.tanh(x) * 0.5), in_shapes[0]

    space = nasl.loads("input x: [3, 8, 8]\nnetwork { return x >> conv(4) >> halve >> global_avg_pool }", "h.nas")
    direct, traced = _pair(space, {})
    assert "_graph" in vars(direct)                         # built as before, with the traced op
    assert direct.code == traced.code and "torch.tanh(conv)" in direct.code
    x = torch.randn(1, 3, 8, 8)
    assert torch.equal(direct(x), traced(x))


def test_an_input_whose_node_name_differs_from_its_argument_is_written_by_torch_fx():
    space = nasl.loads("input inputA: [3, 8, 8]\nnetwork { return inputA >> conv(4) >> relu }", "a.nas")
    direct, traced = _pair(space, {})
    assert direct.code == traced.code and "input_a = inputA" in direct.code


@pytest.mark.parametrize("fn,arity", [(_zero_fn(1), 1), (_zero_fn(2), 1), (_mean, 1), (_mean, 3), (_concat, 1),
                                      (_concat, 3), (_channels(1, 3), 1)],
                         ids=["zero", "zero_stride2", "mean1", "mean3", "concat1", "concat3", "channels"])
def test_the_direct_emitters_add_the_nodes_tracing_adds(fn, arity):
    built, traced = fx.Graph(), fx.Graph()
    ins = [built.placeholder(f"x{i}") for i in range(arity)]
    built.output(fn.fx_emit(built, ins))
    tracer = GraphAppendingTracer(traced)
    proxies = [fx.Proxy(traced.placeholder(f"x{i}"), tracer) for i in range(arity)]
    out = fn(*proxies)
    traced.output(out.node if isinstance(out, fx.Proxy) else out)
    assert built.python_code("self").src == traced.python_code("self").src


def test_emit_zero_slices_then_multiplies():
    g = fx.Graph()
    _emit_zero(2, g, [g.placeholder("x")])
    assert [(n.op, n.target) for n in g.nodes][1:] == [("call_function", operator.getitem), ("call_method", "mul")]


def test_containers_are_fresh_plain_modules_of_their_own():
    new = container_factory()
    a, b, ref = new(), new(), nn.Module()
    assert type(a) is nn.Module and vars(a).keys() == vars(ref).keys()
    assert all(vars(a)[k] == vars(ref)[k] for k in vars(ref))
    a.add_module("conv", nn.Conv2d(1, 1, 1))
    a.register_forward_hook(lambda *args: None)
    assert not b._modules and not b._forward_hooks and not ref._modules
