"""Study files that are damaged, edited, read-only, full, half-made or made twice at once: one-line errors or work."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

import nasl
from nasl.cli import main
from nasl.study.storage import Storage, StorageError
from nasl.study.study import Study
from tests.study.helpers import ROOT
from tests.study.study_fuzz import SPACE


def score(request):
    """Module level, so that ``python:tests.study.test_study_file:score`` names it."""
    return {"score": float(len(str(sorted(request.arch.items())))) + request.number / 1000}


score.directions = {"score": "max"}


def search(db, budget=6, **kw):
    return nasl.search(SPACE, searcher="random", evaluator=score, budget=budget, storage=db, seed=1,
                       progress=False, **kw)


@pytest.fixture()
def study_file(tmp_path):
    db = tmp_path / "s.db"
    search(db).close()
    return db


def edit(db, *statements):
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as c:
        for s in statements:
            c.execute(s)


def cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def one_line_error(db, match):
    """``nasl study show`` and a resume both fail with one line that matches."""
    code, _, err = cli("study", "show", db)
    assert code == 1 and len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert match in err, err
    with pytest.raises(StorageError, match=match.replace("(", r"\(").replace(")", r"\)")) as info:
        search(db, budget=8, resume=True).close()
    assert "\n" not in str(info.value)


# ------------------------------------------------------------ damaged or edited files
def test_a_schema_version_that_is_not_a_number(study_file):
    edit(study_file, "UPDATE meta SET value = 'abc' WHERE key = 'schema_version'")
    one_line_error(study_file, "is damaged: its schema version is 'abc', not a number")


def test_a_missing_table_or_column(study_file, tmp_path):
    other = tmp_path / "other.db"
    shutil.copyfile(study_file, other)
    edit(study_file, "DROP TABLE trials")
    one_line_error(study_file, "is damaged: it has no 'trials' table")
    edit(other, "ALTER TABLE trials DROP COLUMN metrics")
    one_line_error(other, "is damaged: its 'trials' table has no column 'metrics'")


@pytest.mark.parametrize("statement, match", [
    ("UPDATE trials SET arch = '{bad' WHERE number = 2", "trial 2's 'arch' is not valid JSON"),
    ("UPDATE trials SET arch = '[1, 2]' WHERE number = 2", "trial 2's 'arch' is JSON but not an object"),
    ("UPDATE trials SET metrics = 'nan?' WHERE number = 3", "trial 3's 'metrics' is not valid JSON"),
    ("UPDATE trials SET curve = '{' WHERE number = 1", "trial 1's 'curve' is not valid JSON"),
    ("UPDATE study SET params = '{bad'", "the study's 'params' is not valid JSON"),
    ("UPDATE study SET objectives = '[[\"score\", \"up\"]]'", "the study's 'objectives' is not a list of"),
    ("UPDATE trials SET seed = 'x' WHERE number = 0", "trial 0's 'seed' is 'x', not an integer"),
    ("UPDATE trials SET arch = X'0102' WHERE number = 4", "trial 4's 'arch' is not JSON text (it is bytes)"),
])
def test_a_column_that_is_not_what_nasl_wrote(study_file, statement, match):
    edit(study_file, statement)
    one_line_error(study_file, match)


def test_objectives_that_the_metrics_do_not_have(study_file):
    edit(study_file, "UPDATE study SET objectives = '[[\"accuracy\", \"max\"]]'")
    code, _, err = cli("study", "show", study_file)
    assert code == 1 and err.strip() == (
        f"error: the study file '{study_file}' is damaged: trial 0 is complete but its metrics have no finite "
        f"value for the study's objective 'accuracy' (they have score)")


def test_a_corrupted_page(study_file):
    with contextlib.closing(sqlite3.connect(study_file)) as c:
        root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'trials'").fetchone()[0]
        page = c.execute("PRAGMA page_size").fetchone()[0]
    with open(study_file, "r+b") as f:
        f.seek((root - 1) * page)
        f.write(b"\xff" * 12)                         # the b-tree page header of the trials table
    one_line_error(study_file, "is damaged: database disk image is malformed")


def test_a_deleted_trial_in_the_middle_reads_but_does_not_resume(study_file):
    edit(study_file, "DELETE FROM trials WHERE number = 3")
    code, out, _ = cli("study", "show", study_file)
    assert code == 0 and "trials: 5 complete" in out
    with pytest.raises(StorageError, match=r"it has 5 trials but no trial 3 \(trials are numbered 0 to N-1; "
                                           r"was a row deleted\?\)"):
        search(study_file, budget=8, resume=True)


# ------------------------------------------------------------ a full disk
def test_a_full_disk_says_so_keeps_what_was_committed_and_resumes(tmp_path):
    s = Storage(tmp_path / "s.db")
    s.conn.execute(f"PRAGMA max_page_count = {s.conn.execute('PRAGMA page_count').fetchone()[0] + 2}")
    with pytest.raises(StorageError, match=r"cannot write to the study file '.*': disk full; what was committed "
                                           r"before is kept: free some space, then resume"):
        for i in range(1000):
            s.add_trial(i, '{"a": "' + "x" * 500 + '"}', f"id{i}", None, i, i)
    assert not s.conn.in_transaction
    kept = s.conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    assert 0 < kept == i                              # every commit before the full one, nothing after
    s.conn.execute("PRAGMA max_page_count = 1000000")     # space freed
    s.add_trial(i, "{}", "id", None, 0, i)
    assert [r["number"] for r in s.trials()] == list(range(i + 1))


def _mount(*args) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *map(str, args)], capture_output=True).returncode == 0


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 160 KiB file system (a tmpfs; needs root), and a function that gives it 10 MiB."""
    where = tmp_path / "disk"
    where.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=160k", "tmpfs", where):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield where, lambda: _mount("-o", "remount,size=10m", where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_real_full_disk_on_the_command_line(tiny_disk):
    where, grow = tiny_disk
    db = where / "s.db"
    space = where.parent / "space.nas"
    space.write_text(SPACE)
    args = ["search", space, "--searcher", "random", "--evaluator", "python:tests.study.test_study_file:score",
            "--budget", 30, "--study", db, "--no-progress"]
    code, _, err = cli(*args)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"error: cannot write to the study file '{db}': disk full; what was committed")
    assert grow()
    code, out, err = cli("search", "--study", db, "--resume", "--evaluator", "python:tests.study.test_study_file:score",
                         "--no-progress")
    assert code == 0 and out.startswith(f"study {db}: 30 complete, 0 failed"), err
    study = Study.load(db)
    assert [t.number for t in study.trials] == list(range(30))
    study.close()


