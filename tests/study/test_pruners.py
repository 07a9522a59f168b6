"""Pruners in the study loop: the median rule agrees with Optuna's, pruned trials keep their
state and curve across a resume, and Hyperband works with a pruner."""
from __future__ import annotations

import pickle
import random

import pytest

import nasl
from nasl.ir.errors import NaslError
from nasl.study.protocol import TrialPruned
from nasl.study.pruners import CurvePruner, MedianPruner, make_pruner
from tests.study.curves_helpers import EPOCHS, SPACE, CurveEvaluator
from tests.study.helpers_train import request


def _curve(values):
    return [{"epoch": e + 1, "val_accuracy": v} for e, v in enumerate(values)]


def test_the_median_rule_decides_as_optunas_median_pruner():
    optuna = pytest.importorskip("optuna")
    from optuna.trial import TrialState, create_trial
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = random.Random(0)
    agree = 0
    for case in range(60):
        n = rng.randint(0, 8)
        history = [[rng.random() for _ in range(rng.randint(1, 6))] for _ in range(n)]
        mine = [rng.random() for _ in range(rng.randint(1, 6))]
        direction = rng.choice(["max", "min"])
        study = optuna.create_study(direction="maximize" if direction == "max" else "minimize")
        for h in history:
            study.add_trial(create_trial(state=TrialState.COMPLETE, value=h[-1],
                                         intermediate_values={e + 1: v for e, v in enumerate(h)}))
        trial = create_trial(state=TrialState.RUNNING, intermediate_values={e + 1: v for e, v in enumerate(mine)})
        theirs = optuna.pruners.MedianPruner().prune(study, trial)
        judge = MedianPruner().bind([_curve(h) for h in history], metric="val_accuracy", direction=direction)
        ours = judge is not None and judge(_curve(mine)) is not None
        assert ours == theirs, (history, mine, direction)
        agree += theirs
    assert agree > 5                       # the cases do prune, not only pass


def test_a_judge_raises_trial_pruned_through_the_request_and_pickles():
    judge = MedianPruner(startup_trials=1).bind([_curve([0.5, 0.6])], metric="val_accuracy", direction="max")
    import dataclasses
    req = dataclasses.replace(request(), pruner=judge)
    req = pickle.loads(pickle.dumps(req))       # it travels to process and Ray workers
    req.report(_curve([0.7]))                   # better than the median: goes on
    with pytest.raises(TrialPruned) as e:
        req.report(_curve([0.4, 0.55]))   # its best so far is below the median at epoch 2
    assert "epoch 2" in str(e.value) and len(e.value.curve) == 2


def test_bad_pruner_names_and_options_are_one_line_errors():
    with pytest.raises(NaslError, match="unknown pruner 'mean'"):
        make_pruner("mean")
    with pytest.raises(NaslError, match="delta"):
        make_pruner("curve", {"delta": 2})
    with pytest.raises(NaslError, match="unexpected keyword"):
        make_pruner("median", {"patience": 2})
    with pytest.raises(NaslError, match="need a pruner"):
        nasl.search(SPACE, evaluator=CurveEvaluator(), budget=1, pruner_options={"delta": 0.1}, progress=False)


@pytest.mark.parametrize("pruner", ["median", "curve"])
def test_pruned_trials_are_recorded_with_their_curve_and_stay_pruned_on_resume(tmp_path, pruner):
    path = tmp_path / "s.db"
    ev = CurveEvaluator()
    first = nasl.search(SPACE, searcher="random", evaluator=ev, budget=12, seed=1, storage=path, progress=False,
                        pruner=pruner)
    pruned = [t for t in first.trials if t.state == "pruned"]
    assert pruned, [t.state for t in first.trials]
    for t in pruned:
        assert 1 <= len(t.curve) < EPOCHS and t.error.startswith("pruned at epoch")
    assert ev.epochs_run < 12 * EPOCHS
    before = {t.number: (t.state, t.curve) for t in first.trials}
    # resume with a larger budget and no pruner given: the recorded one is used, nothing earlier runs again
    ev2 = CurveEvaluator()
    again = nasl.search(evaluator=ev2, budget=20, storage=path, resume=True, progress=False)
    assert {t.number: (t.state, t.curve) for t in again.trials if t.number < 12} == before
    assert any(t.state == "pruned" for t in again.trials if t.number >= 12)
    assert ev2.epochs_run < 8 * EPOCHS
    from nasl.study.storage import Storage
    assert Storage(path).meta("pruner")["name"] == pruner


def test_a_pruner_stops_bad_trials_without_losing_the_best():
    ev, plain = CurveEvaluator(), CurveEvaluator()
    pruned = nasl.search(SPACE, searcher="random", evaluator=ev, budget=20, seed=3, progress=False, pruner="curve")
    full = nasl.search(SPACE, searcher="random", evaluator=plain, budget=20, seed=3, progress=False)
    assert pruned.best().metrics["val_accuracy"] == full.best().metrics["val_accuracy"]
    assert ev.epochs_run <= 0.7 * plain.epochs_run


def test_hyperband_works_with_a_pruner(tmp_path):
    ev = CurveEvaluator()
    study = nasl.search(SPACE, searcher="hyperband", evaluator=ev, budget=30, seed=0, progress=False,
                        pruner=MedianPruner(startup_trials=2), searcher_options={"min_budget": 1, "eta": 2},
                        storage=tmp_path / "hb.db")
    states = [t.state for t in study.trials]
    assert "pruned" in states and "complete" in states
    # a pruned trial never goes on to a larger budget: its architecture has no later trial
    for t in study.trials:
        if t.state == "pruned":
            assert not any(u.arch == t.arch and u.number > t.number and (u.budget or 0) > (t.budget or 0)
                           for u in study.trials)
    assert max(t.budget for t in study.trials if t.state == "complete") == EPOCHS
    assert CurvePruner().record() == {"name": "curve", "options": {"delta": 0.05, "min_epochs": 3,
                                                                   "startup_trials": 1, "noise": 0.01,
                                                                   "bounds": [0.0, 1.0]}}
