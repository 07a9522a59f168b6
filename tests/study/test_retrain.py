"""nasl train (retrain from scratch, over seeds, apart from the search), held-out test accuracy, top-budget best."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nasl.cli import main
from nasl.study import Study
from tests.study.workflow_helpers import TINY_SPACE, arrays


@pytest.fixture()
def own_study(tmp_path):
    data, space, db = tmp_path / "mine.npz", tmp_path / "tiny.nas", tmp_path / "own.db"
    np.savez(data, **arrays())
    space.write_text(TINY_SPACE)
    assert main(["search", str(space), "--data", str(data), "-E", "epochs=1", "--budget", "2", "--study", str(db),
                 "--no-progress"]) == 0
    return db


def test_train_best_over_seeds_keeps_apart_from_the_search(own_study, capsys):
    db = own_study
    study = Study.load(db)
    best = study.best()
    weights = db.parent / "own.db.artifacts" / f"trial_{best.id}.pt"
    before = weights.read_bytes()
    trials_before = [(t.number, t.metrics) for t in study.trials]
    study.close()
    capsys.readouterr()
    assert main(["train", str(db), "--best", "--epochs", "3", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "test_accuracy: " in out and "± " in out and "over 2 seeds, 3 epochs" in out
    # the search's weights and trials are untouched; the runs are recorded beside the study
    assert weights.read_bytes() == before
    assert [(t.number, t.metrics) for t in Study.load(db).trials] == trials_before
    runs = json.loads((db.parent / "own.db.retrain.json").read_text())
    assert [(r["trial"], r["seed"], r["epochs"]) for r in runs] == [(best.number, 0, 3), (best.number, 1, 3)]
    assert all(r["metrics"]["epochs"] == 3 and 0 <= r["metrics"]["test_accuracy"] <= 1 for r in runs)
    assert all(len(r["curve"]) == 3 for r in runs)
    for r in runs:      # weights of each run in their own folder
        assert ".retrain" in r["weights"] and (db.parent / r["weights"]).exists()
    # the reported mean is the mean of the runs
    mean = np.mean([r["metrics"]["test_accuracy"] for r in runs])
    assert f"test_accuracy: {mean:.4f}" in out
    # a second run appends
    assert main(["train", str(db), "--trial", "0"]) == 0
    assert len(json.loads((db.parent / "own.db.retrain.json").read_text())) == 3


def test_train_is_reproducible_per_seed(own_study):
    from nasl.study.retrain import retrain
    study = Study.load(own_study)
    a = retrain(study, study.best(), epochs=1, seeds=1)
    b = study.retrain(epochs=1)                       # the best trial by default
    assert a["runs"][0]["metrics"]["val_accuracy"] == b["runs"][0]["metrics"]["val_accuracy"]


@pytest.mark.parametrize("args, message", [
    (["--trial", "99"], "the study has no trial 99"),
    (["--best", "--seeds", "0"], "--seeds must be an int >= 1"),
    (["--best", "--epochs", "-1"], "--epochs must be a positive number"),
    (["--best", "-E", "optimizer=nosuch"], "unknown optimizer 'nosuch'"),
])
def test_train_bad_input_is_one_line(own_study, capsys, args, message):
    capsys.readouterr()
    assert main(["train", str(own_study)] + args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("error:")


def test_train_refuses_a_table_study(tmp_path, capsys):
    from tests.study.helpers import NB201
    db = tmp_path / "t.db"
    assert main(["search", str(NB201), "--evaluator", "nb201", "--budget", "2", "--study", str(db),
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["train", str(db), "--best"]) == 1
    assert "does not (it is a lookup or a cost measure)" in capsys.readouterr().err


def test_digits_test_split_is_held_out_and_shown(tmp_path, capsys):
    from nasl.study.digits import load_digits_split
    x_tr, y_tr, x_va, y_va, x_te, y_te = load_digits_split(0, 0.2, 0.2)
    assert (len(x_tr), len(x_va), len(x_te)) == (1077, 360, 360)
    # the validation images are those of the two-way split: a test split does not change what search ranks on
    assert bool((load_digits_split(0, 0.2)[2] == x_va).all())
    space, db = tmp_path / "tiny.nas", tmp_path / "d.db"
    space.write_text(TINY_SPACE)
    # the default: no -E test_fraction, and the study records the split it trained on
    assert main(["search", str(space), "-E", "epochs=1", "--budget", "1",
                 "--study", str(db), "--no-progress"]) == 0
    study = Study.load(db)
    assert "test_accuracy" in study.best().metrics
    assert study.config["evaluator"]["options"]["test_fraction"] == 0.2
    study.close()
    capsys.readouterr()
    assert main(["study", "show", str(db)]) == 0
    assert "test_accuracy" in capsys.readouterr().out
    from nasl.study.model_export import load_model
    assert "test_accuracy" in load_model(tmp_path / "d-best.pt").nasl_metrics
    assert main(["train", str(db), "--best", "--epochs", "1"]) == 0
    assert "test_accuracy: " in capsys.readouterr().out


def test_best_ranks_within_the_top_budget(tmp_path):
    from nasl.study.storage import Storage
    store = Storage(tmp_path / "mf.db")
    store.create_study(space_source="network { return x }", space_file="s", params=[], ops=[], searcher="hyperband",
                       searcher_options={}, seed=0, evaluator={"spec": None, "repr": "f"},
                       objectives={"acc": "max"}, budget=3)
    for number, (budget, acc) in enumerate([(1.0, 0.9), (3.0, 0.7), (3.0, 0.8)]):
        tid = store.add_trial(number, json.dumps({"a": number}), f"id{number}", budget, 0, number * 2)
        store.finish_trial(tid, "complete", metrics={"acc": acc}, curve=None, error=None, duration=0.1,
                           worker="w", tell_seq=number * 2 + 1)
    study = Study(store)
    assert study.best().number == 2          # 0.9 was at budget 1 of 3
    assert [t.number for t in study.top()] == [2, 1]


def test_show_and_plot_of_a_multi_fidelity_study(tmp_path, capsys):
    from tests.study.workflow_helpers import TINY_SPACE as SPACE
    space, db = tmp_path / "tiny.nas", tmp_path / "hb.db"
    space.write_text(SPACE)
    assert main(["search", str(space), "--searcher", "hyperband", "-E", "epochs=3", "--budget", "4",
                 "--study", str(db), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["study", "show", str(db)]) == 0
    out = capsys.readouterr().out
    top = Study.load(db).top_budget_trials()
    assert f"ranked at the top budget 3: {len(top)} of 4 complete trials" in out and "budget" in out.splitlines()[4]
    assert main(["study", "plot", str(db), "-o", str(tmp_path / "hb.png")]) == 0
