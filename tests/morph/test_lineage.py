"""Lineage passed by the searcher: the ask/tell extension, the trials table (schema 2 and the
migration of version-1 files), the evaluator's application of it and its failures, and a
large_scale_evolution study on digits (tree stored, shown, resumed after SIGKILL exactly)."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
import torch

import nasl
from nasl.ir.errors import NaslError
from nasl.searchers import Lineage, create
from nasl.study.protocol import TrialRequest
from nasl.study.storage import SCHEMA_VERSION, Storage
from tests.morph.kill_helper import search_then_kill

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "nasl", "spaces", "digits.nas")


# ---------------------------------------------------------------------- the protocol
def test_a_searcher_that_names_no_parent_has_no_lineage():
    space = nasl.load(DIGITS)
    s = create("random", space.spec, seed=0)
    a = s.ask()
    assert s.lineage_of(a) is None


def test_large_scale_evolution_names_parent_and_mutation():
    space = nasl.load(DIGITS)
    s = create("large_scale_evolution", space.spec, seed=1, population_size=3)
    for i in range(3):
        a = s.ask()
        assert s.lineage_of(a) is None              # the random initial population
        s.tell(a, float(i))
    kinds = set()
    for i in range(12):
        a = s.ask()
        lin = s.lineage_of(a)
        assert isinstance(lin, Lineage) and s.lineage_of(a) is None      # read once
        kind = lin.transformation.split()[0]
        kinds.add(kind)
        diff = [p for p in set(a) | set(lin.parent) if a.get(p) != lin.parent.get(p)]
        if kind in ("identity", "reset"):
            assert a == lin.parent
        else:
            assert kind == "mutate" and lin.transformation.split()[1].rstrip(":") in diff
        space.validate(a)
        s.tell(a, float(i % 4))
    assert {"mutate", "identity"} <= kinds
    # the same seed and tells give the same asks and lineage, also through a state_dict
    t = create("large_scale_evolution", space.spec, seed=1, population_size=3)
    t.load_state_dict(s.state_dict())
    x, y = s.ask(), t.ask()
    assert x == y and s.lineage_of(x) == t.lineage_of(y)


# ---------------------------------------------------------------------- schema 2, migration
def _version_1(path):
    """A study file as nasl wrote it before lineage: no lineage columns, schema version 1."""
    s = Storage(path)
    tid = s.add_trial(0, '{"width": 8}', "a0", None, 0, 0)
    s.finish_trial(tid, "complete", metrics={"acc": 1.0}, tell_seq=1)
    s.close()
    with sqlite3.connect(path) as c:
        for col in ("parent", "transformation", "inherited"):
            c.execute(f"ALTER TABLE trials DROP COLUMN {col}")
        c.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")


def test_a_version_1_file_reads_read_only_and_migrates_when_written(tmp_path):
    path = str(tmp_path / "old.db")
    _version_1(path)
    ro = Storage(path, readonly=True)
    (row,) = ro.trials()
    assert row["parent"] is None and row["transformation"] is None and row["inherited"] is None
    ro.close()
    with sqlite3.connect(path) as c:             # reading did not change the file
        assert c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    from nasl.dashboard.data import StudyData
    with sqlite3.connect(path) as c:             # the dashboard needs a study row
        c.execute("INSERT INTO study VALUES (1, '', 'x.nas', '[]', '[]', 'random', '{}', 0, "
                  "'{\"spec\": \"digits\", \"repr\": \"d\"}', '[[\"acc\", \"max\"]]', 1, 0)")
    d = StudyData(path)
    assert d.trials()[0]["parent"] is None and d.summary()["lineage"] is False
    d.close()
    rw = Storage(path)
    assert rw.trials()[0]["parent"] is None
    tid = rw.add_trial(1, '{"width": 16}', "a1", None, 1, 2, parent=0, transformation="mutate width")
    rw.finish_trial(tid, "complete", metrics={"acc": 2.0}, tell_seq=3, inherited=0.5)
    assert [(r["parent"], r["transformation"], r["inherited"]) for r in rw.trials()] == \
        [(None, None, None), (0, "mutate width", 0.5)]
    rw.close()
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


# ---------------------------------------------------------------------- the evaluator and bad input
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A digits parent 'trained' (freshly initialised weights saved as trial 0's)."""
    from nasl.study.training import weights_path
    folder = str(tmp_path_factory.mktemp("art"))
    space = nasl.load(DIGITS)
    parent = space.sample(2)
    torch.manual_seed(0)
    model = nasl.compile(space, parent)
    torch.save(model.state_dict(), weights_path(folder, 0))
    return space, parent, folder, model.state_dict()


