"""The study file: schema versions, one owner at a time, every state committed."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

import nasl
from nasl.study.locking import StudyLock, StudyLocked, pid_alive
from nasl.study.storage import SCHEMA_VERSION, Storage, StorageError
from tests.study.helpers import NB201, OPTIONS, ROOT, TABLE



def test_a_new_file_gets_the_schema_in_wal_mode(tmp_path):
    s = Storage(tmp_path / "s.db")
    assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert s.load_study() is None
    s.close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.db"
    Storage(path).close()
    with sqlite3.connect(path) as c:
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StorageError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this nasl "
                                           f"understands \\({SCHEMA_VERSION}\\); upgrade nasl"):
        Storage(path)


def test_an_older_schema_without_a_migration_is_refused(tmp_path):
    path = tmp_path / "s.db"
    Storage(path).close()
    with sqlite3.connect(path) as c:
        c.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="schema version 0, older than this nasl's .* no migration"):
        Storage(path)


def test_other_files_are_refused(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE t (x)")
    with pytest.raises(StorageError, match="not a nasl study"):
        Storage(other)
    text = tmp_path / "text.db"
    text.write_text("hello, this is no database at all" * 100)
    with pytest.raises(StorageError, match="not a nasl study file"):
        Storage(text)


HOLD = """
import sys, time
from nasl.study.storage import Storage
from nasl.study.locking import StudyLock
lock = StudyLock(Storage(sys.argv[1]))
print("locked", flush=True)
time.sleep(60)
"""


def test_a_second_process_is_refused_until_the_first_is_gone(tmp_path):
    db = tmp_path / "s.db"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StudyLocked, match=f"is in use by process {holder.pid} on .*; stop that process"):
            nasl.search(NB201, evaluator=TABLE, budget=3, storage=db, progress=False)
    finally:
        holder.kill()
        holder.wait()
    assert not pid_alive(holder.pid)
    study = nasl.search(NB201, evaluator=TABLE, budget=3, storage=db, progress=False)
    assert study.counts()["complete"] == 3
    lock = StudyLock(study.storage)             # released at the end of the search
    assert lock.took_over is None
    lock.release()


def test_a_dead_owner_is_taken_over(tmp_path):
    s = Storage(tmp_path / "s.db")
    with s.transaction() as c:
        c.execute("INSERT INTO lock VALUES (1, 999999999, ?, ?, ?)", (__import__("socket").gethostname(),
                                                                       time.time(), time.time()))
    lock = StudyLock(s)
    assert lock.took_over[0] == 999999999
    lock.release()


def test_release_ends_a_transaction_that_an_interrupt_left_open(tmp_path):
    s = Storage(tmp_path / "s.db")
    lock = StudyLock(s)
    s.conn.execute("BEGIN IMMEDIATE")            # as if Ctrl-C hit between BEGIN and its block
    s.conn.execute("UPDATE lock SET heartbeat = 0")
    lock.release()
    assert not s.conn.in_transaction
    assert s.conn.execute("SELECT count(*) FROM lock").fetchone()[0] == 0
    StudyLock(s).release()                       # the study can be opened again


def test_every_trial_is_recorded_with_its_fields(tmp_path):
    study = nasl.search(NB201, evaluator=TABLE, budget=12, seed=5, searcher_options=OPTIONS,
                        storage=tmp_path / "s.db", progress=False)
    rows = study.storage.trials()
    assert [r["number"] for r in rows] == list(range(12))
    seqs = sorted([r["ask_seq"] for r in rows] + [r["tell_seq"] for r in rows])
    assert seqs == list(range(24))
    for r in rows:
        assert r["state"] == "complete" and r["seed"] >= 0 and r["finished"] >= r["started"]
        assert r["duration"] >= 0 and r["worker"].startswith("pid ") and r["attempts"] == 1
        assert nasl.Architecture.from_json(r["arch"]).id == r["arch_id"]
    cfg = Storage(tmp_path / "s.db").load_study()
    assert cfg["searcher"] == "regularized_evolution" and cfg["searcher_options"] == OPTIONS
    assert cfg["seed"] == 5 and cfg["budget"] == 12 and cfg["space_source"] == NB201.read_text()
    assert cfg["objectives"] == {"CIFAR10TestAccuracy200Epochs": "max"}
    assert cfg["evaluator"]["spec"] == TABLE


def test_a_lineage_parent_is_the_latest_complete_trial_of_its_architecture_by_index(tmp_path):
    # one query, not every row of an architecture evaluated again and again (issue 13, BENCHMARKS section 61)
    study = nasl.search(NB201, evaluator=TABLE, budget=6, seed=5, searcher_options=OPTIONS,
                        storage=tmp_path / "s.db", progress=False)
    store = study.storage
    rows = store.trials()
    arch, arch_id = rows[0]["arch"], rows[0]["arch_id"]
    for n, state in ((6, "complete"), (7, "failed"), (8, "complete"), (9, "running")):
        tid = store.add_trial(n, arch, arch_id, None, 0, 100 + n)
        if state != "running":
            store.finish_trial(tid, state, metrics={"CIFAR10TestAccuracy200Epochs": 90.0} if state == "complete"
                               else None, error=None if state == "complete" else "boom", tell_seq=200 + n)
    assert store.latest_complete(arch_id) == 8
    assert store.latest_complete("no-such-id") is None
    plan = store.conn.execute("EXPLAIN QUERY PLAN SELECT number FROM trials WHERE arch_id = ? "
                              "AND +state = 'complete' ORDER BY number DESC LIMIT 1", (arch_id,)).fetchall()
    assert any("trials_arch" in str(r) for r in plan) and not any("TEMP B-TREE" in str(r) for r in plan)


def test_import_nasl_loads_no_study_machinery():
    code = ("import sys, nasl\n"
            "assert 'nasl.study' not in sys.modules and 'sqlite3' not in sys.modules\n"
            "assert callable(nasl.search) and 'nasl.study' in sys.modules and 'torch' not in sys.modules\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StorageError, match="cannot create the study file .*: no folder"):
        Storage(tmp_path / "no" / "s.db")


SMALL = """
input x: [3, 8, 8]
network {
    return x >> conv(choice(4, 8), k=choice(1, 3)) >> global_avg_pool >> linear(2)
}
"""


def test_a_finite_space_ends_when_the_searcher_is_exhausted():
    def score(request):
        return {"s": float(request.number)}
    score.directions = {"s": "max"}
    study = nasl.search(SMALL, searcher="grid", evaluator=score, budget=10, progress=False, workers=3)
    assert len(study.trials) == 4 and {t.arch_id for t in study.trials} == {t.arch_id for t in study.trials[:4]}
    assert len({t.arch_id for t in study.trials}) == 4
