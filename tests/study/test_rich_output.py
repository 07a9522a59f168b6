"""nasl search and nasl study show: rich tables on a terminal, the plain text when piped or without rich."""
from __future__ import annotations

import builtins
import sys

import pytest

from nasl.cli import main
from nasl.study import rich_output
from tests.study.helpers import NB201


@pytest.fixture()
def terminal(monkeypatch):
    """Make stdout and stderr look like a terminal (pytest captures them into files)."""
    monkeypatch.setattr(rich_output, "_isatty", lambda stream: stream in (sys.stdout, sys.stderr))


def search(tmp_path, capsys, *extra):
    db = tmp_path / "s.db"
    code = main(["search", str(NB201), "--evaluator", "nb201", "--budget", "6", "--study", str(db), "--seed", "2",
                 *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return db, out, err


def test_on_a_terminal_search_and_show_draw_tables(tmp_path, capsys, terminal):
    db, out, err = search(tmp_path, capsys)
    assert "┏" in out or "┌" in out                       # a box-drawn table
    assert "6 complete, 0 failed" in out and "CIFAR10TestAccuracy200Epochs" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith('best architecture: {"cell.edge[0->1]":') and last.endswith('"}')   # whole, uncut
    assert "6/6" in err                                    # rich's progress bar: done of total
    assert main(["study", "show", str(db), "--top", "3"]) == 0
    shown = capsys.readouterr().out
    assert "top 3" in shown and "rank" in shown and "┃" in shown and "best architecture: {" in shown


def test_piped_output_is_the_plain_text(tmp_path, capsys):
    db, out, err = search(tmp_path, capsys)
    lines = out.splitlines()
    assert lines[0] == f"study {db}: 6 complete, 0 failed" and len(lines) == 3
    assert "┃" not in out and "━" not in err
    assert main(["study", "show", str(db)]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[3].split() == ["rank", "trial", "CIFAR10TestAccuracy200Epochs", "seconds", "arch"]


def test_without_rich_a_terminal_gets_the_plain_text(tmp_path, capsys, terminal, monkeypatch):
    real_import = builtins.__import__

    def no_rich(name, *args, **kwargs):
        if name == "rich" or name.startswith("rich."):
            raise ImportError("No module named 'rich'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rich)
    db, out, _ = search(tmp_path, capsys, "--no-progress")
    assert out.splitlines()[0] == f"study {db}: 6 complete, 0 failed"
    assert not rich_output.available()
