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
