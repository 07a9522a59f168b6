"""A data file never runs code (issue 13): op modules and python: evaluators a bundle or a study file
names are imported only when the user names them again, or with trust=True / --trust.

Every test plants a module that writes a marker file when it is imported; the marker must never
appear unless the call approves the module.
"""
from __future__ import annotations

import json
import sqlite3

import pytest
import torch

import nasl
import nasl.loader
from nasl.cli import main
from nasl.ir.errors import NaslError
from nasl.study.model_export import export_model, load_model
from nasl.study.trust import allowed_modules
from tests.study.helpers_train import TINY

ARCH = {"width": 4}
# eight architectures: a resumed random search does not run out of new ones
SPACE = TINY.replace("choice(4, 8)", "choice(1, 2, 3, 4, 5, 6, 7, 8)")


def _forget_imports():
    # spaces are cached per process by (source, ops), and an op module file runs once per process:
    # forget both, so that each load must import (and so approve) the module again
    nasl.study.protocol._SPACES.clear()
    import sys
    for module in nasl.loader._FILES.values():
        if sys.modules.get(module.__name__) is module:
            del sys.modules[module.__name__]
    nasl.loader._FILES.clear()


@pytest.fixture(autouse=True)
def _fresh_imports(monkeypatch):
    monkeypatch.setattr("nasl.study.protocol._SPACES", {})
    monkeypatch.setattr("nasl.loader._FILES", {})


@pytest.fixture()
def planted(tmp_path):
    """``(module path, marker path)``: importing the module writes the marker; it also scores trials."""
    marker = tmp_path / "MARKER"
    mod = tmp_path / "planted_mod.py"
    mod.write_text(f"open({str(marker)!r}, 'a').write('ran\\n')\n"
                   "def score(request):\n    return {'params': 1.0}\n"
                   "score.directions = {'params': 'min'}\n")
    return str(mod), marker


def _bundle(tmp_path, modules):
    """A valid bundle whose recorded op modules are ``modules`` (as a shared file could say)."""
    path = export_model(tmp_path / "m.pt", space_source=TINY, space_file="tiny.nas", arch=ARCH,
                        input_shape=(1, 8, 8))
    bundle = torch.load(path, weights_only=True)
    bundle["ops_modules"] = modules
    torch.save(bundle, path)
    return path


def test_a_bundle_naming_a_module_is_refused_without_the_flag(tmp_path, planted):
    mod, marker = planted
    path = _bundle(tmp_path, [mod])
    with pytest.raises(NaslError) as e:
        load_model(path)
    assert mod in str(e.value) and "--trust" in str(e.value) and "\n" not in e.value.message
    assert not marker.exists()


def test_a_bundle_loads_when_the_module_is_named_again_or_trusted(tmp_path, planted):
    mod, marker = planted
    path = _bundle(tmp_path, [mod])
    model = load_model(path, ops=[mod])
    assert marker.read_text() == "ran\n" and model.nasl_arch == ARCH
    marker.unlink()
    _forget_imports()
    load_model(path, trust=True)
    assert marker.exists()


def test_a_bundle_with_a_damaged_module_list_is_a_clear_error(tmp_path):
    path = _bundle(tmp_path, "os")                    # a string, not a list
    with pytest.raises(NaslError, match="damaged"):
        load_model(path, trust=True)


def test_two_spellings_of_one_file_approve_it(tmp_path, planted, monkeypatch):
    mod, _ = planted
    monkeypatch.chdir(tmp_path)
    assert allowed_modules("f", [mod], ops=["./planted_mod.py"]) == [mod]
    with pytest.raises(NaslError, match="'json'"):
        allowed_modules("f", ["json"], ops=["planted_mod.py"])


@pytest.fixture()
def study_file(tmp_path, planted):
    """A finished 2-trial study whose file was edited to name the planted module as an op module."""
    mod, marker = planted
    db = tmp_path / "s.db"
    nasl.search(SPACE, evaluator="cost", budget=2, storage=str(db), progress=False, searcher="random")
    with sqlite3.connect(db) as c:
        c.execute("UPDATE study SET ops = ?", (json.dumps([mod]),))
    assert not marker.exists()
    return str(db), mod, marker


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_study_export_refuses_the_recorded_module(study_file, tmp_path, capsys):
    db, mod, marker = study_file
    code, _, err = _run(capsys, "study", "export", db, "--best", "-o", tmp_path / "o.pt")
    assert code == 1 and err.count("\n") == 1 and mod in err and "--trust" in err
    with pytest.raises(NaslError, match="planted_mod"):
        nasl.Study.load(db).export_best(tmp_path / "o.pt")
    with pytest.raises(NaslError, match="planted_mod"):
        nasl.Study.load(db).load_space()
    assert not marker.exists() and not (tmp_path / "o.pt").exists()