# ------------------------------------------------------------ read-only studies
def test_readers_open_read_only_and_change_nothing(study_file):
    before = study_file.read_bytes()
    study = Study.load(study_file)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        study.storage.conn.execute("CREATE TABLE x (y)")
    assert len(study.trials) == 6
    study.close()
    assert cli("study", "show", study_file)[0] == 0
    assert study_file.read_bytes() == before


@pytest.fixture()
def read_only_folder(tmp_path):
    """A folder that cannot be written: a read-only bind mount as root, else a chmod 555 folder."""
    src, ro = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    ro.mkdir()
    if os.geteuid() == 0:
        if not (_mount("--bind", src, ro) and _mount("-o", "remount,bind,ro", ro)):
            subprocess.run(["umount", str(ro)], capture_output=True)
            pytest.skip("cannot make a read-only mount here")

        def seal():
            pass
    else:
        ro.rmdir()
        ro = src

        def seal():
            os.chmod(ro, 0o555)
    try:
        yield src, ro, seal
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(ro)], capture_output=True)
        else:
            os.chmod(ro, 0o755)


def test_a_study_in_a_read_only_folder_reads(study_file, read_only_folder):
    src, ro, seal = read_only_folder
    shutil.copyfile(study_file, src / "s.db")
    seal()
    db = ro / "s.db"
    code, out, err = cli("study", "show", db)
    assert code == 0 and "trials: 6 complete" in out, err
    study = Study.load(db)
    assert len(study.top()) == 6
    study.close()
    pytest.importorskip("matplotlib")
    png = src.parent / "p.png"
    assert cli("study", "plot", db, "-o", png)[0] == 0 and png.stat().st_size > 0
    code, _, err = cli("search", "--study", db, "--resume", "--budget", 8, "--no-progress")
    assert code == 1 and err.startswith(f"error: cannot write to the study file '{db}': it or its folder is "
                                        f"read-only"), err
    assert len(err.strip().splitlines()) == 1


