"""The study lock: stale heartbeats and reused pids are taken over, a live owner is refused, --force, fencing."""
from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

import nasl
from nasl.cli import main
from nasl.study.locking import STALE_S, StudyLock, StudyLocked, owner_gone, process_start
from nasl.study.storage import LockLost, Storage
from tests.study.helpers import ROOT
from tests.study.test_study_file import search

HOST = socket.gethostname()
DAY = 27 * 3600.0


def set_lock(db, pid, host=HOST, started=None, heartbeat=None):
    now = time.time()
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as c:
        c.execute("INSERT OR REPLACE INTO lock VALUES (1, ?, ?, ?, ?)",
                  (pid, host, now if started is None else started, now if heartbeat is None else heartbeat))


@pytest.fixture()
def sleeper():
    """A live process that is not a nasl study owner (a pid that someone else's lock might name)."""
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    time.sleep(0.05)
    yield p
    p.kill()
    p.wait()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_process_start_is_when_the_process_started(sleeper):
    start = process_start(sleeper.pid)
    assert start is not None and abs(start - time.time()) < 30
    assert process_start(os.getpid()) <= start + 1.0 and process_start(2 ** 30) is None


def test_a_27_hour_old_heartbeat_of_pid_1_is_taken_over(tmp_path):
    # the container case: pid 1 is alive (it is init, or this container's first process), the lock is a day old
    s = Storage(tmp_path / "s.db")
    set_lock(s.path, 1, started=time.time() - DAY, heartbeat=time.time() - DAY)
    lock = StudyLock(s)
    assert lock.took_over == (1, HOST)
    assert lock.note == f"note: taking over the study from process 1 on {HOST}: its last heartbeat was 27 h ago"
    lock.release()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_a_reused_pid_with_a_fresh_heartbeat_is_taken_over(tmp_path, sleeper):
    # the lock was taken before the process with that pid started (a reboot, a new container): not its owner
    s = Storage(tmp_path / "s.db")
    set_lock(s.path, sleeper.pid, started=time.time() - 600)
    lock = StudyLock(s)
    assert lock.took_over == (sleeper.pid, HOST) and "the pid was reused" in lock.note
    lock.release()


def test_a_live_owner_with_a_stale_heartbeat_is_taken_over(tmp_path, sleeper):
    s = Storage(tmp_path / "s.db")
    set_lock(s.path, sleeper.pid, heartbeat=time.time() - STALE_S - 5)
    lock = StudyLock(s)
    assert re.search(r"its last heartbeat was 6\d s ago$", lock.note), lock.note
    lock.release()


def test_owner_gone_on_another_host_needs_a_stale_heartbeat():
    now = time.time()
    assert owner_gone(1, "elsewhere", now - DAY, now - 5, here=HOST, now=now) is None
    assert owner_gone(1, "elsewhere", now - DAY, now - 2 * STALE_S, here=HOST, now=now).startswith("its last")
    assert owner_gone(999999999, HOST, now, now, here=HOST, now=now) == "no such process runs any more"


HOLD = """
import sys, time
from nasl.study.storage import Storage, StorageError
from nasl.study.locking import StudyLock
s = Storage(sys.argv[1])
lock = StudyLock(s)
print("locked", flush=True)
sys.stdin.readline()                          # the test took the study over meanwhile
try:
    s.set_budget(99)
    print("wrote", flush=True)
except StorageError as e:
    print(type(e).__name__, e, flush=True)
"""


def test_a_live_owner_is_refused_and_force_takes_it_over_and_fences_it(tmp_path):
    db = tmp_path / "s.db"
    search(db).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StudyLocked) as info:
            search(db, budget=8, resume=True)
        msg = str(info.value)
        assert f"is in use by process {holder.pid} on {HOST} (since " in msg
        assert re.search(r", last heartbeat \d s ago\); ", msg), msg
        assert msg.endswith("stop that process or wait for it to finish (if it is not running this study, "
                            "--force or force=True takes it over)")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            study = search(db, budget=8, resume=True, force=True)
        assert re.fullmatch(f"warning: --force: taking over the study from process {holder.pid} on {re.escape(HOST)}, whose "
                            f"last heartbeat was \\d s ago; if it still runs this study, it stops at its next "
                            f"write\n", err.getvalue()), err.getvalue()
        assert study.counts()["complete"] == 8
        study.close()
        out, _ = holder.communicate("go\n", timeout=30)
    finally:
        holder.kill()
        holder.wait()
    assert out.startswith("LockLost error: the study ") and "was taken over by another process" in out
    with contextlib.closing(sqlite3.connect(db)) as c:
        assert c.execute("SELECT budget FROM study").fetchone()[0] == 8      # the old owner wrote nothing


def test_a_process_whose_study_was_taken_over_stops_at_its_next_write(tmp_path):
    s = Storage(tmp_path / "s.db")
    lock = StudyLock(s)
    s.add_trial(0, "{}", "a", None, 0, 0)
    set_lock(s.path, 4242, host="other-host")                 # someone took it over (stale heartbeat, --force)
    with pytest.raises(LockLost, match="was taken over by process 4242 on other-host while this one ran it"):
        s.add_trial(1, "{}", "b", None, 0, 1)
    assert not s.conn.in_transaction and [r["number"] for r in s.trials()] == [0]
    lock.release()
    assert s.conn.execute("SELECT pid FROM lock").fetchone()[0] == 4242     # release leaves the new owner's row


def test_a_damaged_lock_row_is_taken_over(tmp_path):
    s = Storage(tmp_path / "s.db")
    set_lock(s.path, "x")
    lock = StudyLock(s)
    assert lock.note.endswith("its lock row is damaged")
    lock.release()


def test_force_on_the_command_line(tmp_path):
    db = tmp_path / "s.db"
    search(db).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ["search", "--study", db, "--resume", "--budget", 7, "--no-progress",
                "--evaluator", "python:tests.study.test_study_file:score"]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            refused = main([str(a) for a in args])
            forced = main([str(a) for a in args + ["--force"]])
    finally:
        holder.kill()
        holder.wait()
    lines = err.getvalue().strip().splitlines()
    assert refused == 1 and lines[0].startswith("error: the study ") and "--force" in lines[0]
    assert forced == 0 and lines[1].startswith("warning: --force: taking over the study from process")
    assert out.getvalue().startswith(f"study {db}: 7 complete")
    assert nasl.Study.load(db).counts()["complete"] == 7
