"""A missing optional package or tool says what to install, with exit 1 (issue 13), never an internal error.

Absence is simulated: ``sys.modules[name] = None`` makes ``import name`` fail, and a PATH without
Graphviz hides ``dot``.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import nasl
from nasl.cli import main
from nasl.ir.errors import NaslError
from nasl.ir.errors import MissingDependency

pytest.importorskip("torch")
SPACE = """
input x: [1, 8, 8]
network {
    return x >> conv(choice(2, 4) as w) >> global_avg_pool >> linear(3)
}
"""
ARCH = {"w": 2}


@pytest.fixture()
def space_file(tmp_path):
    path = tmp_path / "s.nas"
    path.write_text(SPACE)
    return str(path)


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("error: ") and "internal error" not in err, err
    return err


def test_onnx_missing(monkeypatch, tmp_path, space_file, capsys):
    from nasl.compiler.export_onnx import to_onnx
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingDependency, match=r"pip install 'nasl\[torch\]'"):
        to_onnx(nasl.loads(SPACE), ARCH, tmp_path / "m.onnx")
    code, err = _cli(capsys, "export", space_file, "--arch", '{"w": 2}', "--to", "onnx", "-o", tmp_path / "m.onnx")
    assert code == 1 and "'onnx' package" in _one_line(err)
    assert not (tmp_path / "m.onnx").exists()


def test_pydot_missing(monkeypatch, tmp_path, space_file, capsys):
    from nasl.compiler.export_dot import arch_dot, space_dot
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(MissingDependency, match="pydot"):
        arch_dot(nasl.loads(SPACE), ARCH)
    with pytest.raises(MissingDependency, match="pydot"):
        space_dot(nasl.loads(SPACE))
    assert nasl.loads(SPACE)._repr_svg_() is None          # a notebook falls back to the text repr
    for argv in (["--arch", '{"w": 2}', "--to", "dot"], ["--space", "--to", "svg"]):
        code, err = _cli(capsys, "export", space_file, *argv, "-o", tmp_path / "p")
        assert code == 1 and "pip install 'nasl[torch]' (or pip install pydot)" in _one_line(err)


def test_graphviz_missing(monkeypatch, tmp_path, space_file, capsys):
    pytest.importorskip("pydot")
    from nasl.compiler.export_dot import render, space_dot
    monkeypatch.setenv("PATH", str(tmp_path))               # no `dot` there
    with pytest.raises(MissingDependency, match="Graphviz"):
        render(space_dot(nasl.loads(SPACE)), tmp_path / "s.svg")
    for to in ("svg", "png"):
        code, err = _cli(capsys, "export", space_file, "--arch", '{"w": 2}', "--to", to, "-o", tmp_path / f"a.{to}")
        assert code == 1 and "Graphviz program 'dot'" in _one_line(err) and "apt-get install graphviz" in err
    code, _ = _cli(capsys, "export", space_file, "--arch", '{"w": 2}', "--to", "dot", "-o", tmp_path / "a.dot")
    assert code == 0                                         # the DOT text needs no Graphviz


def test_optuna_missing(monkeypatch, tmp_path, space_file, capsys):
    from nasl.searchers import create
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(MissingDependency) as e:
        create("optuna", nasl.loads(SPACE).spec)
    assert isinstance(e.value, NaslError) and isinstance(e.value, ImportError)
    with pytest.raises(NaslError, match=r"nasl\[optuna\]"):
        nasl.search(SPACE, searcher="optuna", evaluator="cost", budget=1, progress=False)
    code, err = _cli(capsys, "search", space_file, "--searcher", "optuna", "--evaluator", "cost", "--budget", 1,
                     "--study", tmp_path / "o.db", "--no-progress")
    assert code == 1 and "pip install 'nasl[optuna]'" in _one_line(err)


def test_torch_missing_in_the_cli(space_file):
    # torch is imported already here, so a fresh process shows a command that needs it
    code = ("import sys; sys.modules['torch'] = None\n"
            "from nasl.cli import main\n"
            f"sys.exit(main(['compile', {space_file!r}, '--arch', '{{\"w\": 2}}']))\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 1, out.stderr
    assert "nasl compile needs the 'torch' package" in _one_line(out.stderr)
