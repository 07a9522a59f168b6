"""The nasl command: its subcommands, exit codes and output formats."""
from __future__ import annotations

import json

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
    assert code == 1 and "cannot read 'does/not/exist.nas'" in err


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
        from nasl.ir import oplib
        oplib._REGISTRY.pop("cli_test_block", None)
    code, _, err = run(capsys, "check", "--ops", "no_such_module_xyz", str(space))
    assert code == 1 and "cannot import op module 'no_such_module_xyz'" in err


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
               "4:12: error: shape mismatch at 'add' (add): cannot add tensors of different shapes"),
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
