"""nasl search and nasl study show/plot/export, on the NAS-Bench-201 table."""
from __future__ import annotations

import sqlite3

import pytest

from nasl.cli import main
from tests.study.helpers import NB201, TABLE


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def study(tmp_path, capsys):
    db = tmp_path / "s.db"
    code, out, err = run(capsys, "search", NB201, "--evaluator", TABLE, "--budget", 30, "--study", db,
                         "-O", "population_size=10", "-O", "sample_size=3", "--seed", 1, "--no-progress",
                         "-D", "C=4", "-D", "N=1")          # a small network: the table ignores the size
    assert code == 0, err
    return db, out


def test_search_prints_the_best_architecture(study):
    db, out = study
    lines = out.splitlines()
    assert lines[0] == f"study {db}: 30 complete, 0 failed"
    assert lines[1].startswith("best trial #") and "CIFAR10TestAccuracy200Epochs=9" in lines[1]
    assert lines[2].startswith('best architecture: {"cell.edge[0->1]":')
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM trials WHERE state='complete'").fetchone()[0] == 30


def test_search_with_the_bundled_nb201_table_needs_no_file(tmp_path, capsys):
    # the command, at a smaller budget: nothing but the installed package
    code, out, err = run(capsys, "search", NB201, "--evaluator", "nb201:cifar100", "--budget", 12,
                         "--study", tmp_path / "c100.db", "--seed", 0, "--no-progress")
    assert code == 0, err
    assert out.splitlines()[0] == f"study {tmp_path / 'c100.db'}: 12 complete, 0 failed"
    assert "CIFAR100TestAccuracy200Epochs=" in out.splitlines()[1]


def test_resume_extends_and_refusals_are_one_line(study, capsys):
    db, _ = study
    code, out, err = run(capsys, "search", "--study", db, "--resume", "--budget", 35, "--no-progress")
    assert code == 0 and out.startswith(f"study {db}: 35 complete"), err
    code, out, err = run(capsys, "search", NB201, "--evaluator", TABLE, "--study", db, "--no-progress")
    assert code == 1
    assert err.strip() == (f"error: '{db}' already holds a study (35 trials); pass resume=True (--resume) to "
                           f"continue it, or choose another file")
    code, _, err = run(capsys, "search", NB201, "--evaluator", "table", "--study", db.parent / "x.db")
    assert code == 1 and err.startswith("error: unknown evaluator 'table'") and len(err.splitlines()) == 1
    code, _, err = run(capsys, "search", db.parent / "missing.nas", "--evaluator", TABLE, "--study",
                       db.parent / "y.db")
    assert code == 1 and "cannot read the space" in err and "Traceback" not in err
    code, _, err = run(capsys, "study", "show", db.parent / "none.db")
    assert code == 1 and err.strip() == f"error: no study file at '{db.parent / 'none.db'}'"


def test_study_show_lists_the_top_trials(study, capsys):
    db, _ = study
    code, out, _ = run(capsys, "study", "show", db, "--top", 3)
    assert code == 0
    lines = out.splitlines()
    assert "searcher regularized_evolution" in lines[0] and "seed 1, budget 30" in lines[0]
    assert lines[2] == "trials: 30 complete, 0 failed, 0 pruned, 0 running"
    assert lines[3].split() == ["rank", "trial", "CIFAR10TestAccuracy200Epochs", "seconds", "arch"]
    values = [float(line.split()[2]) for line in lines[4:7]]
    assert values == sorted(values, reverse=True)
    assert lines[7].startswith("best architecture: ")


def test_study_plot_writes_a_png(study, capsys, tmp_path):
    db, _ = study
    png = tmp_path / "p.png"
    code, out, _ = run(capsys, "study", "plot", db, "-o", png)
    assert code == 0 and out.strip() == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_failed_trials_are_shown_with_reasons(tmp_path, capsys):
    db = tmp_path / "f.db"
    code, out, err = run(capsys, "search", NB201, "--evaluator", "python:tests.study.helpers:exits", "--budget", 4,
                         "--study", db, "--executor", "process", "--workers", 2, "--no-progress")
    assert code == 0, err
    assert out.startswith(f"study {db}: 3 complete, 1 failed")
    code, out, _ = run(capsys, "study", "show", db)
    assert "failed trials (1):\n  #2: the worker process died (exit code 3)" in out


@pytest.mark.parametrize("to, suffix", [("python", ".py"), ("onnx", ".onnx"), ("pt", ".pt")])
def test_study_export_writes_the_best_architecture(study, capsys, tmp_path, to, suffix):
    pytest.importorskip("torch")
    db, _ = study
    out = tmp_path / f"best{suffix}"
    code, printed, err = run(capsys, "study", "export", db, "--best", "--to", to, "-o", out)
    assert code == 0, err
    assert printed.strip() == str(out) and out.stat().st_size > 0
    assert "kept no weights; exporting its architecture untrained" in err     # a table study trains nothing
    if to == "pt":
        from nasl.study.model_export import load_model
        from nasl.study.study import Study
        assert load_model(out).nasl_arch == dict(Study.load(db).best().arch)
    code, _, err = run(capsys, "study", "export", db, "--trial", 999, "--to", to, "-o", out)
    assert code == 1 and err.strip() == "error: the study has no trial 999"


@pytest.mark.parametrize("argv, message", [
    (["--timeout", "-1"], "timeout must be a number of seconds above 0 and at most 1e+08, not -1.0"),
    (["--timeout", "nan"], "timeout must be a number of seconds above 0 and at most 1e+08, not nan"),
    (["--budget", str(2 ** 63)], "budget must be between 1 and 9223372036854775807, not 9223372036854775808"),
    (["--seed", str(2 ** 63)], "seed must be between -9223372036854775808 and 9223372036854775807, "
                               "not 9223372036854775808"),
    (["--executor", "ray", "--gpus-per-trial", "-1"], "Ray resource num_gpus must be a number >= 0, not -1.0"),
    (["--workers", "0"], "workers must be between 1 and 100000, not 0"),
    (["--searcher", "nope"], "no searcher named 'nope'"),
])
def test_bad_search_options_are_one_line_errors_and_leave_no_file(tmp_path, capsys, argv, message):
    db = tmp_path / "s.db"
    code, out, err = run(capsys, "search", NB201, "--evaluator", TABLE, "--study", db, "--no-progress", *argv)
    assert code == 1
    assert err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert not db.exists()
