"""End-to-end CLI workflows of issue 20: multi-objective with a Pareto front, evaluator options, one's own data."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from nasl.cli import main
from nasl.study import Study
from tests.study.helpers import COLUMN, NB201
from tests.study.workflow_helpers import TINY_SPACE, arrays


def _evaluator(db) -> dict:
    with sqlite3.connect(db) as c:
        return json.loads(c.execute("SELECT evaluator FROM study").fetchone()[0])


def test_multi_objective_nb201_with_cost_pareto(tmp_path, capsys):
    db, png = tmp_path / "mo.db", tmp_path / "front.png"
    assert main(["search", str(NB201), "--evaluator", "nb201", "--cost", "params", "--searcher", "nsga2",
                 "-O", "population_size=4", "--budget", "10", "--study", str(db), "--no-progress"]) == 0
    study = Study.load(db)
    assert study.objectives == {COLUMN: "max", "params": "min"}
    front = study.pareto_front()
    assert 1 <= len(front) <= 10
    # the front is exactly the non-dominated points
    points = {(t.metrics[COLUMN], t.metrics["params"]) for t in study.completed()}
    best = {p for p in points if not any(q[0] >= p[0] and q[1] <= p[1] and q != p for q in points)}
    assert {(t.metrics[COLUMN], t.metrics["params"]) for t in front} == best
    study.close()
    capsys.readouterr()
    assert main(["study", "show", str(db), "--pareto"]) == 0
    out = capsys.readouterr().out
    assert f"{len(front)} of 10 complete trials" in out
    assert all(f"\n{t.number} " in out for t in front)
    assert main(["study", "plot", str(db), "--pareto", "-o", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    # resume rebuilds the same evaluator (the cost is recorded)
    assert _evaluator(db)["cost"] == ["params"]
    assert main(["search", "--study", str(db), "--resume", "--budget", "12", "--no-progress"]) == 0
    assert Study.load(db).counts()["complete"] == 12


def test_repeated_objectives_with_directions(tmp_path):
    db = tmp_path / "o.db"
    assert main(["search", str(NB201), "--evaluator", "nb201", "--cost", "params,flops",
                 "--objective", COLUMN, "--objective", "flops:min", "--budget", "3", "--study", str(db),
                 "--no-progress"]) == 0
    study = Study.load(db)
    assert study.objectives == {COLUMN: "max", "flops": "min"}
    assert all("params" in t.metrics for t in study.completed())     # measured, reported, not an objective


@pytest.mark.parametrize("args, message", [
    (["--objective", "x:up"], "--objective takes NAME or NAME:max or NAME:min"),
    (["--cost", "parms"], "unknown cost metric 'parms'"),
    (["-E", "epochs=3"], "the evaluator 'nb201' has no option 'epochs'"),
    (["--objective", "nothere"], "has no objective 'nothere'"),
])
def test_bad_multi_objective_input_is_one_line(tmp_path, capsys, args, message):
    db = tmp_path / "bad.db"
    assert main(["search", str(NB201), "--evaluator", "nb201", "--study", str(db), "--no-progress"] + args) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("error:")
    assert not db.exists()


def test_show_pareto_needs_two_objectives(tmp_path, capsys):
    db = tmp_path / "one.db"
    assert main(["search", str(NB201), "--evaluator", "nb201", "--budget", "2", "--study", str(db),
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["study", "show", str(db), "--pareto"]) == 1
    assert "a Pareto front needs two or more" in capsys.readouterr().err


def test_evaluator_options_recorded_and_rebuilt(tmp_path, capsys):
    space, db = tmp_path / "tiny.nas", tmp_path / "e.db"
    space.write_text(TINY_SPACE)
    assert main(["search", str(space), "-E", "epochs=2", "-E", "optimizer=AdamW", "-E", "lr=0.02",
                 "-E", "batch_size=32", "-E", "weight_decay=0.001", "-E", "schedule=constant",
                 "--budget", "1", "--study", str(db), "--no-progress"]) == 0
    options = _evaluator(db)["options"]
    assert options == {"epochs": 2, "optimizer": "AdamW", "lr": 0.02, "batch_size": 32, "weight_decay": 0.001,
                       "schedule": "constant", "input_shape": [1, 8, 8], "num_classes": 10,
                       "test_fraction": 0.2}
    assert Study.load(db).best().metrics["epochs"] == 2
    # resume rebuilds it: the next trial trains 2 epochs too; a different option is refused
    assert main(["search", "--study", str(db), "--resume", "--budget", "2", "--no-progress"]) == 0
    assert [t.metrics["epochs"] for t in Study.load(db).completed()] == [2, 2]
    capsys.readouterr()
    assert main(["search", "--study", str(db), "--resume", "--budget", "3", "-E", "epochs=3", "--no-progress"]) == 1
    assert "evaluator option epochs=3 differs from the study's 2" in capsys.readouterr().err


def test_bad_optimizer_lists_torchs(tmp_path, capsys):
    assert main(["search", "-E", "optimizer=nosuch", "--study", str(tmp_path / "x.db"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "unknown optimizer 'nosuch'" in err and "rmsprop" in err and "lbfgs" not in err


def test_hyperband_top_budget_is_the_evaluators_epochs(tmp_path):
    space, db = tmp_path / "tiny.nas", tmp_path / "h.db"
    space.write_text(TINY_SPACE)
    assert main(["search", str(space), "--searcher", "hyperband", "-E", "epochs=3", "--budget", "4",
                 "--study", str(db), "--no-progress"]) == 0
    study = Study.load(db)
    assert study.config["searcher_options"] == {"max_budget": 3}
    assert max(t.budget for t in study.trials) == 3


def test_own_npz_data_search_export_reload(tmp_path, capsys):
    import torch
    from nasl.study.model_export import load_model
    data, space, db, out = tmp_path / "mine.npz", tmp_path / "tiny.nas", tmp_path / "own.db", tmp_path / "best.pt"
    np.savez(data, **arrays())
    space.write_text(TINY_SPACE)
    assert main(["search", str(space), "--data", str(data), "-E", "epochs=2", "--budget", "2", "--study", str(db),
                 "--export", str(out), "--no-progress"]) == 0
    recorded = _evaluator(db)["options"]
    assert recorded["input_shape"] == [2, 6, 6] and recorded["num_classes"] == 3
    best = Study.load(db).best()
    assert 0.0 <= best.metrics["test_accuracy"] <= 1.0           # the file's test split, reported
    model = load_model(out)
    assert model(torch.randn(5, 2, 6, 6)).shape == (5, 3)
    assert model.nasl_metrics["val_accuracy"] == best.metrics["val_accuracy"]
    # study export rebuilds the same shape and classes too
    assert main(["study", "export", str(db), "--best", "-o", str(tmp_path / "again.pt")]) == 0
    assert load_model(tmp_path / "again.pt")(torch.randn(1, 2, 6, 6)).shape == (1, 3)


def test_npz_without_validation_is_split(tmp_path):
    a = arrays()
    data, space, db = tmp_path / "nv.npz", tmp_path / "tiny.nas", tmp_path / "nv.db"
    np.savez(data, x_train=a["x_train"], y_train=a["y_train"])
    space.write_text(TINY_SPACE)
    assert main(["search", str(space), "--data", str(data), "-E", "epochs=1", "--budget", "1", "--study", str(db),
                 "--no-progress"]) == 0
    assert "test_accuracy" not in Study.load(db).best().metrics


def test_data_module_needs_naming_again_on_resume(tmp_path, capsys, monkeypatch):
    space, db = tmp_path / "tiny.nas", tmp_path / "m.db"
    space.write_text(TINY_SPACE)
    ref = "tests.study.workflow_helpers:load"
    assert main(["search", str(space), "--data", ref, "-E", "epochs=1", "--budget", "1", "--study", str(db),
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["search", "--study", str(db), "--resume", "--budget", "2", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "asks to import the data module" in err and f"--data {ref}" in err
    assert main(["search", "--study", str(db), "--resume", "--budget", "2", "--data", ref, "--no-progress"]) == 0
    assert main(["search", "--study", str(db), "--resume", "--budget", "3", "--trust", "--no-progress"]) == 0
    assert Study.load(db).counts()["complete"] == 3


@pytest.mark.parametrize("arrays_, message", [
    ({"x_train": np.zeros((4, 1, 2, 2), np.float32)}, "has 'x_train' without 'y_train'"),
    ({"x_train": np.zeros((4, 1, 2, 2)), "y_train": np.zeros(4, np.int64), "x_tset": np.zeros(1)},
     "unknown array 'x_tset'"),
    ({"x_train": np.zeros((10, 1, 2, 2)), "y_train": np.zeros(10) + 0.5}, "labels must be integer class indices"),
])
def test_bad_npz_is_one_line(tmp_path, capsys, arrays_, message):
    data = tmp_path / "bad.npz"
    np.savez(data, **arrays_)
    assert main(["search", "--data", str(data), "--study", str(tmp_path / "b.db"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("ref, message", [
    ("missing.npz", "no data file"),
    ("foo", "neither a .npz file"),
    ("tests.study.workflow_helpers:nothere", "has no data function 'nothere'"),
])
def test_bad_data_reference(tmp_path, capsys, ref, message):
    assert main(["search", "--data", ref, "--study", str(tmp_path / "b.db"), "--no-progress"]) == 1
    assert message in capsys.readouterr().err


def test_api_evaluator_object_on_own_tensors_exports(tmp_path):
    """A TrainEvaluator object on one's own tensors: its shape and classes are recorded, so export fits."""
    import torch
    import nasl
    from nasl.study.model_export import load_model
    from nasl.study.training import TrainEvaluator
    a = {k: torch.as_tensor(v) for k, v in arrays().items()}
    ev = TrainEvaluator((a["x_train"], a["y_train"], a["x_val"], a["y_val"]), epochs=1)
    space = tmp_path / "tiny.nas"
    space.write_text(TINY_SPACE)
    study = nasl.search(str(space), evaluator=ev, budget=1, storage=tmp_path / "api.db", progress=False)
    assert study.config["evaluator"]["options"] == {"input_shape": [2, 6, 6], "num_classes": 3}
    out = study.export_best(tmp_path / "m.pt")
    assert load_model(out)(torch.randn(2, 2, 6, 6)).shape == (2, 3)


def test_cost_objectives_on_the_process_executor_match_inline(tmp_path):
    args = [str(NB201), "--evaluator", "nb201", "--cost", "params", "--budget", "4", "--no-progress"]
    assert main(["search", *args, "--study", str(tmp_path / "i.db")]) == 0
    assert main(["search", *args, "--executor", "process", "--workers", "2", "--study", str(tmp_path / "p.db")]) == 0
    inline, pool = Study.load(tmp_path / "i.db"), Study.load(tmp_path / "p.db")
    assert [(t.arch, t.metrics["params"]) for t in inline.trials] == [(t.arch, t.metrics["params"]) for t in pool.trials]


def test_a_test_set_of_another_shape_is_named(tmp_path, capsys):
    a = arrays()
    a["x_test"] = a["x_test"][:, :1]
    data = tmp_path / "shape.npz"
    np.savez(data, **a)
    assert main(["search", "--data", str(data), "--study", str(tmp_path / "s.db"), "--no-progress"]) == 1
    assert "train inputs (2, 6, 6) and test inputs (1, 6, 6) differ in shape" in capsys.readouterr().err
