"""An exception inside a user's registered op is a one-line user error at the op's use (issue 13).

Its builder, its forward (traced, or run on meta tensors for its shape) and its shape rule run
while nasl compiles; whatever they raise names the op and points at the .nas span, and the CLI
exits 1 with it, never "internal error, please report".
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import nasl  # noqa: E402
from nasl.cli import main  # noqa: E402
from nasl.compiler import compile, layers, shapes, torch_op  # noqa: E402
from nasl.compiler.shapes import shape_rule  # noqa: E402
from nasl.ir.errors import NaslError  # noqa: E402

SOURCE = "input x: [1, 8, 8]\nnetwork {\n    return x >> conv(4) >> {op} >> global_avg_pool\n}\n"
COLUMN = SOURCE.splitlines()[2].index("{op}") + 1


@pytest.fixture(autouse=True)
def private_registries(isolated_ops):
    yield


class Raising(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("the forward is broken")


def _register(kind: str) -> str:
    name = f"bad_{kind}"
    nasl.register_op(name, ())
    if kind == "builder":
        @torch_op(name)
        def build(params, in_shapes):
            raise ValueError("no such width\nsecond line")
    elif kind == "meta":                 # no shape from the builder: nasl runs the forward on meta tensors
        @torch_op(name)
        def build(params, in_shapes):
            return Raising(), None
    elif kind == "traced":               # a function impl, traced into the forward
        @torch_op(name)
        def build(params, in_shapes):
            def f(x):
                raise KeyError("traced")
            return f, in_shapes[0]
    elif kind == "rule":
        @shape_rule(name)
        def rule(params, in_shapes):
            raise ZeroDivisionError("division by zero")

        @torch_op(name)
        def build(params, in_shapes):
            return torch.nn.Identity(), in_shapes[0]
    return name


@pytest.mark.parametrize("kind, raised, stage", [
    ("builder", "ValueError", "during shape inference"),
    ("meta", "RuntimeError", "during shape inference"),
    ("traced", "KeyError", "while its forward was traced"),
    ("rule", "ZeroDivisionError", "during shape inference"),
])
def test_the_error_names_the_op_at_its_span(kind, raised, stage):
    op = _register(kind)
    space = nasl.loads(SOURCE.replace("{op}", op), "net.nas")
    with pytest.raises(NaslError) as info:
        compile(space, {})
    e = info.value
    # one line of message; the render adds the source line and caret (issue 14)
    assert e.message.startswith(f"op '{op}' raised {raised} {stage}") and "\n" not in e.message
    assert e.render().splitlines()[1] == "   3 |     return x >> conv(4) >> " + op + " >> global_avg_pool"
    assert (e.span.file, e.span.line, e.span.col) == ("net.nas", 3, COLUMN)
    assert isinstance(e.__cause__, Exception)        # --traceback still shows the user's frames


def test_a_forward_that_only_cost_counting_runs():
    nasl.register_op("bad_cost", ())

    @torch_op("bad_cost")
    def build(params, in_shapes):
        return Raising(), in_shapes[0]

    space = nasl.loads(SOURCE.replace("{op}", "bad_cost"), "net.nas")
    compile(space, {})                                  # its shape is declared: nothing runs the forward
    with pytest.raises(NaslError, match=r"op 'bad_cost' raised RuntimeError while its cost was counted: the "
                                        r"forward is broken") as info:
        nasl.cost(space, {})
    assert info.value.span.line == 3


def test_the_cli_exits_1_with_one_line(tmp_path, capsys):
    mod = tmp_path / "broken_ops_for_cli.py"
    mod.write_text("import nasl\nfrom nasl.compiler import torch_op\nnasl.register_op('cli_bad', ())\n"
                   "@torch_op('cli_bad')\ndef build(params, in_shapes):\n    raise ValueError('bad')\n")
    space = tmp_path / "s.nas"
    space.write_text(SOURCE.replace("{op}", "cli_bad"))
    for argv in (["compile", space, "--arch", "{}"],
                 ["export", space, "--arch", "{}", "--to", "onnx", "-o", tmp_path / "m.onnx"]):
        code = main([str(a) for a in argv] + ["--ops", str(mod)])
        err = capsys.readouterr().err
        assert code == 1 and err.splitlines()[0] == f"{space}:3:{COLUMN}: error: op 'cli_bad' raised ValueError " \
                                                  f"during shape inference: bad"
        assert err.splitlines()[1:] == ["   3 |     return x >> conv(4) >> cli_bad >> global_avg_pool",
                                        " " * (6 + COLUMN) + "^" * len("cli_bad")]


def test_an_error_inside_nasls_own_op_stays_an_internal_error(monkeypatch):
    def broken(params, in_shapes):
        raise ValueError("a nasl bug")
    broken.__module__ = "nasl.compiler.layers"          # as if it were nasl's own builder
    layers.BUILDERS.register("relu", broken, replace=True)     # undone by private_registries
    shapes.SHAPE_RULES.unregister("relu")
    space = nasl.loads(SOURCE.replace("{op}", "relu"))
    with pytest.raises(ValueError, match="a nasl bug"):
        compile(space, {})


def test_a_user_ops_own_nasl_error_gets_the_span():
    nasl.register_op("picky", ())

    @torch_op("picky")
    def build(params, in_shapes):
        raise NaslError("picky wants 3 channels")

    with pytest.raises(NaslError, match="picky wants 3 channels") as info:
        compile(nasl.loads(SOURCE.replace("{op}", "picky"), "net.nas"), {})
    assert info.value.span.line == 3


def _register_bad_onnx():
    nasl.register_op("bad_onnx", ())

    @torch_op("bad_onnx")
    def build(params, in_shapes):
        return Raising(), in_shapes[0]
    return SOURCE.replace("{op}", "bad_onnx")


def test_a_forward_that_fails_in_the_onnx_export(tmp_path):
    pytest.importorskip("onnx")
    from nasl.compiler.export_onnx import to_onnx
    source = _register_bad_onnx()
    with pytest.raises(NaslError) as info:
        to_onnx(nasl.loads(source, "net.nas"), {}, tmp_path / "m.onnx", dynamo=False)
    assert info.value.message == "op 'bad_onnx' raised RuntimeError in its forward: the forward is broken"
    assert (info.value.span.line, info.value.span.col) == (3, COLUMN)


@pytest.mark.slow          # torch.export tries hard before it gives up: ~5 s
def test_a_forward_that_fails_in_the_default_onnx_exporter_of_a_bundle_export(tmp_path):
    pytest.importorskip("onnx")
    from nasl.study.model_export import export_model
    source = _register_bad_onnx()
    with pytest.raises(NaslError, match="in its forward") as info:
        export_model(tmp_path / "m.onnx", space_source=source, space_file="net.nas", arch={})
    assert info.value.span.line == 3 and not (tmp_path / "m.onnx").exists()