@pytest.mark.parametrize("flag", [["--trust"], ["--ops", "MOD"]])
def test_study_export_with_the_flag(study_file, tmp_path, capsys, flag):
    db, mod, marker = study_file
    flag = [mod if f == "MOD" else f for f in flag]
    code, out, err = _run(capsys, "study", "export", db, "--best", "-o", tmp_path / "o.pt", *flag)
    assert code == 0, err
    assert marker.exists() and (tmp_path / "o.pt").exists()


def test_study_export_from_python_with_ops_or_trust(study_file, tmp_path):
    db, mod, marker = study_file
    nasl.Study.load(db).export_best(tmp_path / "a.pt", trust=True)
    assert marker.exists()
    marker.unlink()
    _forget_imports()
    nasl.Study.load(db, ops=[mod]).export_best(tmp_path / "b.pt")
    assert marker.exists()


def test_resume_refuses_the_recorded_module(study_file, capsys):
    db, mod, marker = study_file
    code, _, err = _run(capsys, "search", "--study", db, "--resume", "--budget", 3, "--no-progress")
    assert code == 1 and mod in err and err.count("\n") == 1
    with pytest.raises(NaslError, match="planted_mod"):
        nasl.search(storage=db, resume=True, budget=3, progress=False)
    assert not marker.exists()
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM trials").fetchone()[0] == 2     # nothing ran


def test_resume_with_trust_or_ops(study_file, capsys):
    db, mod, marker = study_file
    code, _, err = _run(capsys, "search", "--study", db, "--resume", "--budget", 3, "--no-progress", "--trust")
    assert code == 0, err
    assert marker.exists()
    marker.unlink()
    _forget_imports()
    study = nasl.search(storage=db, resume=True, budget=4, progress=False, ops=[mod])
    assert marker.exists() and study.counts()["complete"] == 4


def test_a_recorded_python_evaluator_is_not_rebuilt_without_the_flag(study_file, capsys):
    db, mod, marker = study_file
    spec = f"python:{mod}:score"
    with sqlite3.connect(db) as c:
        c.execute("UPDATE study SET ops = '[]', evaluator = ?", (json.dumps({"spec": spec, "repr": "x"}),))
    code, _, err = _run(capsys, "search", "--study", db, "--resume", "--budget", 3, "--no-progress")
    assert code == 1 and spec in err and "--evaluator" in err
    with pytest.raises(NaslError, match="planted_mod"):
        nasl.search(storage=db, resume=True, budget=3, progress=False)
    assert not marker.exists()
    study = nasl.search(storage=db, resume=True, budget=3, progress=False, trust=True)
    assert marker.exists() and study.counts()["complete"] == 3
    study = nasl.search(storage=db, resume=True, budget=4, progress=False, evaluator=spec)   # named again
    assert study.counts()["complete"] == 4


def test_a_study_started_with_ops_exports_in_the_same_call(tmp_path, planted):
    mod, marker = planted
    study = nasl.search(TINY, evaluator="cost", budget=1, storage=str(tmp_path / "n.db"), progress=False,
                        searcher="random", ops=[mod])
    assert marker.exists()
    study.export_best(tmp_path / "best.pt")           # the user named the module in this call
    assert (tmp_path / "best.pt").exists()


def test_study_show_lists_the_recorded_modules_without_importing_them(study_file, capsys):
    db, mod, marker = study_file
    code, out, _ = _run(capsys, "study", "show", db)
    assert code == 0 and f"op modules: {mod}" in out.splitlines()
    assert not marker.exists()


def test_a_hostile_module_name_cannot_break_the_line_or_the_suggested_command():
    with pytest.raises(NaslError, match="damaged") as e:
        allowed_modules("the file 'x'", ["evil\nerror: fake"])
    assert "\n" not in e.value.render()
    with pytest.raises(NaslError) as e:
        allowed_modules("the file 'x'", ["evil.py; rm -rf ~"])
    assert "--ops 'evil.py; rm -rf ~'" in e.value.render()      # shell-quoted: one argument, no command
