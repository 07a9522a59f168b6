"""The dashboard's read-only reader: what it reads, what it refuses, and that it never writes."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasl.dashboard import data as data_mod
from nasl.dashboard.data import ONESHOT_TABLE, DashboardError, StudyData, front_2d
from nasl.study.storage import Storage
from nasl.study.study import pareto_front

from .conftest import BUDGET, add_trial


def test_summary_counts_and_settings(study_path):
    d = StudyData(study_path)
    s = d.summary()
    assert s["counts"] == {"running": 1, "complete": 3, "failed": 1, "pruned": 0}
    assert s["done"] == 4 and s["budget"] == BUDGET
    assert s["objectives"] == [["acc", "max"], ["size", "min"]]
    assert s["searcher"] == "random" and s["evaluator"] == "python:x:y" and s["oneshot"] is False


def test_a_running_study_is_seen_live(study_path):
    """Another process writes while the dashboard is open: the next read sees it, and the stamp changes."""
    d = StudyData(study_path)
    before = d.summary()
    add_trial(study_path, 5, {"width": 8, "deep": "no"}, {"acc": 0.95, "size": 1.0})
    after = d.summary()
    assert after["counts"]["complete"] == before["counts"]["complete"] + 1
    assert after["stamp"] != before["stamp"]
    assert d.trial(5)["metrics"] == {"acc": 0.95, "size": 1.0}
    assert d.summary()["stamp"] == after["stamp"]          # nothing changed, nothing to redraw


def test_trials_and_filter_by_state(study_path):
    d = StudyData(study_path)
    assert [t["number"] for t in d.trials()] == [0, 1, 2, 3, 4]
    assert [t["number"] for t in d.trials("complete")] == [0, 1, 2]
    failed = d.trials("failed")
    assert [(t["number"], t["error"], t["metrics"]) for t in failed] == [(3, "RuntimeError: boom", None)]
    assert d.trial(1)["arch"] == {"width": 16, "deep": "yes", "k2": 3}
    with pytest.raises(DashboardError, match="unknown trial state 'done'"):
        d.trials("done")
    with pytest.raises(DashboardError, match="no trial 42"):
        d.trial(42)


def test_best_so_far_per_objective(study_path):
    b = StudyData(study_path).best_so_far()
    assert b["acc"] == {"direction": "max", "points": [[0, 0.5, 0.5], [1, 0.9, 0.9], [2, 0.7, 0.9]]}
    assert b["size"] == {"direction": "min", "points": [[0, 3.0, 3.0], [1, 5.0, 3.0], [2, 2.0, 2.0]]}


def test_pareto_front(study_path):
    d = StudyData(study_path)
    p = d.pareto()
    # trial 2 (0.7, 2) beats trial 0 (0.5, 3) in both; 1 has the best acc, 2 the smallest size
    assert (p["x"], p["y"], p["directions"], p["front"]) == ("acc", "size", ["max", "min"], [1, 2])
    assert p["points"] == [[0, 0.5, 3.0], [1, 0.9, 5.0], [2, 0.7, 2.0]]
    assert d.pareto("size", "acc")["front"] == [1, 2]
    with pytest.raises(DashboardError, match="no objective 'loss'"):
        d.pareto("loss")


def test_oneshot_absent_then_present(study_path):
    """The table a one-shot run will write (issue 11); the reader shows it only when it exists."""
    d = StudyData(study_path)
    assert d.oneshot() == {"available": False, "epochs": []}
    w = sqlite3.connect(study_path)
    w.execute(f"CREATE TABLE {ONESHOT_TABLE} (epoch INTEGER PRIMARY KEY, alphas TEXT NOT NULL, derived TEXT, "
              "metrics TEXT)")
    w.execute(f"INSERT INTO {ONESHOT_TABLE} VALUES (0, ?, ?, NULL)",
              (json.dumps({"width": {"8": 0.6, "16": 0.4}}), json.dumps({"width": 8, "deep": "no"})))
    w.commit()
    w.close()
    assert d.summary()["oneshot"] is True
    assert d.oneshot() == {"available": True, "epochs": [
        {"epoch": 0, "alphas": {"width": {"8": 0.6, "16": 0.4}}, "derived": {"width": 8, "deep": "no"},
         "metrics": None}]}


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_reader_cannot_write(study_path):
    d = StudyData(study_path)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        d.conn.execute("DELETE FROM trials")
    before = _digest(study_path)
    d.summary(), d.trials(), d.best_so_far(), d.pareto(), d.oneshot(), d.trial(0)
    d.close()
    assert _digest(study_path) == before


def test_a_writer_is_never_blocked(study_path):
    """Reads in a loop while a writer with no busy timeout commits: it never meets 'database is locked'."""
    d = StudyData(study_path)
    stop = threading.Event()

    def read():
        while not stop.is_set():
            d.summary(), d.trials()

    t = threading.Thread(target=read)
    t.start()
    try:
        w = sqlite3.connect(study_path, timeout=0, isolation_level=None)
        for i in range(40):
            w.execute("BEGIN IMMEDIATE")
            w.execute("UPDATE study SET budget = ? WHERE id = 1", (100 + i,))
            w.execute("COMMIT")
            time.sleep(0.002)
        w.close()
    finally:
        stop.set()
        t.join()
    assert d.summary()["budget"] == 139


def test_missing_file_is_not_created(tmp_path):
    path = tmp_path / "nope.db"
    with pytest.raises(DashboardError, match="no study file at"):
        StudyData(path)
    assert not path.exists()


@pytest.mark.parametrize("content, message", [
    (b"", "not a nasl study"),
    (b"hello, not a database" * 100, "is not a nasl study file"),
])
def test_a_file_that_is_not_a_study(tmp_path, content, message):
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(DashboardError, match=message):
        StudyData(path)
    assert path.read_bytes() == content


def test_another_sqlite_file_and_a_folder(tmp_path):
    other = tmp_path / "other.db"
    c = sqlite3.connect(other)
    c.execute("CREATE TABLE t (x)")
    c.commit()
    c.close()
    with pytest.raises(DashboardError, match="SQLite file but not a nasl study"):
        StudyData(other)
    with pytest.raises(DashboardError, match="is a folder"):
        StudyData(tmp_path)


def test_a_study_file_without_a_study_and_a_newer_schema(tmp_path):
    empty = tmp_path / "empty.db"
    Storage(empty).close()                      # the schema, but no study row yet
    with pytest.raises(DashboardError, match="holds no study yet"):
        StudyData(empty)
    c = sqlite3.connect(empty)
    c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    c.commit()
    c.close()
    with pytest.raises(DashboardError, match="schema version 99"):
        StudyData(empty)


def test_a_folder_that_is_not_writable_reads_the_file_as_immutable(study_path, monkeypatch):
    """No -shm can be created beside the file there, so SQLite is told the file does not change."""
    assert not StudyData(study_path).uri.endswith("immutable=1")
    monkeypatch.setattr(data_mod, "_writable", lambda folder: False)
    (study_path.parent / (study_path.name + "-shm")).unlink(missing_ok=True)
    d = StudyData(study_path)
    assert d.uri.endswith("?mode=ro&immutable=1")
    assert d.summary()["counts"]["complete"] == 3


def test_a_study_with_no_trial_yet(tmp_path):
    """The dashboard opened the moment a search starts: zeros and empty plots, no error."""
    from .conftest import OBJECTIVES, SPACE
    path = tmp_path / "new.db"
    s = Storage(path)
    s.create_study(space_source=SPACE, space_file="tiny.nas", params=[], ops=[], searcher="random",
                   searcher_options={}, seed=0, evaluator={"spec": None, "repr": "f"}, objectives=OBJECTIVES,
                   budget=5)
    s.close()
    d = StudyData(path)
    summary = d.summary()
    assert summary["counts"] == {"running": 0, "complete": 0, "failed": 0, "pruned": 0}
    assert summary["evaluator"] == "f" and summary["updated"] is None
    assert d.trials() == [] and d.best_so_far()["acc"]["points"] == []
    assert d.pareto()["points"] == [] and d.pareto()["front"] == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=30),
       st.sampled_from(["max", "min"]), st.sampled_from(["max", "min"]))
def test_front_2d_is_the_study_pareto_front(points, dx, dy):
    """The fast sweep agrees with nasl.study.pareto_front, ties and duplicates included."""
    assert front_2d(points, [dx, dy]) == sorted(pareto_front(points, [dx, dy]))


def test_front_2d_is_fast():
    import random
    rng = random.Random(0)
    points = [(rng.random(), rng.random()) for _ in range(20000)]
    t = time.perf_counter()
    front = front_2d(points, ["max", "min"])
    assert time.perf_counter() - t < 0.5
    # every point of the front is non-dominated among the front itself, and the front is a small staircase
    on_front = [points[i] for i in front]
    assert pareto_front(on_front, ["max", "min"]) == list(range(len(front)))
    assert 0 < len(front) < 100


def test_trials_changed_since(study_path):
    """A page that has the trials asks only for those that changed after its last summary."""
    d = StudyData(study_path)
    last = d.summary()["updated"]
    assert [t["number"] for t in d.trials(since=last)] == [4]        # the last one to change: 4 started
    time.sleep(0.01)
    add_trial(study_path, 5, {"width": 8, "deep": "no"}, {"acc": 0.1, "size": 9.0})
    w = Storage(study_path)
    w.finish_trial(d.trial(4)["id"], "complete", metrics={"acc": 0.2, "size": 8.0}, tell_seq=99)
    w.close()
    changed = d.trials(since=last + 1e-6)
    assert [(t["number"], t["state"]) for t in changed] == [(4, "complete"), (5, "complete")]
    assert d.trials(since=d.summary()["updated"] + 1) == []
    assert [t["number"] for t in d.trials("failed", since=0)] == [3]
