"""The README's main job: ``nasl search`` with no space file searches the bundled
digits space with the digits training evaluator, then exports the best model."""
from __future__ import annotations

import json
import os

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from nasl.cli import main  # noqa: E402


def test_nasl_search_with_no_file_trains_on_digits_and_exports_the_best(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["search", "--budget", "2", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "study nasl-study.db: 2 complete, 0 failed"
    assert lines[1].startswith("best trial #") and "val_accuracy=" in lines[1]
    arch = json.loads(lines[2].removeprefix("best architecture: "))
    assert set(arch) >= {"width", "depth", "cell.edge[0->1]"}
    assert lines[-1] == "exported the best model to nasl-study-best.pt"
    accuracy = float(lines[1].split("val_accuracy=")[1].split()[0].rstrip(","))   # test_accuracy may follow
    assert 0.0 < accuracy <= 1.0

    from nasl.study.digits import load_digits_split
    from nasl.study.model_export import load_model
    model = load_model("nasl-study-best.pt")
    _, _, x_val, y_val = load_digits_split(seed=0)
    with torch.no_grad():
        got = (model(x_val).argmax(1) == y_val).float().mean().item()
    assert got == pytest.approx(accuracy, abs=1e-6)       # the export reproduces the recorded accuracy
    assert os.path.exists("nasl-study.db")
