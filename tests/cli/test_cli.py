"""The nasl command: its subcommands, exit codes and output formats."""
from __future__ import annotations

import json
import os
import sys

import pytest

from nasl import Architecture
from nasl.cli import main
from tests.conftest import example

NB201 = str(example("nas_bench_201.nas"))
NB101 = str(example("nas_bench_101.nas"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_ok_and_errors(capsys, tmp_path):
    assert run(capsys, "check", NB201, NB101)[0] == 0
    bad = tmp_path / "bad.nas"
    bad.write_text("network {\n  return x >> sep_cov(3)\n}\n")
    code, out, err = run(capsys, "check", NB201, str(bad))
    assert code == 1
    assert f"{bad}:2:10: error: unknown name 'x'" in err
    assert "did you mean 'sep_conv'?" in err
    assert "Traceback" not in err


def test_show_prints_tree_and_size(capsys):
    code, out, _ = run(capsys, "show", NB201)
    assert code == 0
    assert "size: 15,625" in out
    assert "cell.edge[0->1]: choice(none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)" in out
    code, out, _ = run(capsys, "show", NB201, "--json")
    data = json.loads(out)
    assert data["params"] == {"C": 16, "N": 5, "classes": 10}
    assert len(data["choices"]) == 6


def test_count_and_unique(capsys):
    assert run(capsys, "count", NB201)[1].strip() == "15625"
    assert run(capsys, "count", NB201, "--unique", "expression")[1].strip() == "6466"
    assert run(capsys, "count", NB101, "-D", "V=5", "--unique", "graph")[1].strip() == "2532"


def test_sample_json_lines(capsys):
    code, out, _ = run(capsys, "sample", NB201, "-n", "5", "--seed", "3")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 5
    archs = [Architecture.from_json(line) for line in lines]
    assert run(capsys, "sample", NB201, "-n", "5", "--seed", "3")[1] == out
    assert all(len(a) == 6 for a in archs)


def test_defines_override_params(capsys, tmp_path):
    code, out, _ = run(capsys, "count", NB101, "-D", "V=4", "-D", "max_edges=2")
    assert code == 0 and int(out) > 0
    code, _, err = run(capsys, "count", NB101, "-D", "W=4")
    assert code == 1 and "the space has no parameter 'W'" in err and "its parameters are: V, max_edges" in err
    code, _, err = run(capsys, "count", NB101, "-D", "max_edge=4")
    assert code == 1 and "did you mean 'max_edges'?" in err


def test_list_ops(capsys):
    code, out, _ = run(capsys, "list", "ops", "sep*")
    assert code == 0
    assert out.startswith("sep_conv(c, k=3, stride=1)")


def test_missing_file(capsys):
    code, _, err = run(capsys, "count", "does/not/exist.nas")
    assert code == 1 and "cannot read the space file 'does/not/exist.nas'" in err


def test_internal_errors_are_reported_as_such(capsys, monkeypatch):
    import nasl
    monkeypatch.setattr(nasl, "load", lambda *a, **k: (_ for _ in ()).throw(KeyError("boom")))
    code, _, err = run(capsys, "count", NB201)
    assert code == 3
    assert "internal error, please report" in err and "Traceback" not in err
    code, _, err = run(capsys, "count", NB201, "--traceback")
    assert code == 3 and "Traceback" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["count"])
    assert e.value.code == 2


def test_user_ops_come_from_a_named_module(capsys, tmp_path):
    mod = tmp_path / "my_ops_for_cli_test.py"
    mod.write_text("import nasl\nnasl.register_op('cli_test_block', ('c',), doc='from a user module')\n")
    space = tmp_path / "s.nas"
    space.write_text("input x: [3, 8, 8]\nnetwork { return x >> cli_test_block(4) }\n")
    try:
        # without the module the op is unknown; with it, the space checks
        assert run(capsys, "check", str(space))[0] == 1
        assert run(capsys, "check", "--ops", str(mod), str(space))[0] == 0
        code, out, _ = run(capsys, "list", "ops", "cli_test*", "--ops", str(mod))
        assert "cli_test_block(c)  # from a user module" in out
    finally:
        from nasl.ir.oplib import OPS
        OPS.unregister("cli_test_block")
    code, _, err = run(capsys, "check", "--ops", "no_such_module_xyz", str(space))
    assert code == 1 and "cannot import op module 'no_such_module_xyz'" in err


def test_an_op_module_file_runs_once_however_often_it_is_named(capsys, tmp_path, monkeypatch, isolated_ops):
    # `nasl search --ops F` imported F, then the study's space imported it again: its torch_op
    # registered a second builder and the search stopped with "already has a PyTorch builder"
    pytest.importorskip("torch")
    mod = tmp_path / "twice_ops_for_cli_test.py"
    mod.write_text("import torch, nasl\nfrom nasl.compiler import torch_op\n"
                   "nasl.register_op('cli_twice', ())\n"
                   "class Twice(torch.nn.Module):\n    def forward(self, x):\n        return x * 2\n"
                   "@torch_op('cli_twice')\ndef build(params, in_shapes):\n    return Twice(), in_shapes[0]\n"
                   "def score(request):\n    return 1.0\n")
    space = tmp_path / "s.nas"
    space.write_text("input x: [1, 8, 8]\nnetwork { return x >> conv(choice(2, 4) as w) >> cli_twice >> "
                     "global_avg_pool >> linear(3) }\n")
    code, out, err = run(capsys, "search", str(space), "--ops", str(mod), "--evaluator", f"python:{mod}:score",
                         "--budget", "2",
                         "--study", str(tmp_path / "s.db"), "--no-progress")
    assert code == 0 and "2 complete" in out, err
    # the module is importable by name now, so the standalone export finds its classes' source
    code, _, err = run(capsys, "export", str(space), "--ops", str(mod), "--arch", '{"w": 2}', "--to", "python",
                       "-o", str(tmp_path / "net.py"))
    assert code == 0, err
    assert "class Twice" in (tmp_path / "net.py").read_text()


# big and hostile inputs ----------------------------------------------------------------------------------------

def _wide_space(tmp_path, n=500):
    # n choices of 10^9 values each: a size of 9n+1 digits, past Python's 4,300-digit str() limit
    f = tmp_path / "wide.nas"
    f.write_text(f"input x: [3, 8, 8]\nnetwork {{\n  h = x\n  repeat {n} {{ h = h >> conv(int_range(1, 1000000000)) }}\n"
                 f"  return h\n}}\n")
    return f


def test_show_and_count_print_an_exact_size_of_any_length(capsys, tmp_path):
    f = _wide_space(tmp_path)
    code, out, err = run(capsys, "count", str(f))
    assert code == 0 and err == ""
    assert out.strip() == "1" + "0" * 4500                       # exactly (10^9)^500
    code, out, _ = run(capsys, "show", str(f))
    assert code == 0 and "size: 1," + ",".join(["000"] * 1500) + "\n" in out


def test_files_are_read_up_to_a_cap(capsys):
    from nasl.ir.reading import MAX_JSON_BYTES, MAX_SOURCE_BYTES
    code, _, err = run(capsys, "check", "/dev/zero")             # read whole, this took 8 GB
    assert code == 1 and err.strip() == f"error: the space file '/dev/zero' is larger than " \
                                        f"{MAX_SOURCE_BYTES // 2 ** 20} MiB, the most nasl reads"
    code, _, err = run(capsys, "compile", NB201, "--arch", "@/dev/zero")
    assert code == 1 and err.strip() == f"error: the architecture file '/dev/zero' is larger than " \
                                        f"{MAX_JSON_BYTES // 2 ** 20} MiB, the most nasl reads"


@pytest.mark.parametrize("fmt", ["arch", "nb201"])
@pytest.mark.parametrize("value, message", [
    ("[" * 100_000 + "]" * 100_000, "is nested too deeply to read"),
    ('{"cell.edge[0->1]": ' + "9" * 5001 + "}", "holds a number with more than 4,300 digits (value has 5001 digits)"),
], ids=["nested", "long-number"])
def test_arch_json_beyond_pythons_limits_is_a_user_error(capsys, tmp_path, fmt, value, message):
    f = tmp_path / "arch.json"
    f.write_text(value)
    for arg in (value, f"@{f}"):
        code, _, err = run(capsys, "compile", NB201, "--arch", arg, "--arch-format", fmt)
        assert code == 1 and message in err and len(err.splitlines()) == 1, err


def test_a_define_past_the_digit_limit_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["count", NB201, "-D", "C=1" + "0" * 5000])
    assert info.value.code == 2
    assert "the value of 'C' is too large or too deeply nested" in capsys.readouterr().err


