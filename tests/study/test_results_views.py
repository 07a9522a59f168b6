"""Looking at results: Study.dataframe(), nasl study export-csv, show --trial, compare."""
from __future__ import annotations

import csv
import re

import pytest

import nasl
from nasl.cli import main
from nasl.ir.errors import NaslError
from nasl.study import Study
from tests.study.helpers import COLUMN, NB201


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views")
    paths = []
    for seed in (0, 1):
        path = folder / f"s{seed}.db"
        nasl.search(str(NB201), evaluator="nb201", cost=["params"], budget=6, seed=seed, storage=path,
                    progress=False)
        paths.append(path)
    return paths


def test_dataframe_and_csv_are_the_same_table(studies, tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    study = Study.load(studies[0])
    df = study.dataframe()
    assert list(df["number"]) == list(range(6)) and set(df["state"]) == {"complete"}
    assert list(df.columns[:5]) == ["number", "state", "budget", COLUMN, "params"]
    assert "arch.cell.edge[0->1]" in df.columns
    t = study.trials[3]
    assert df.loc[3, COLUMN] == t.metrics[COLUMN] and df.loc[3, "arch_id"] == t.arch_id
    assert df.loc[3, "arch.cell.edge[0->1]"] == t.arch.canonical()["cell.edge[0->1]"]
    out = tmp_path / "t.csv"
    assert main(["study", "export-csv", str(studies[0]), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == list(df.columns)
    assert [float(r[COLUMN]) for r in rows] == list(df[COLUMN])
    back = pd.read_csv(out)
    assert list(back["arch_id"]) == list(df["arch_id"])


def test_dataframe_without_pandas_is_missing_dependency(studies, monkeypatch):
    import sys
    from nasl.ir.optional import MissingDependency
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependency, match="pip install pandas"):
        Study.load(studies[0]).dataframe()


def test_show_trial(studies, capsys):
    study = Study.load(studies[0])
    t = study.trials[2]
    capsys.readouterr()
    assert main(["study", "show", str(studies[0]), "--trial", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"trial #2 ({t.arch_id}): complete")
    assert re.search(rf"{COLUMN} +{t.metrics[COLUMN]:.6g}  \(max, objective\)", out)
    assert f"model: {int(t.metrics['params']):,} params" in out and "FLOPs (batch 1)" in out
    for path, value in t.arch.canonical().items():
        assert path in out and f'"{value}"' in out
    assert main(["study", "show", str(studies[0]), "--trial", "60"]) == 1
    assert "the study has no trial 60 (its trials are 0..5)" in capsys.readouterr().err


def test_show_trial_prints_the_curve(tmp_path, capsys):
    from tests.study.workflow_helpers import TINY_SPACE
    space, db = tmp_path / "tiny.nas", tmp_path / "c.db"
    space.write_text(TINY_SPACE)
    assert main(["search", str(space), "-E", "epochs=2", "--budget", "1", "--study", str(db), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["study", "show", str(db), "--trial", "0"]) == 0
    out = capsys.readouterr().out
    assert "curve (2 rows):" in out and "val_accuracy" in out.split("curve (2 rows):")[1]


def test_compare(studies, tmp_path, capsys):
    png = tmp_path / "cmp.png"
    capsys.readouterr()
    assert main(["study", "compare", *map(str, studies), "-o", str(png)]) == 0
    out = capsys.readouterr().out
    bests = [Study.load(p).best().metrics[COLUMN] for p in studies]
    assert all(f"{b:.6g}" in out for b in bests) and "mean best" in out
    assert png.read_bytes()[:4] == b"\x89PNG"
    from nasl.study.compare import _curve
    s = Study.load(studies[0])
    curve = _curve(s, COLUMN, 6)
    assert curve == [max(t.metrics[COLUMN] for t in s.trials[:i + 1]) for i in range(6)]


def test_compare_refuses_different_objectives(studies, tmp_path, capsys):
    other = tmp_path / "o.db"
    nasl.search(str(NB201), evaluator="nb201:cifar100", budget=2, storage=other, progress=False)
    capsys.readouterr()
    assert main(["study", "compare", str(studies[0]), str(other)]) == 1
    assert f"has no objective '{COLUMN}'" in capsys.readouterr().err
    with pytest.raises(NaslError):
        from nasl.study.compare import summary
        summary([Study.load(studies[0]), Study.load(other)])


def test_lineage_columns_in_dataframe_and_csv(tmp_path):
    """parent, transformation, inherited: the searcher's lineage, empty for trials without one."""
    path = tmp_path / "evo.db"
    nasl.search(str(NB201), evaluator="nb201", searcher="large_scale_evolution",
                searcher_options={"population_size": 3}, budget=10, seed=0, storage=path, progress=False)
    study = Study.load(path)
    out = tmp_path / "evo.csv"
    assert main(["study", "export-csv", str(path), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert {"parent", "transformation", "inherited"} <= set(rows[0])
    children = [t for t in study.trials if t.parent is not None]
    assert children and len(children) < len(study.trials)           # the random population has no parent
    for t, row in zip(study.trials, rows):
        if t.parent is None:
            assert row["parent"] == row["transformation"] == ""
        else:
            assert int(row["parent"]) == t.parent < t.number and row["transformation"] == t.transformation
            assert row["transformation"].split()[0] in ("mutate", "identity", "reset")
    pd = pytest.importorskip("pandas")
    df = study.dataframe()
    c = children[0].number
    assert df.loc[c, "parent"] == children[0].parent and df.loc[c, "transformation"] == children[0].transformation
    assert pd.isna(df.loc[0, "parent"])
