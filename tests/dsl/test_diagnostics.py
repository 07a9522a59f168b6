"""Golden diagnostics: ``nasl check`` on each ``diagnostics/*.nas`` prints exactly its ``.expected``.

The file is checked from the repository root under its relative path, so
the expected text names it as ``tests/dsl/diagnostics/NAME.nas``. A first
line ``# args: ...`` gives extra command-line arguments (e.g. ``-D C=1``).
Run with ``NASL_UPDATE_GOLDEN=1`` to rewrite the ``.expected`` files after a
deliberate change to a message, then review the diff.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from nasl.cli import main
from tests.conftest import ROOT

DIR = ROOT / "tests" / "dsl" / "diagnostics"
CASES = sorted(DIR.glob("*.nas"))
UPDATE = os.environ.get("NASL_UPDATE_GOLDEN") == "1"


def cli_args(case) -> list[str]:
    first = case.read_text(encoding="utf-8").split("\n", 1)[0]
    extra = shlex.split(first[len("# args:"):]) if first.startswith("# args:") else []
    return ["check", *extra, case.relative_to(ROOT).as_posix()]


def test_there_are_cases():
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_diagnostic(case, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(cli_args(case))
    out, err = capsys.readouterr()
    expected = case.with_suffix(".expected")
    if UPDATE:
        expected.write_text(err, encoding="utf-8")
    assert expected.exists(), f"no {expected.name}; run with NASL_UPDATE_GOLDEN=1 to create it"
    assert code == 1, f"expected an error, got exit {code}"
    assert out == ""
    assert err == expected.read_text(encoding="utf-8")


def test_expected_files_have_a_case():
    stray = [p.name for p in DIR.glob("*.expected") if not p.with_suffix(".nas").exists()]
    assert not stray


def test_golden_through_a_real_process():
    """The same text from the installed command line, not only from main()."""
    case = DIR / "several_errors.nas"
    r = subprocess.run([sys.executable, "-m", "nasl.cli", *cli_args(case)], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr == case.with_suffix(".expected").read_text(encoding="utf-8")


# file starts, and files too big to report on in full -----------------------------------------------------------

import nasl  # noqa: E402
from nasl.ir import errors as errors_module  # noqa: E402


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty: a space needs a network"),
    ("# only a comment\n\n", "the file is empty: a space needs a network"),
    ("param C = 16\nlet a = choice(1, 2)\n", "the file declares no 'network': a space needs a network"),
])
def test_a_file_without_a_network_is_an_error_at_its_start(text, message):
    # each used to be a space of one empty architecture that compiled to an empty model
    with pytest.raises(nasl.NaslError) as info:
        nasl.loads(text, "f.nas")
    assert info.value.message == message and (info.value.span.line, info.value.span.col) == (1, 1)


def test_a_byte_order_mark_is_skipped(tmp_path):
    f = tmp_path / "bom.nas"
    f.write_text("\ufeffinput x: [3, 8, 8]\nnetwork { return x >> choice(relu, identity) }\n", encoding="utf-8")
    assert nasl.load(f).size() == 2
    with pytest.raises(nasl.NaslError, match="unknown name 'rleu'") as info:     # columns as without it
        nasl.loads("\ufeffinput x: [3]\nnetwork { return x >> rleu }", "b.nas")
    assert (info.value.span.line, info.value.span.col) == (2, 23)


def _typos(n):
    """n globals and n references that misspell them: ``let b7 = alpah7``."""
    return "input x: [3, 8, 8]\n" + "".join(f"let alpha{i} = 1\nlet b{i} = alpah{i}\n" for i in range(n)) + \
        "network { return x >> relu }\n"


def test_many_unknown_names_show_the_first_hundred_and_a_count(capsys, tmp_path):
    f = tmp_path / "typos.nas"
    f.write_text(_typos(1500))
    assert main(["check", str(f)]) == 1
    err = capsys.readouterr().err
    assert err.count(": error: unknown name") == errors_module.MAX_SHOWN == 100
    assert err.endswith("\n... and 1,400 more errors\n1,500 errors\n")
    # over 1,000 candidates the hint comes from a shortlist, and is still the right one
    assert "unknown name 'alpah99'" in err and "did you mean 'alpha99'?" in err


def test_hints_are_computed_only_for_the_errors_shown(monkeypatch):
    # every hint compared the name with every global: 20,000 typos took 125 s, quadratic in the file
    calls = []
    real = errors_module.did_you_mean
    monkeypatch.setattr(errors_module, "did_you_mean", lambda name, cands: calls.append(name) or real(name, cands))
    with pytest.raises(nasl.NaslErrors) as info:
        nasl.loads(_typos(300), "t.nas")
    assert len(info.value.errors) == 300 and calls == []
    text = info.value.render()
    assert len(calls) == 100 and "did you mean 'alpha0'?" in text and "... and 200 more errors" in text


def test_a_space_with_too_many_choice_points_is_refused(monkeypatch):
    from nasl.dsl import choice_forms
    monkeypatch.setattr(choice_forms, "MAX_CHOICES", 50)
    body = "input x: [3]\nnetwork {{ h = x\n repeat {} {{ h = h >> choice(relu, identity) }}\n return h }}"
    assert nasl.loads(body.format(50)).size() == 2 ** 50
    with pytest.raises(nasl.NaslError, match="the space has more than 50 choice points") as info:
        nasl.loads(body.format(51), "c.nas")
    assert info.value.span.line == 3


def test_errors_with_lazy_hints_cross_a_process_boundary():
    # a process-pool worker sends its error back pickled; a lazy hint is a closure, which cannot be
    import pickle
    with pytest.raises(nasl.NaslErrors) as info:
        nasl.loads("input x: [3]\nnetwork { return x >> rleu >> zzz }", "p.nas")
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is nasl.NaslErrors and back.render() == info.value.render()
    one = pickle.loads(pickle.dumps(info.value.errors[0]))
    assert type(one).__name__ == "NaslNameError" and one.hint == "did you mean 'relu'?"