def _request(space, arch, folder, transformation, parent_arch, parent_id=0):
    with open(DIGITS) as f:
        source = f.read()
    return TrialRequest(trial_id=5, number=5, arch=dict(arch), budget=None, seed=0, space_source=source,
                        space_file=DIGITS, artifact_dir=folder,
                        lineage={"parent": 0, "parent_id": parent_id, "parent_arch": dict(parent_arch),
                                 "transformation": transformation})


def test_apply_lineage_inherits_and_applies_morphs(trained):
    from nasl.study.lineage import apply_lineage
    space, parent, folder, state = trained
    model = nasl.compile(space, parent)
    info = apply_lineage(space, model, _request(space, parent, folder, "identity", parent))
    assert info == {"parent_trial": 0, "inherited": 1.0}
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    wide_value = next(v for v in (8, 16, 24) if v > parent["width"]) if parent["width"] < 24 else None
    if wide_value is not None:
        wide = space.validate({**parent, "width": wide_value})
        model = nasl.compile(space, wide)
        info = apply_lineage(space, model, _request(space, wide, folder, "net2wider width", parent))
        assert info["inherited"] > 0
        x = torch.randn(4, 1, 8, 8)
        old = nasl.compile(space, parent)
        old.load_state_dict(state)
        old.eval(), model.eval()
        assert torch.allclose(old(x), model(x), atol=1e-5)         # function-preserving
    fresh = nasl.compile(space, parent)
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    assert apply_lineage(space, fresh, _request(space, parent, folder, "reset", parent))["inherited"] == 0.0
    assert all(torch.equal(v, before[k]) for k, v in fresh.state_dict().items())


def test_bad_lineage_is_one_line_error(trained):
    from nasl.study.lineage import apply_lineage
    space, parent, folder, state = trained
    model = nasl.compile(space, parent)
    with pytest.raises(NaslError, match="parent trial 0 has no saved weights") as e:
        apply_lineage(space, model, _request(space, parent, folder, "identity", parent, parent_id=77))
    assert "\n" not in e.value.message
    with pytest.raises(NaslError, match="unknown transformation 'teleport'"):
        apply_lineage(space, model, _request(space, parent, folder, "teleport width", parent))
    # a transformation the space cannot express: the widest width has no wider value
    top = space.validate({**parent, "width": 24})
    from nasl.study.training import weights_path
    torch.save(nasl.compile(space, top).state_dict(), weights_path(folder, 3))
    with pytest.raises(NaslError, match="net2wider: 'width' = 24 does not widen"):
        apply_lineage(space, nasl.compile(space, top), _request(space, top, folder, "net2wider width", top, 3))
    # weights of another architecture: the file holds another depth's tensors than the parent claimed
    other = space.validate({**parent, "depth": 1 if parent["depth"] != 1 else 2})
    with pytest.raises(NaslError, match="not those of architecture"):
        apply_lineage(space, nasl.compile(space, other), _request(space, other, folder, "mutate width", other, 0))


def test_a_study_without_a_file_trains_children_from_scratch():
    # storage=None keeps no weights at all: no child can inherit, and none fails for it
    study = nasl.search(DIGITS, "large_scale_evolution", "digits", budget=4, seed=1,
                        evaluator_options={"epochs": 0.1}, searcher_options={"population_size": 2}, progress=False)
    children = [t for t in study.trials if t.parent is not None]
    assert children and all(t.state == "complete" and t.inherited == 0.0 for t in children)


