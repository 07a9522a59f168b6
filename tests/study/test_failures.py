"""Trials that raise, return NaN, hang or kill their worker fail alone; the study completes."""
from __future__ import annotations

import concurrent.futures as cf
import re

import pytest

import nasl
from tests.study.helpers import NB201, OPTIONS



def run(evaluator, budget=8, **kw):
    return nasl.search(NB201, evaluator=evaluator, budget=budget, seed=0, searcher_options=OPTIONS,
                       progress=False, **kw)


def test_process_pool_fails_only_the_troubled_trials():
    study = run("python:tests.study.helpers:troubled", executor="process", workers=2, timeout=3)
    by_number = {t.number: t for t in study.trials}
    assert len(by_number) == 8
    assert by_number[1].state == "failed" and by_number[1].error == "RuntimeError: the GPU caught fire"
    assert by_number[2].state == "failed" and by_number[2].error == "objective 'CIFAR10TestAccuracy200Epochs' is nan"
    assert by_number[3].state == "failed" and by_number[3].error == "timed out after 3 s"
    assert by_number[4].state == "failed"
    assert by_number[4].error == "the worker process died: killed by SIGKILL"
    assert [t.number for t in study.trials if t.state == "complete"] == [0, 5, 6, 7]
    assert study.counts() == {"running": 0, "complete": 4, "failed": 4, "pruned": 0}


def test_a_worker_that_exits_fails_its_trial_and_is_replaced():
    study = run("python:tests.study.helpers:exits", budget=6, executor="process", workers=2)
    errors = {t.number: t.error for t in study.trials if t.state == "failed"}
    assert errors == {2: "the worker process died (exit code 3)"}
    assert study.counts()["complete"] == 5


def test_inline_trials_fail_with_reasons_and_a_timeout_interrupts_python_code():
    def nan_or_raise(request):
        if request.number == 0:
            return {"acc": float("inf")}
        if request.number == 1:
            return {"other": 1.0}
        if request.number == 2:
            import time
            time.sleep(30)
        if request.number == 3:
            raise ValueError("bad")
        return {"acc": 1.0 + request.number}
    nan_or_raise.directions = {"acc": "max"}
    study = run(nan_or_raise, budget=6, timeout=0.5)
    errors = [t.error for t in study.trials]
    assert errors == ["objective 'acc' is inf", "the evaluator returned no objective 'acc' (it returned ['other'])",
                      "timed out after 0.5 s", "ValueError: bad", None, None]
    assert study.best().metrics == {"acc": 6.0}


def test_a_study_where_every_trial_fails_still_ends():
    def broken(request):
        raise RuntimeError("no")
    broken.directions = {"acc": "max"}
    study = run(broken, budget=5)
    assert study.counts()["failed"] == 5
    with pytest.raises(nasl.NaslError, match="no complete trial"):
        study.best()


def test_a_broken_user_process_pool_fails_the_trial():
    with cf.ProcessPoolExecutor(2) as pool:
        study = run("python:tests.study.helpers:exits", budget=2, executor=pool, workers=1)
        assert study.counts()["complete"] == 2      # trial 2 never runs: budget 2
    with cf.ProcessPoolExecutor(1) as pool:
        with pytest.raises(nasl.NaslError, match="the executor is broken"):
            run("python:tests.study.helpers:exits", budget=5, executor=pool, workers=1)


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_an_evaluator_that_calls_sys_exit_fails_its_trial(tmp_path, executor):
    # inline, SystemExit used to stop nasl silently, and stop every resume again at the same trial
    study = run("python:tests.study.helpers:calls_exit", budget=3, executor=executor, storage=tmp_path / "s.db")
    assert [t.error for t in study.trials] == [None, "SystemExit: the evaluator called sys.exit(3)", None]


def test_a_keyboard_interrupt_raised_in_a_worker_fails_its_trial_with_the_reason():
    reason = "KeyboardInterrupt raised by the evaluator in its worker: the evaluator gave up"
    study = run("python:tests.study.helpers:interrupts", budget=3, executor="process")
    assert [t.error for t in study.trials] == [None, reason, None]
    with cf.ThreadPoolExecutor(1) as pool:
        study = run("python:tests.study.helpers:interrupts", budget=3, executor=pool)
    assert [t.error for t in study.trials] == [None, reason, None]


@pytest.mark.parametrize("options, message", [
    ({"timeout": -1}, "timeout must be a number of seconds above 0 and at most 1e+08, not -1"),
    ({"timeout": float("nan")}, "timeout must be a number of seconds above 0 and at most 1e+08, not nan"),
    ({"timeout": True}, "timeout must be a number of seconds"),
    ({"budget": 2 ** 63}, "budget must be between 1 and 9223372036854775807, not 9223372036854775808"),
    ({"budget": 2.5}, "budget must be a whole number, not 2.5"),
    ({"seed": -2 ** 63 - 1}, "seed must be between -9223372036854775808 and 9223372036854775807"),
    ({"workers": 0}, "workers must be between 1 and 100000, not 0"),
    ({"executor": "threads"}, "unknown executor 'threads'"),
    ({"executor": "ray", "resources": {"num_gpus": -1}}, "Ray resource num_gpus must be a number >= 0, not -1"),
    ({"resources": {"gpus": 1}}, "unknown Ray resources ['gpus']"),
    ({"searcher": "nope"}, "no searcher named 'nope'"),
    ({"searcher_options": {"population_size": -3}}, "cannot create searcher 'regularized_evolution'"),
    ({"executor": "process", "evaluator": "closure"}, "executor='process' needs a picklable evaluator"),
])
def test_a_bad_option_is_refused_before_the_study_file_is_created(tmp_path, options, message):
    options = {"budget": 3, "evaluator": "python:tests.study.helpers:lookup", **options}
    if options["evaluator"] == "closure":
        def local(request):
            return 1.0
        local.directions = {"acc": "max"}
        options["evaluator"] = local
    with pytest.raises(nasl.NaslError, match=re.escape(message)):
        nasl.search(NB201, storage=tmp_path / "s.db", progress=False, **options)
    assert list(tmp_path.iterdir()) == []         # no empty study file left behind