def test_arch_files_may_start_with_a_byte_order_mark(capsys, tmp_path):
    f = tmp_path / "arch.json"
    f.write_text("\ufeff" + nasl_space().sample(0).to_json(), encoding="utf-8")
    assert run(capsys, "compile", NB201, "--arch", f"@{f}")[0] == 0


def nasl_space():
    import nasl
    return nasl.load(NB201)


class _StopAfter:
    """A stdout that takes a few lines and then acts like a closed pipe (`nasl sample ... | head -3`)."""

    def __init__(self, lines):
        self.lines, self.left = [], lines

    def write(self, text):
        if self.left == 0:
            raise BrokenPipeError
        self.left -= 1
        self.lines.append(text)

    def flush(self):
        pass


def test_sample_streams_its_output(monkeypatch):
    # building the list first took 3 GB and minutes before printing anything for -n 100000000
    import sys
    import time
    out = _StopAfter(3)
    monkeypatch.setattr(sys, "stdout", out)
    start = time.perf_counter()
    assert main(["sample", NB201, "-n", "100000000", "--seed", "5"]) == 0
    assert time.perf_counter() - start < 5
    assert [Architecture.from_json(line) for line in out.lines] == nasl_space().sample(5, n=3)


CHECK_CASES = {
    # unbounded recursion under a choice: the static passes see a base case that never comes
    "recursion": ("def f(c)(x) {\n    y = x\n    if boolean() as deeper { y = f(c)(x >> conv(c)) }\n    return y\n}\n"
                  "network { return f(4)(x) }\n", "4:34: error: 'f' recurses too deeply"),
    # a constraint that can never hold
    "never": ("network {\n    a = choice(1, 2)\n    require a > 5\n    return x >> conv(4)\n}\n",
              "4:5: error: no architecture satisfies 'require a > 5'"),
    # a wrong number of inputs to a cell, in a lazily expanded recursion
    "inputs": ("def cell(c)(a, b) { return add(a >> conv(c), b >> conv(c)) }\n"
               "def f(c, d)(x) {\n    y = x\n    if d > 0 { if boolean() as deeper { y = f(c, d - 1)(x >> conv(c)) } }\n"
               "    if d == 0 { y = cell(c)(y) }\n    return y\n}\nnetwork { return f(4, 3)(x) }\n",
               "6:21: error: 'cell' takes 2 input(s) (a, b), got 1"),
    # shapes that do not fit in the realized architecture
    "shapes": ("network {\n    a = choice(4, 8)\n    return add(x >> conv(a), x >> conv(16))\n}\n",
               "4:35: error: shape mismatch at 'add' (add): cannot add tensors of different shapes"),
}


