"""The ``supernet:PATH`` evaluator: ordinary studies (searchers, resume, Pareto fronts) on a trained bank."""
from __future__ import annotations

import os
import pickle

import pytest
import torch

import nasl
from nasl.ir.errors import NaslError
from tests.oneshot.helpers_bank import DIGITS, trained_bank


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def digits():
    return nasl.load(DIGITS)


@pytest.fixture(scope="module")
def checkpoint(digits, tmp_path_factory):
    return trained_bank(digits, steps=20).save(tmp_path_factory.mktemp("sn") / "sn.pt")


OPTIONS = {"population_size": 4, "sample_size": 2}


def test_regularized_evolution_on_a_bank_supernet_completes_and_resumes(digits, checkpoint, tmp_path):
    db = tmp_path / "study.db"
    study = nasl.search(digits, searcher="regularized_evolution", evaluator=f"supernet:{checkpoint}", budget=6,
                        storage=db, seed=1, searcher_options=OPTIONS, progress=False,
                        evaluator_options={"calib_batches": 2})
    assert [t.state for t in study.trials] == ["complete"] * 6
    assert all(0.0 <= t.metrics["val_accuracy"] <= 1.0 for t in study.trials)
    resumed = nasl.search(None, storage=db, resume=True, budget=10, progress=False)
    assert len(resumed.trials) == 10 and all(t.state == "complete" for t in resumed.trials)
    # the recorded evaluator is a spec and plain options: resume rebuilt the same one
    record = resumed.config["evaluator"]
    assert record["spec"] == f"supernet:{checkpoint}" and record["options"]["calib_batches"] == 2
    # the same architecture gets the same score in every trial (fixed batches, weights copied)
    seen = {}
    for t in resumed.trials:
        assert seen.setdefault(t.arch_id, t.metrics["val_accuracy"]) == t.metrics["val_accuracy"]
    # an uninterrupted run of 10 asks and scores the same trials
    whole = nasl.search(digits, searcher="regularized_evolution", evaluator=f"supernet:{checkpoint}", budget=10,
                        storage=tmp_path / "whole.db", seed=1, searcher_options=OPTIONS, progress=False,
                        evaluator_options={"calib_batches": 2})
    assert [(t.arch_id, t.metrics["val_accuracy"]) for t in whole.trials] == \
        [(t.arch_id, t.metrics["val_accuracy"]) for t in resumed.trials]


def test_nsga2_with_params_and_flops_gives_a_pareto_front(digits, checkpoint):
    study = nasl.search(digits, searcher="nsga2", evaluator=f"supernet:{checkpoint}", cost=["params", "flops"],
                        budget=8, seed=0, progress=False, searcher_options={"population_size": 4})
    front = study.pareto_front()
    assert front and all(t.state == "complete" for t in study.trials)
    for t in study.trials:
        c = nasl.cost(digits, t.arch)
        assert (t.metrics["params"], t.metrics["flops"]) == (c.params, c.flops)


def test_random_search_with_weight_sharing(digits, checkpoint):
    # Li & Talwalkar: random architectures scored with the shared weights
    study = nasl.search(digits, searcher="random", evaluator=f"supernet:{checkpoint}", budget=5, seed=0,
                        progress=False, evaluator_options={"inplace": True})
    assert len(study.trials) == 5 and study.best().metrics["val_accuracy"] > 0.1


def test_the_evaluator_pickles_without_the_supernet(digits, checkpoint):
    from nasl.study.evaluators import parse_evaluator
    ev = parse_evaluator(f"supernet:{checkpoint}")
    ev.check_space(digits)
    assert ev._core is not None
    back = pickle.loads(pickle.dumps(ev))
    assert back._core is None and back.path == os.path.abspath(checkpoint)
    assert ev.input_shape == (1, 8, 8) and ev.num_classes == 10


def test_a_bad_checkpoint_stops_the_search_before_any_trial(digits, checkpoint, tmp_path):
    raw = open(checkpoint, "rb").read()
    other = nasl.load(DIGITS, classes=5)
    db = tmp_path / "other.db"
    with pytest.raises(NaslError, match="another space") as e:
        nasl.search(other, searcher="random", evaluator=f"supernet:{checkpoint}", budget=3, storage=db,
                    progress=False)
    assert "\n" not in str(e.value).strip()
    assert not db.exists()                              # refused before the study file is made
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(NaslError, match="cannot be read"):
        nasl.search(digits, searcher="random", evaluator=f"supernet:{junk}", budget=3, progress=False)
    with pytest.raises(NaslError, match="no supernet checkpoint"):
        nasl.search(digits, searcher="random", evaluator=f"supernet:{tmp_path / 'none.pt'}", budget=3,
                    progress=False)
    with pytest.raises(NaslError, match="not 'ofa'"):
        nasl.search(digits, evaluator=f"supernet:{checkpoint}", budget=3, progress=False,
                    evaluator_options={"mode": "ofa"})
    assert open(checkpoint, "rb").read() == raw
