"""callbacks=[fn]: called as fn(study, trial) after each recorded trial; StopSearch ends the search cleanly."""
from __future__ import annotations

import pytest

import nasl
from nasl.ir.errors import NaslError
from nasl.study import Study
from nasl.study.callbacks import StopSearch
from tests.study.helpers import NB201


def test_called_after_each_trial_with_what_is_recorded(tmp_path):
    seen = []

    def fn(study, trial):
        # the trial is on disk when the callback runs
        assert trial.number in [t.number for t in study.trials]
        seen.append((trial.number, trial.state, study.counts()["complete"]))

    nasl.search(str(NB201), evaluator="nb201", budget=5, storage=tmp_path / "c.db", callbacks=[fn], progress=False)
    assert seen == [(i, "complete", i + 1) for i in range(5)]


def test_stop_search(tmp_path):
    def stop_at_three(study, trial):
        if study.counts()["complete"] >= 3:
            raise StopSearch

    study = nasl.search(str(NB201), evaluator="nb201", budget=50, storage=tmp_path / "s.db",
                        callbacks=stop_at_three, progress=False)
    assert study.counts()["complete"] == 3
    # resume continues from there
    study = nasl.search(storage=tmp_path / "s.db", resume=True, budget=5, progress=False)
    assert study.counts()["complete"] == 5


def test_a_failing_callback_is_one_line_and_loses_nothing(tmp_path):
    def broken(study, trial):
        if trial.number == 1:
            raise ValueError("boom")

    with pytest.raises(NaslError, match=r"callback .*broken failed after trial 1: ValueError: boom"):
        nasl.search(str(NB201), evaluator="nb201", budget=5, storage=tmp_path / "f.db", callbacks=[broken],
                    progress=False)
    assert Study.load(tmp_path / "f.db").counts()["complete"] == 2
    assert nasl.search(storage=tmp_path / "f.db", resume=True, progress=False).counts()["complete"] == 5


@pytest.mark.parametrize("value", [3, [print, 4]])
def test_bad_callbacks(tmp_path, value):
    with pytest.raises(NaslError, match="callbacks"):
        nasl.search(str(NB201), evaluator="nb201", budget=1, storage=tmp_path / "b.db", callbacks=value)
    assert not (tmp_path / "b.db").exists()
