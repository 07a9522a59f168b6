"""--time-budget / time_budget=: the run stops asking once its wall-clock budget is used; nothing is lost."""
from __future__ import annotations

import time

import pytest

import nasl
from nasl.cli import main
from nasl.ir.errors import NaslError
from nasl.study import Study
from nasl.study.time_budget import parse
from tests.study.helpers import NB201

SLOW = "python:tests.study.helpers:slow_lookup"       # 10 ms a trial


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("30m", 1800), ("1.5h", 5400), ("2h", 7200),
                                           ("1d", 86400), ("0.25", 0.25), ("2H", 7200)])
def test_parse(text, seconds):
    assert parse(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "2 hours", "-1s", "0", "1e999", "nan"])
def test_parse_refuses(text):
    with pytest.raises(NaslError):
        parse(text)


def test_cli_time_budget_stops_the_run_and_resume_continues(tmp_path, capsys):
    db = tmp_path / "t.db"
    start = time.monotonic()
    assert main(["search", str(NB201), "--evaluator", SLOW, "--budget", "100000", "--time-budget", "0.4s",
                 "--study", str(db), "--no-progress"]) == 0
    elapsed = time.monotonic() - start
    c = Study.load(db).counts()
    assert 1 <= c["complete"] < 100000 and c["running"] == 0 and c["failed"] == 0
    assert elapsed < 30
    first = c["complete"]
    # resume with another time budget: more trials, none run twice
    assert main(["search", "--study", str(db), "--resume", "--evaluator", SLOW, "--time-budget", "0.3",
                 "--no-progress"]) == 0
    study = Study.load(db)
    assert study.counts()["complete"] > first
    assert [t.number for t in study.trials] == list(range(len(study.trials)))


def test_api_time_budget_and_note(tmp_path, capsys):
    study = nasl.search(str(NB201), evaluator=SLOW, budget=100000, time_budget=0.3, storage=tmp_path / "a.db",
                        progress=True)
    assert 1 <= study.counts()["complete"] < 100000
    assert "time budget 0.3s used: no new trials" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["soon", "5 minutes", "0s"])
def test_cli_bad_time_budget(tmp_path, capsys, value):
    db = tmp_path / "b.db"
    assert main(["search", str(NB201), "--evaluator", "nb201", f"--time-budget={value}", "--study", str(db),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert ("--time-budget takes a duration" in err or "positive number of seconds" in err) and not db.exists()


def test_api_bad_time_budget(tmp_path):
    with pytest.raises(NaslError, match="time_budget is a positive number of seconds"):
        nasl.search(str(NB201), evaluator="nb201", budget=1, time_budget=0, storage=tmp_path / "c.db")
    assert not (tmp_path / "c.db").exists()
