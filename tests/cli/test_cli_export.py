"""nasl export: python source, ONNX and pictures, from the command line."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from nasl.cli import main
from tests.conftest import example, nb201_arch

pytest.importorskip("torch")
NB201 = str(example("nas_bench_201.nas"))
ARCH = json.dumps(nb201_arch("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|"))


def test_export_python_runs_without_nasl(tmp_path, capsys):
    out = tmp_path / "net.py"
    assert main(["export", NB201, "--arch", ARCH, "--to", "python", "-o", str(out)]) == 0
    text = out.read_text()
    assert "import nasl" not in text and "from nasl" not in text
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0 and "10" in run.stdout


def test_export_python_without_a_suffix_writes_py(tmp_path, capsys):
    assert main(["export", NB201, "--arch", ARCH, "--to", "python", "-o", str(tmp_path / "net")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "net.py")
    assert (tmp_path / "net.py").is_file() and not (tmp_path / "net").exists()


def test_export_pictures(tmp_path, capsys):
    dot = tmp_path / "a.dot"
    assert main(["export", NB201, "--arch", ARCH, "--to", "dot", "-o", str(dot)]) == 0
    assert "relu_conv_bn" in dot.read_text()
    if shutil.which("dot"):
        svg = tmp_path / "space.svg"
        assert main(["export", NB201, "--space", "--to", "svg", "-o", str(svg)]) == 0
        assert svg.read_text().count("cell.edge[") == 6


def test_export_usage_errors(tmp_path, capsys):
    assert main(["export", NB201, "--to", "onnx", "-o", str(tmp_path / "x.onnx")]) == 1
    assert "give the architecture with --arch" in capsys.readouterr().err
    assert main(["export", NB201, "--space", "--to", "python", "-o", str(tmp_path / "x.py")]) == 1