def test_a_killed_writers_log_in_a_read_only_folder(tmp_path, read_only_folder):
    src, ro, seal = read_only_folder
    db = src / "s.db"
    code = ("import os, sys, nasl\n"
            "from tests.study.test_study_file import search\n"
            "s = search(sys.argv[1], budget=5)\n"
            "os._exit(0)               # no checkpoint: the trials are in s.db-wal\n")
    subprocess.run([sys.executable, "-c", code, str(db)], cwd=ROOT, check=True,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert os.path.getsize(f"{db}-wal") > 0
    seal()
    code, out, err = cli("study", "show", ro / "s.db")             # the -shm index is there: SQLite reads the log
    assert code == 0 and "trials: 5 complete" in out, err
    if os.geteuid() != 0:
        return                                                      # cannot remove the index from a sealed folder
    subprocess.run(["umount", "-l", str(ro)], check=True)
    os.remove(f"{db}-shm")
    assert _mount("--bind", src, ro) and _mount("-o", "remount,bind,ro", ro)
    code, _, err = cli("study", "show", ro / "s.db")
    assert code == 1 and "its last commits are in" in err and "copy both files to a writable folder" in err


# ------------------------------------------------------------ half-made and racing files
def test_a_file_killed_before_its_study_row(tmp_path):
    db = tmp_path / "s.db"
    Storage(db).close()                                  # the schema, and no study: a start-up cut short
    msg = (f"'{db}' holds no study yet (the run that created it stopped before recording one); start it again "
           f"without resume=True (--resume), giving the space")
    with pytest.raises(nasl.NaslError) as info:
        nasl.search(None, storage=db, resume=True, progress=False)
    assert str(info.value) == f"error: {msg}"
    code, _, err = cli("search", "--study", db, "--resume", "--no-progress")
    assert code == 1 and err.strip() == f"error: {msg}"
    code, _, err = cli("study", "show", db)
    assert code == 1 and err.strip() == f"error: '{db}' holds no study yet"
    study = search(db)                                   # starting it again works
    assert study.counts()["complete"] == 6
    study.close()


def test_the_second_creator_of_a_new_file_finds_the_schema_made(tmp_path, monkeypatch):
    db = tmp_path / "s.db"
    first = Storage(db)
    from nasl.study import storage_schema
    real = storage_schema._tables
    calls = []

    def stale_first_look(st):
        calls.append(1)
        return {} if len(calls) == 1 else real(st)      # it looked before the first creator committed
    monkeypatch.setattr(storage_schema, "_tables", stale_first_look)
    second = Storage(db)
    monkeypatch.undo()
    assert second.load_study() is None and len(calls) >= 2
    first.close()
    second.close()


RACE = """
import sys, time
from nasl.study.storage import Storage, StorageError
from nasl.study.locking import StudyLock, StudyLocked
start, files, held = float(sys.argv[1]), sys.argv[2:], []
for i, f in enumerate(files):
    time.sleep(max(0.0, start + 0.3 * i - time.time()))        # both processes open file i at the same instant
    try:
        held.append(StudyLock(Storage(f)))
        print("won", flush=True)
    except StudyLocked:
        print("lost", flush=True)
    except StorageError as e:
        print("error", e, flush=True)
sys.stdin.readline()               # hold the locks until the other process is done too
"""


@pytest.mark.slow
def test_two_processes_creating_one_file_at_the_same_instant(tmp_path):
    # before the fix, about one race in two ended in "not a nasl study file (UNIQUE constraint failed: meta.key)"
    files = [str(tmp_path / f"r{i}.db") for i in range(8)]
    start = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", RACE, str(start), *files], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
             for _ in range(2)]
    try:
        lines = [[p.stdout.readline().strip() for _ in files] for p in procs]
    finally:
        for p in procs:
            p.communicate("\n", timeout=60)
    for a, b in zip(*lines):
        assert sorted([a, b]) == ["lost", "won"], lines    # never "not a nasl study file (UNIQUE constraint ...)"
