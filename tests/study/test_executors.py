"""The same study, seed and workers give the same trials inline, in processes, on threads and on Ray."""
from __future__ import annotations

import concurrent.futures as cf
import os

import pytest

import nasl
from tests.study.helpers import NB201, OPTIONS, ROOT, TABLE, trial_rows

BUDGET = 40


def run(executor, workers=2, **kw):
    return nasl.search(NB201, evaluator=TABLE, budget=BUDGET, seed=11, searcher_options=OPTIONS,
                       executor=executor, workers=workers, progress=False, **kw)


@pytest.fixture(scope="module")
def inline():
    return trial_rows(run("inline"))


def test_inline_workers_emulate_the_pool_order(inline):
    one = trial_rows(run("inline", workers=1))
    assert len(one) == len(inline) == BUDGET
    assert one[:2] == inline[:2]        # both start with random samples of the same seeds


def test_process_pool_gives_the_inline_trials(inline):
    assert trial_rows(run("process")) == inline


def test_any_executor_gives_the_inline_trials(inline):
    with cf.ThreadPoolExecutor(2) as pool:
        assert trial_rows(run(pool)) == inline


def test_completion_order_mode_still_records_every_trial():
    study = run("process", deterministic=False)
    assert sorted(t.number for t in study.trials) == list(range(BUDGET))
    assert all(t.state == "complete" for t in study.trials)


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_gives_the_inline_trials(inline, ray_cluster):
    assert trial_rows(run("ray", resources={"num_cpus": 1})) == inline


@pytest.mark.slow
def test_ray_fails_hanging_and_killed_trials_alone(ray_cluster):
    study = nasl.search(NB201, evaluator="python:tests.study.helpers:troubled", budget=6, seed=0,
                        searcher_options=OPTIONS, executor="ray", workers=2, timeout=5, progress=False)
    errors = {t.number: t.error for t in study.trials if t.state == "failed"}
    assert errors[1] == "RuntimeError: the GPU caught fire"
    assert errors[3] == "timed out after 5 s"
    assert errors[4].startswith("the Ray task failed")
    assert sorted(errors) == [1, 2, 3, 4]
