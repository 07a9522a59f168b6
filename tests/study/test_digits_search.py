"""The README's main job, small: search the bundled digits space with the training evaluator,
then export the best model, reload it, and get its validation accuracy back."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import nasl  # noqa: E402
from nasl.study import default_space_path  # noqa: E402


@pytest.mark.slow
def test_digits_search_improves_and_exports_a_model_that_reproduces_its_accuracy(tmp_path):
    from nasl.study.digits import load_digits_split
    from nasl.study.model_export import load_model
    from nasl.study.training import TrainEvaluator
    ev = TrainEvaluator(epochs=1, threads=1)
    study = nasl.search(default_space_path(), searcher="random", evaluator=ev, budget=4, seed=0,
                        storage=tmp_path / "digits.db", progress=False)
    accs = [t.metrics["val_accuracy"] for t in study.trials]
    assert all(t.state == "complete" for t in study.trials)
    assert len(study.trials[0].curve) == 1                     # one epoch, one point of the curve
    best = study.best()
    assert best.metrics["val_accuracy"] == max(accs) > accs[0]  # later trials beat the first
    path = study.export_best(tmp_path / "best.pt")
    model = load_model(path)
    assert model.nasl_arch == dict(best.arch)
    split = load_digits_split(seed=0, val_fraction=0.2)
    x_val, y_val = split[2], split[3]
    with torch.no_grad():
        acc = (model(x_val).argmax(1) == y_val).float().mean().item()
    assert acc == pytest.approx(best.metrics["val_accuracy"], abs=1e-6)