class _BadParent(nasl.searchers.Searcher):
    """Proposes two architectures; the second names the first as parent with a bogus transformation."""


    def _propose(self):
        from nasl.searchers.walks import sample
        a = sample(self.spec, self.rng, False)
        if self.num_asked == 0:
            self.first = a
            return a
        return self.child(a, self.first, "teleport")


@pytest.fixture
def bad_parent():
    from nasl.searchers.registry import SEARCHERS, register_searcher
    register_searcher("bad_parent_test")(_BadParent)
    yield _BadParent
    SEARCHERS.unregister("bad_parent_test")       # the registry-wide protocol tests never see it


def test_a_bad_lineage_fails_the_trial_with_its_reason(tmp_path, bad_parent):
    space = nasl.load(DIGITS)
    study = nasl.search(DIGITS, bad_parent(space.spec, seed=0), "digits", budget=2, storage=str(tmp_path / "b.db"),
                        evaluator_options={"epochs": 0.1}, progress=False)
    first, second = study.trials
    assert first.state == "complete" and first.parent is None
    assert second.state == "failed" and second.parent == 0 and second.transformation == "teleport"
    assert "unknown transformation 'teleport'" in second.error and "\n" not in second.error


# ---------------------------------------------------------------------- a study on digits
def _lineage(study):
    return [(t.number, t.parent, t.transformation, t.inherited) for t in study.trials]


def _rows(study):
    """Every trial's number, state, architecture, metrics (but wall times) and seed."""
    return [(t.number, t.state, t.arch_id, {k: v for k, v in (t.metrics or {}).items() if k != "train_seconds"},
             t.seed) for t in study.trials]


def _lse(db, budget=9):
    return nasl.search(DIGITS, "large_scale_evolution", "digits", budget=budget, seed=4, storage=str(db),
                       evaluator_options={"epochs": 0.5}, searcher_options={"population_size": 3},
                       progress=False)


@pytest.mark.slow
def test_large_scale_evolution_study_stores_its_tree_and_resumes_after_sigkill(tmp_path):
    reference = _lse(tmp_path / "ref.db")
    lineage = _lineage(reference)
    children = [x for x in lineage if x[1] is not None]
    assert children and all(0 <= x[3] <= 1 for x in children if x[3] is not None)
    assert all(x[1] < x[0] for x in children)                 # a parent finished before its child was asked
    assert any(x[2] == "identity" and x[3] == 1.0 for x in children) or any(x[3] and x[3] > 0 for x in children)
    from nasl.study.lineage_tree import render
    text = render(reference.trials, "val_accuracy")
    assert text.count("#") == 9 and "[" in text
    # killed part-way (a subprocess, SIGKILL), resumed: the same trials, metrics and lineage
    db = tmp_path / "killed.db"
    code = (f"import nasl; nasl.search({DIGITS!r}, 'large_scale_evolution', 'digits', budget=9, seed=4, "
            f"storage={str(db)!r}, evaluator_options={{'epochs': 0.5}}, "
            f"searcher_options={{'population_size': 3}}, progress=False)")
    search_then_kill(code, db, ROOT, children=1, budget=9)
    resumed = nasl.search(None, storage=str(db), resume=True, progress=False)
    assert _rows(resumed) == _rows(reference)
    assert _lineage(resumed) == lineage
    # the CLI's tree and the dashboard's
    out = subprocess.run([sys.executable, "-c", "import sys; from nasl.cli import main; sys.exit(main(sys.argv[1:]))",
                          "study", "show", str(db), "--lineage"], cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == text, out.stderr
    from nasl.dashboard.data import StudyData
    d = StudyData(str(db))
    tree = d.lineage()
    d.close()
    assert tree["available"] and sorted(tree["roots"]) == [x[0] for x in lineage if x[1] is None]
    assert {int(k): v for k, v in tree["children"].items()} == \
        {p: [x[0] for x in lineage if x[1] == p] for p in {x[1] for x in children}}
