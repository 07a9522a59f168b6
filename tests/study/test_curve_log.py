"""--log-dir: per-trial curves to CSV, a trials.csv, and TensorBoard event files when installed."""
from __future__ import annotations

import csv

import pytest

import nasl
from nasl.cli import main
from nasl.study import Study
from nasl.study.curve_log import CurveLog
from tests.study.helpers import COLUMN, NB201
from tests.study.workflow_helpers import TINY_SPACE


def test_cli_log_dir_writes_curves(tmp_path):
    space, db, logs = tmp_path / "tiny.nas", tmp_path / "l.db", tmp_path / "logs"
    space.write_text(TINY_SPACE)
    assert main(["search", str(space), "-E", "epochs=2", "--budget", "2", "--study", str(db), "--log-dir", str(logs),
                 "--no-progress"]) == 0
    study = Study.load(db)
    for t in study.trials:
        rows = list(csv.DictReader((logs / f"trial_{t.number}.csv").open()))
        assert [float(r["val_accuracy"]) for r in rows] == [row["val_accuracy"] for row in t.curve]
        assert [float(r["epoch"]) for r in rows] == [1, 2]
    summary = list(csv.DictReader((logs / "trials.csv").open()))
    assert [int(r["number"]) for r in summary] == [0, 1]
    assert [float(r["val_accuracy"]) for r in summary] == [t.metrics["val_accuracy"] for t in study.trials]


def test_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    logs = tmp_path / "tb"
    nasl.search(str(NB201), evaluator="nb201", budget=4, storage=tmp_path / "t.db", log_dir=logs, progress=False)
    acc = EventAccumulator(str(logs / "tensorboard" / "study"))
    acc.Reload()
    values = [e.value for e in acc.Scalars(COLUMN)]
    best = [e.value for e in acc.Scalars(f"best_{COLUMN}")]
    assert len(values) == 4 and best == [max(values[:i + 1]) for i in range(4)]
    assert not any(logs.glob("trial_*.csv"))          # a table lookup has no curve


def test_tensorboard_required_but_missing(tmp_path, monkeypatch):
    import nasl.study.curve_log as curve_log
    monkeypatch.setattr(curve_log, "_tensorboard", lambda: None)
    with pytest.raises(nasl.NaslError, match="pip install tensorboard"):
        CurveLog(tmp_path / "x", tensorboard=True)
    CurveLog(tmp_path / "y")                          # auto: the CSVs alone


def test_unwritable_log_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(nasl.NaslError, match="cannot create the log folder"):
        nasl.search(str(NB201), evaluator="nb201", budget=1, storage=tmp_path / "u.db", log_dir=blocker / "sub")
    assert not (tmp_path / "u.db").exists()
