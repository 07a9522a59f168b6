"""A study on one's own data (issue 20): the input shape and class count are recorded, so the best trial
exports and reloads as trained; retraining a trial does not write over the search's weights."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import closing

import pytest
import torch

import nasl
from nasl.ir.errors import NaslError
from nasl.study.model_export import load_model
from nasl.study.training import TrainEvaluator, evaluate, weights_path
from tests.study.helpers_train import TINY


def _data():
    """Three classes of 3x6x6 inputs that a conv net separates (the class is the brightest channel)."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (90,), generator=g)
    x = torch.randn(90, 3, 6, 6, generator=g) * 0.3
    x[torch.arange(90), y] += 1.0
    return x[:60], y[:60], x[60:], y[60:]


@pytest.fixture(scope="module")
def own_study(tmp_path_factory):
    path = tmp_path_factory.mktemp("own") / "own.db"
    ev = TrainEvaluator(_data(), epochs=2, batch_size=32)
    study = nasl.search(TINY, evaluator=ev, budget=2, storage=path, progress=False)
    yield study, ev
    study.close()


def test_the_study_records_the_datas_shape_and_classes(own_study):
    study, _ = own_study
    assert study.config["evaluator"]["input_shape"] == [3, 6, 6]
    assert study.config["evaluator"]["num_classes"] == 3
    assert study.model_inputs == ((3, 6, 6), 3)
    reopened = nasl.study.Study.load(study.path)
    assert reopened.model_inputs == ((3, 6, 6), 3)
    reopened.close()


def test_the_best_exports_and_reloads_with_its_accuracy(own_study, tmp_path):
    study, _ = own_study
    best = study.best()
    path = study.export_best(tmp_path / "best.pt")
    model = load_model(path)
    x_tr, y_tr, x_va, y_va = _data()
    assert model(x_va[:2]).shape == (2, 3)
    _, acc = evaluate(model, [(x_va, y_va)])
    assert acc == pytest.approx(best.metrics["val_accuracy"])


@pytest.mark.parametrize("to,name", [("python", "net.py"), ("onnx", "net.onnx")])
def test_the_other_formats_export_too(own_study, tmp_path, to, name):
    pytest.importorskip("onnx") if to == "onnx" else None
    study, _ = own_study
    out = study.export_best(tmp_path / name, to=to)
    assert os.path.getsize(out) > 0


def test_the_cli_exports_it(own_study, tmp_path, capsys):
    from nasl.cli import main
    study, _ = own_study
    assert main(["study", "export", study.path, "--best", "-o", str(tmp_path / "cli.pt")]) == 0
    assert load_model(tmp_path / "cli.pt")(torch.zeros(1, 3, 6, 6)).shape == (1, 3)


def test_resume_with_other_data_is_refused(own_study, tmp_path):
    study, _ = own_study
    x_tr, y_tr, x_va, y_va = _data()
    other = TrainEvaluator((x_tr[:, :2], y_tr, x_va[:, :2], y_va), epochs=1)
    with pytest.raises(NaslError, match=r"input shape \[2, 6, 6\] differs from the study's \[3, 6, 6\]"):
        nasl.search(evaluator=other, storage=study.path, resume=True, budget=3, progress=False)


def test_retraining_keeps_the_searchs_weights(own_study, tmp_path):
    study, ev = own_study
    best = study.best()
    saved = weights_path(study.artifact_dir, best.id)
    before = open(saved, "rb").read()
    longer = TrainEvaluator(ev.data, epochs=3, batch_size=32)
    longer(study.request_for(best))                       # keeps nothing by default
    assert open(saved, "rb").read() == before
    elsewhere = tmp_path / "retrained"
    longer(study.request_for(best, artifact_dir=elsewhere))
    assert os.path.exists(weights_path(elsewhere, best.id))
    assert open(saved, "rb").read() == before
    with pytest.raises(NaslError, match="holds the search's weights"):
        study.request_for(best, artifact_dir=study.artifact_dir)


def test_a_study_that_predates_the_record_says_why_it_cannot_export(own_study, tmp_path):
    study, _ = own_study
    old = tmp_path / "old.db"
    with closing(sqlite3.connect(study.path)) as src, closing(sqlite3.connect(old)) as dst:
        src.backup(dst)                  # the WAL's pages too
    shutil.copytree(study.artifact_dir, str(old) + ".artifacts")
    with closing(sqlite3.connect(old)) as conn, conn:
        record = {"spec": None, "repr": "TrainEvaluator(...)"}          # what such a file holds
        conn.execute("UPDATE study SET evaluator = ?", (json.dumps(record),))
    reopened = nasl.study.Study.load(old)
    with pytest.raises(NaslError, match="records no input shape or class count") as info:
        reopened.export_best(tmp_path / "x.pt")
    assert "\n" not in info.value.message
    reopened.close()


OWN_MODULE = '''
import torch
from nasl.study.training import TrainEvaluator
g = torch.Generator().manual_seed(0)
y = torch.randint(0, 3, (60,), generator=g)
x = torch.randn(60, 3, 6, 6, generator=g) * 0.3
x[torch.arange(60), y] += 1.0
evaluator = TrainEvaluator((x[:40], y[:40], x[40:], y[40:]), epochs=1, batch_size=20)
'''


def test_own_data_through_the_cli_searches_exports_and_reloads(tmp_path, capsys):
    from nasl.cli import main
    (tmp_path / "own_data.py").write_text(OWN_MODULE)
    (tmp_path / "tiny.nas").write_text(TINY)
    out = tmp_path / "best.pt"
    code = main(["search", str(tmp_path / "tiny.nas"), "--evaluator", f"python:{tmp_path / 'own_data.py'}:evaluator",
                 "--budget", "2", "--study", str(tmp_path / "own.db"), "--no-progress", "--export", str(out)])
    assert code == 0, capsys.readouterr().err
    assert load_model(out)(torch.zeros(2, 3, 6, 6)).shape == (2, 3)
    study = nasl.study.Study.load(tmp_path / "own.db")
    assert study.model_inputs == ((3, 6, 6), 3)
    study.close()