@pytest.mark.parametrize("case", sorted(CHECK_CASES))
def test_check_realizes_one_architecture_unless_fast(capsys, tmp_path, case):
    source, want = CHECK_CASES[case]
    f = tmp_path / f"{case}.nas"
    f.write_text("input x: [3, 8, 8]\n" + source)
    code, _, err = run(capsys, "check", str(f))
    assert code == 1 and f"{f}:{want}" in err, err
    assert "^" in err                                              # the source line, with a caret
    assert "Traceback" not in err and "internal error" not in err
    assert run(capsys, "check", "--fast", str(f))[0] == 0        # the static passes alone let it through


def test_check_keeps_every_example_valid_and_torch_free(capsys):
    import glob
    import subprocess
    import sys
    files = sorted(glob.glob(str(example("*.nas")))) + sorted(glob.glob("nasl/spaces/*.nas"))
    assert run(capsys, "check", *files)[0] == 0
    code = ("import sys\nfrom nasl.cli import main\n"
            f"assert main(['check', {str(example('rnn_cell.nas'))!r}, {NB201!r}]) == 0\n"
            "assert 'torch' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_count_and_sample_rare_constraints_exactly(capsys, tmp_path):
    f = tmp_path / "rare.nas"
    f.write_text("input x: [3, 8, 8]\nnetwork {\n    a = int_range(1, 1000000)\n    b = int_range(1, 1000000)\n"
                 "    require a == 777 and b == 333\n    return x >> conv(4)\n}\n")
    assert run(capsys, "count", str(f))[1] == "1\n"
    assert run(capsys, "sample", str(f), "-n", "2")[1] == '{"a":777,"b":333}\n' * 2
    g = tmp_path / "none.nas"
    g.write_text("input x: [3, 8, 8]\nnetwork {\n    a = int_range(1, 1000)\n    b = int_range(1, 1000)\n"
                 "    c = int_range(1, 1000)\n    require a + b + c == 5000\n    return x >> conv(4)\n}\n")
    assert run(capsys, "count", str(g))[1] == "0\n"
    code, _, err = run(capsys, "sample", str(g))
    assert code == 1
    assert err.startswith(f"{g}:6:5: error: no architecture satisfies 'require a + b + c == 5000': it holds for "
                          f"none of the 1,000,000,000 combinations of a, b, c (counted exactly)\n")


def test_ops_by_name_finds_a_module_in_the_current_folder(capsys, tmp_path, monkeypatch, isolated_ops):
    # the nasl script's sys.path starts at its bin folder, so `--ops my_ops` beside the space was not found
    from nasl.ir import oplib
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", os.getcwd(), str(tmp_path))])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here_ops_for_cli_test.py").write_text("import nasl\nnasl.register_op('here_block', ('c',))\n")
    (tmp_path / "s.nas").write_text("input x: [1, 8, 8]\nnetwork { return x >> here_block(4) }\n")
    monkeypatch.delitem(sys.modules, "here_ops_for_cli_test", raising=False)
    code, _, err = run(capsys, "check", "--ops", "here_ops_for_cli_test", "s.nas")
    assert code == 0, err
    assert oplib.get_op("here_block") is not None
    code, _, err = run(capsys, "check", "--ops", "here_ops_missing_xyz", "s.nas")
    assert code == 1 and "cannot import op module 'here_ops_missing_xyz'" in err
