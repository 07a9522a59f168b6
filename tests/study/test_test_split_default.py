"""The digits evaluator holds out a test set by default (issue 20), and a study recorded before that
default (no ``test_fraction`` in its evaluator record) resumes on the data its trials trained on."""
from __future__ import annotations

import json
import sqlite3

import pytest

import nasl
from nasl.study import evaluator_config
from nasl.study.training import TrainEvaluator
from tests.study.workflow_helpers import TINY_SPACE, arrays


def test_the_default_split_holds_out_a_test_set_for_digits_only():
    assert TrainEvaluator().test_fraction == 0.2
    assert TrainEvaluator(test_fraction=0).test_fraction == 0
    import torch
    own = tuple(torch.tensor(a) for a in arrays().values())
    assert TrainEvaluator(own).test_fraction == 0.0       # one's own data brings its own test set
    ev = evaluator_config.build("digits", {"epochs": 1})
    assert evaluator_config.record(ev)["options"]["test_fraction"] == 0.2


def test_an_old_digits_record_is_rebuilt_without_a_test_set():
    old = {"spec": "digits", "repr": "TrainEvaluator(...)", "options": {"epochs": 1, "input_shape": [1, 8, 8],
                                                                         "num_classes": 10}}
    assert evaluator_config.rebuild(old).test_fraction == 0.0
    assert evaluator_config.rebuild({"spec": "digits", "repr": "r"}).test_fraction == 0.0
    new = dict(old, options=dict(old["options"], test_fraction=0.2))
    assert evaluator_config.rebuild(new).test_fraction == 0.2
    # an override still wins (nasl train -E test_fraction=0.2 on an old study)
    assert evaluator_config.rebuild(old, {"test_fraction": 0.2}).test_fraction == 0.2


def _untimed(d):
    return {k: v for k, v in d.items() if "seconds" not in k}


def _rows(study):
    """Each trial's results without its timings."""
    return [(t.number, t.arch, t.state, _untimed(t.metrics), [_untimed(c) for c in t.curve]) for t in study.trials]


def _strip_test_fraction(db):
    """Make ``db`` look like a study recorded before the default: no test_fraction in its record."""
    with sqlite3.connect(db) as c:
        record = json.loads(c.execute("SELECT evaluator FROM study").fetchone()[0])
        del record["options"]["test_fraction"]
        c.execute("UPDATE study SET evaluator = ?", (json.dumps(record),))


def test_a_study_recorded_before_the_default_resumes_on_the_same_data(tmp_path):
    kw = dict(space=TINY_SPACE, evaluator="digits", evaluator_options={"epochs": 0.25}, progress=False,
              searcher="random")
    whole = nasl.search(budget=3, storage=tmp_path / "whole.db", **{**kw, "evaluator_options": {
        "epochs": 0.25, "test_fraction": 0}})
    db = tmp_path / "old.db"
    nasl.search(budget=2, storage=db, **{**kw, "evaluator_options": {"epochs": 0.25, "test_fraction": 0}}).close()
    _strip_test_fraction(db)
    resumed = nasl.search(None, storage=db, resume=True, budget=3, progress=False)
    assert "test_fraction" not in resumed.config["evaluator"]["options"]
    assert _rows(resumed) == _rows(whole)                  # bit-exact: same training images, same results
    assert all("test_accuracy" not in t.metrics for t in resumed.trials)
    # and the data matter: under the new default the same first trial trains on other images
    default = nasl.search(budget=1, storage=tmp_path / "new.db", **kw)
    assert default.trials[0].arch == whole.trials[0].arch
    assert default.trials[0].metrics["train_loss"] != whole.trials[0].metrics["train_loss"]
    # the options given on resume are checked against what the old record means
    resumed.close()
    nasl.search(None, storage=db, resume=True, budget=3, evaluator_options={"test_fraction": 0}, progress=False)
    with pytest.raises(nasl.NaslError, match="test_fraction=0.2 differs from the study's 0.0"):
        nasl.search(None, storage=db, resume=True, budget=4, evaluator_options={"test_fraction": 0.2},
                    progress=False)


def test_a_new_default_study_records_and_reports_test_accuracy(tmp_path):
    study = nasl.search(TINY_SPACE, budget=1, evaluator_options={"epochs": 0.25}, storage=tmp_path / "s.db",
                        progress=False)
    assert study.config["evaluator"]["options"]["test_fraction"] == 0.2
    assert "test_accuracy" in study.best().metrics
    summary = study.retrain(epochs=0.25)
    assert "test_accuracy" in summary["mean"]
