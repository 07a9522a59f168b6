"""`nasl compile`: the summary, and diagnostics (exit 1, never a traceback) for bad input."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from nasl.cli import main  # noqa: E402
from tests.conftest import example, nb201_arch  # noqa: E402

NB201 = str(example("nas_bench_201.nas"))
RNN = str(example("rnn_cell.nas"))
BEST_C100 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ARCH = json.dumps(nb201_arch(BEST_C100))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary(capsys):
    code, out, err = run(capsys, "compile", NB201, "--arch", ARCH)
    assert code == 0, err
    assert "params:  1,288,506" in out
    assert "FLOPs:   369,460,480 (369.46M, batch 1; MACs 184,730,250)" in out
    assert "layers:  121" in out
    assert "inputs:  x [3, 32, 32]" in out and "outputs: output [10]" in out
    assert "def forward" not in out


def test_arch_from_file_defines_input_shape_and_code(capsys, tmp_path):
    f = tmp_path / "arch.json"
    f.write_text(ARCH)
    code, out, err = run(capsys, "compile", NB201, "--arch", f"@{f}", "-D", "classes=100",
                         "--input-shape", "3,16,16", "--code")
    assert code == 0, err
    assert "params:  1,294,356" in out
    assert "inputs:  x [3, 16, 16]" in out and "outputs: output [100]" in out
    assert "def forward(self, x):" in out and "self.cell_0_0.edge_0_1.relu_conv_bn(" in out


def test_rnn_cell_lists_both_outputs(capsys):
    code, out, err = run(capsys, "compile", RNN, "--arch", '{"memory": "x_t", "output": "h_prev"}')
    assert code == 0, err
    assert "outputs: c_t [32], output [32]" in out


def test_named_input_shapes(capsys):
    code, out, err = run(capsys, "compile", RNN, "--arch", '{"memory": "x_t", "output": "h_prev"}',
                         "--input-shape", "x_t=16", "--input-shape", "h_prev=16", "--input-shape", "c_prev=16",
                         "--input-shape", "x_prev=16")
    assert code == 0, err
    assert "outputs: c_t [16], output [16]" in out


@pytest.mark.parametrize("argv,message", [
    (["--arch", '{"cell.edge[0->1]": '], "this is not JSON"),
    (["--arch", "[1, 2]"], "JSON object"),
    (["--arch", "@/no/such/arch.json"], "cannot read the architecture file"),
    (["--arch", ARCH[:-1] + ', "cell.edge[0->9]": "none"}'], "'cell.edge[0->9]' is not an active choice"),
    (["--arch", ARCH.replace("skip_connect", "conv_9x9")], "is not in choice"),
    (["--arch", json.dumps({"cell.edge[0->1]": "none"})], "gives no value"),
    (["--arch", ARCH, "--input-shape", "16"], "shape mismatch at 'conv'"),
    (["--arch", ARCH, "--input-shape", "3,a,b"], "comma-separated ints"),
    (["--arch", ARCH, "--input-shape", "3,32,32", "--input-shape", "3,8,8"], "one --input-shape"),
])
def test_bad_input_exits_1_with_a_diagnostic(capsys, argv, message):
    code, out, err = run(capsys, "compile", NB201, *argv)
    assert code == 1
    assert message in err
    assert "Traceback" not in err and "internal error" not in err


def test_shape_mismatch_points_at_the_span(capsys, tmp_path):
    bad = tmp_path / "bad.nas"
    bad.write_text("input x: [3, 8, 8]\nnetwork {\n  return add(x >> conv(4), x)\n}\n")
    code, out, err = run(capsys, "compile", str(bad), "--arch", "{}")
    assert code == 1
    assert f"{bad}:3:" in err and "shape mismatch" in err
    assert "Traceback" not in err


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "compile", str(tmp_path / "none.nas"), "--arch", "{}")
    assert code == 1 and "cannot read" in err and "Traceback" not in err
