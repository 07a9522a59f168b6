"""Crash safety: SIGKILL part-way and resume; Ctrl-C; nothing lost, nothing evaluated twice."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

import nasl
from nasl.study import SearchInterrupted
from tests.study.helpers import NB201, OPTIONS, ROOT, trial_rows

BUDGET = 150


def reference(budget=BUDGET, **kw):
    return nasl.search(NB201, evaluator="python:tests.study.helpers:lookup", budget=budget, seed=3,
                       searcher_options=OPTIONS, progress=False, **kw)


def complete_in(db) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("SELECT count(*) FROM trials WHERE state = 'complete'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    db = tmp_path / "killed.db"
    cmd = [sys.executable, "-m", "nasl.cli", "search", str(NB201), "--evaluator",
           "python:tests.study.helpers:slow_lookup", "--budget", str(BUDGET), "--seed", "3", "--study", str(db),
           "-O", "population_size=10", "-O", "sample_size=3", "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while complete_in(db) < 40 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    done_before = complete_in(db)
    assert 40 <= done_before < BUDGET

    # the killed run's lock is taken over, its running trial re-queued, and the study finished
    resumed = nasl.search(None, evaluator="python:tests.study.helpers:lookup", storage=db, resume=True,
                          progress=False)
    trials = resumed.trials
    assert len(trials) == BUDGET
    assert [t.number for t in trials] == list(range(BUDGET))
    assert all(t.state == "complete" for t in trials)
    # trials finished before the kill were not evaluated again
    assert sum(t.attempts for t in trials) <= BUDGET + 1
    assert trial_rows(resumed) == trial_rows(reference())


def test_resume_with_a_larger_budget_continues_the_same_sequence(tmp_path):
    db = tmp_path / "s.db"
    reference(60, storage=db)
    more = nasl.search(None, evaluator="python:tests.study.helpers:lookup", storage=db, resume=True, budget=100,
                       progress=False)
    assert trial_rows(more) == trial_rows(reference(100))


class Interrupting:
    """Looks trials up, but trial ``at`` raises KeyboardInterrupt (once)."""

    directions = {"CIFAR10TestAccuracy200Epochs": "max"}

    def __init__(self, at):
        self.at, self.fired = at, False

    def __call__(self, request):
        from tests.study.helpers import lookup
        if request.number == self.at and not self.fired:
            self.fired = True
            raise KeyboardInterrupt
        return lookup(request)


@pytest.mark.parametrize("workers", [1, 3])
def test_ctrl_c_keeps_finished_trials_and_resume_completes(tmp_path, workers):
    db = tmp_path / "s.db"
    ev = Interrupting(at=37)
    with pytest.raises(SearchInterrupted) as info:
        nasl.search(NB201, evaluator=ev, budget=BUDGET, seed=3, searcher_options=OPTIONS, storage=db,
                    workers=workers, progress=False)
    assert "resume with: nasl search --study" in str(info.value)
    kept = info.value.study.counts()
    assert kept["complete"] == 37 and kept["running"] == workers
    done = nasl.search(None, evaluator=ev, storage=db, resume=True, workers=workers, progress=False)
    assert trial_rows(done) == trial_rows(reference(workers=workers))


def test_a_study_file_is_not_reused_without_resume(tmp_path):
    db = tmp_path / "s.db"
    reference(5, storage=db)
    with pytest.raises(nasl.NaslError, match=r"already holds a study \(5 trials\); pass resume=True"):
        reference(5, storage=db)
    with pytest.raises(nasl.NaslError, match="seed 4 differs from the study's 3"):
        nasl.search(None, evaluator="python:tests.study.helpers:lookup", storage=db, resume=True, seed=4,
                    progress=False)


def test_a_real_ctrl_c_stops_the_process_pool_cleanly_and_resume_completes(tmp_path):
    db = tmp_path / "int.db"
    cmd = [sys.executable, "-m", "nasl.cli", "search", str(NB201), "--evaluator",
           "python:tests.study.helpers:slow_lookup", "--budget", "60", "--seed", "3", "--study", str(db),
           "-O", "population_size=10", "-O", "sample_size=3", "--no-progress", "--executor", "process",
           "--workers", "2"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # its own process group, which Ctrl-C in a terminal signals as a whole (workers included)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while complete_in(db) < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted: " in err and f"resume with: nasl search --study {db} --resume" in err
    assert "Traceback" not in err
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM lock").fetchone()[0] == 0          # released
        assert c.execute("SELECT count(*) FROM trials WHERE state='running'").fetchone()[0] <= 2
    done = nasl.search(None, evaluator="python:tests.study.helpers:lookup", storage=db, resume=True,
                       executor="process", workers=2, progress=False)
    assert trial_rows(done) == trial_rows(reference(60, workers=2))


def test_resuming_a_missing_study_is_an_error_and_creates_no_file(tmp_path, capsys):
    db = tmp_path / "missing.db"
    with pytest.raises(nasl.NaslError, match=f"no study to resume: there is no file '{db}'"):
        nasl.search(None, storage=db, resume=True, progress=False)
    with pytest.raises(nasl.NaslError, match="no study to resume: storage=None keeps a study in memory"):
        nasl.search(NB201, budget=2, resume=True, progress=False)
    from nasl.cli import main
    assert main(["search", "--study", str(db), "--resume", "--no-progress"]) == 1      # not a new digits study
    assert capsys.readouterr().err == (f"error: no study to resume: there is no file '{db}'; leave out --resume "
                                       f"to start one\n")
    assert list(tmp_path.iterdir()) == []


def test_a_file_whose_start_was_cut_off_says_so_on_resume(tmp_path):
    from nasl.study.storage import Storage
    Storage(tmp_path / "s.db").close()               # the schema, no study row: killed during start-up
    with pytest.raises(nasl.NaslError, match="holds no study yet"):
        nasl.search(None, storage=tmp_path / "s.db", resume=True, progress=False)


def test_resume_reuses_the_recorded_executor_and_workers(tmp_path):
    db = tmp_path / "s.db"
    reference(12, storage=db, executor="process", workers=2)
    more = nasl.search(None, evaluator="python:tests.study.helpers:lookup", storage=db, resume=True, budget=20,
                       progress=False)
    assert trial_rows(more) == trial_rows(reference(20, workers=2))        # the interleaving of 2 workers
    assert all(t.worker != f"pid {os.getpid()}" for t in more.trials)     # every trial ran in a worker process
    with sqlite3.connect(db) as c:
        assert dict(c.execute("SELECT key, value FROM meta WHERE key IN ('executor', 'workers', 'deterministic')")) \
            == {"executor": '"process"', "workers": "2", "deterministic": "true"}
    # given again, other settings win, and are what the next resume reuses
    nasl.search(None, evaluator="python:tests.study.helpers:lookup", storage=db, resume=True, budget=22, workers=3,
                executor="inline", progress=False)
    with sqlite3.connect(db) as c:
        assert dict(c.execute("SELECT key, value FROM meta WHERE key IN ('executor', 'workers')")) \
            == {"executor": '"inline"', "workers": "3"}


def test_a_file_from_before_the_run_settings_were_recorded_resumes_inline_with_one_worker(tmp_path):
    db = tmp_path / "s.db"
    reference(30, storage=db, workers=1)
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM meta WHERE key IN ('executor', 'workers', 'deterministic')")
    more = nasl.search(None, evaluator="python:tests.study.helpers:lookup", storage=db, resume=True, budget=50,
                       progress=False)
    assert trial_rows(more) == trial_rows(reference(50))
    with sqlite3.connect(db) as c:
        c.execute("UPDATE meta SET value = '\"many\"' WHERE key = 'workers'")
    with pytest.raises(nasl.NaslError, match="records a bad workers .workers must be a whole number, not 'many'"):
        nasl.search(None, evaluator="python:tests.study.helpers:lookup", storage=db, resume=True, budget=51,
                    progress=False)
