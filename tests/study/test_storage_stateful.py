"""A stateful test of the study storage: searches that start, finish and fail trials, are killed, and resume.

Each rule runs one search session on one study file: in this process (to
its budget, or stopped by Ctrl-C in a trial), or in a forked child that is
killed with SIGKILL in the middle of its work: while a trial evaluates,
inside a write transaction (its statements run, its COMMIT not), or just
after a COMMIT. Sessions differ in workers, tell order and snapshot
interval. After every session the file is read (read-only, as ``nasl study
show`` does) and must hold every trial exactly once: numbered 0..N-1, each
with the architecture the seed gives it (the random searcher's sequence
does not depend on the tells), each finished one with its planned outcome,
and none lost, rewritten or evaluated again once finished.
``NASL_STATEFUL_EXAMPLES`` sets the number of examples (default 20).
"""
from __future__ import annotations

import os
import signal
import traceback

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import nasl
from nasl.study import SearchInterrupted
from nasl.study.study import Study
from tests.study.study_fuzz import SPACE, fast_tmpdir

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="kills forked children")
SEED = 11
MAX_TRIALS = 30                 # the space has 36 architectures; the random searcher never repeats one


def score(arch) -> float:
    values = nasl.Architecture(arch).canonical().values()
    return float(sum((i + 1) * len(str(v)) for i, v in enumerate(values)))


class Planned:
    """Scores a trial, or fails it when its number is in ``fail``; logs every evaluation to ``log``.

    ``die_at``: SIGKILL this process while evaluating that trial number;
    ``interrupt_at``: raise KeyboardInterrupt there (Ctrl-C).
    """

    directions = {"score": "max"}

    def __init__(self, log, fail, die_at=None, interrupt_at=None):
        self.log, self.fail, self.die_at, self.interrupt_at = log, frozenset(fail), die_at, interrupt_at

    def __call__(self, request):
        with open(self.log, "a") as f:
            f.write(f"{request.number}\n")
        if request.number == self.die_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if request.number == self.interrupt_at:
            raise KeyboardInterrupt
        if request.number in self.fail:
            raise RuntimeError(f"planned failure {request.number}")
        return {"score": score(request.arch)}


def reference_archs() -> list[str]:
    """The architecture ids of an uninterrupted study, in trial order."""
    study = nasl.search(SPACE, searcher="random", evaluator=Planned(os.devnull, ()), budget=MAX_TRIALS, seed=SEED,
                        progress=False)
    try:
        return [t.arch_id for t in study.trials]
    finally:
        study.close()


_REFERENCE: list = []


def kill_inside_transaction(index: int, after_commit: bool) -> None:
    """From now on in this (child) process: SIGKILL it in the middle of its ``index``-th write transaction."""
    from nasl.study.sqlite_io import Transaction
    count = [0]
    original = Transaction.__exit__

    def exit_(self, kind, value, tb):
        count[0] += 1
        if count[0] - 1 == index and kind is None:
            if not after_commit:
                os.kill(os.getpid(), signal.SIGKILL)        # the statements ran, the COMMIT never does
            original(self, kind, value, tb)
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, kind, value, tb)
    Transaction.__exit__ = exit_


class StudyMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        if not _REFERENCE:
            _REFERENCE.extend(reference_archs())
        self.dir = fast_tmpdir()
        self.db = os.path.join(self.dir.name, "s.db")
        self.log = os.path.join(self.dir.name, "evaluations.log")
        self.known: dict = {}           # number -> (state, metrics, error) of every trial seen finished
        self.evaluated_when_known: dict = {}
        self.max_workers = 1
        self.budget = 0
        self.before = (0, 0)            # (finished, all) trials before the last session
        self.clean_end = False          # the last session ran to its budget

    def teardown(self):
        self.dir.cleanup()

    # ------------------------------------------------------------ sessions
    def search(self, extra, workers, deterministic, snapshot_every, **plan):
        """Resume (or start) the study with ``extra`` more trials to finish; returns the Study."""
        self.before = self._counts()
        self.budget = min(MAX_TRIALS, max(self.budget, self.before[0]) + extra)
        self.max_workers = max(self.max_workers, workers)
        return nasl.search(SPACE, searcher="random", evaluator=Planned(self.log, self.fail, **plan),
                           budget=self.budget, storage=self.db, seed=SEED, resume=os.path.exists(self.db),
                           workers=workers,
                           deterministic=deterministic, snapshot_every=snapshot_every, progress=False)

    def _counts(self) -> tuple[int, int]:
        """(finished trials, all trials) in the file now."""
        if not os.path.exists(self.db):
            return 0, 0
        study = Study.load(self.db)
        try:
            c = study.counts()
            return c["complete"] + c["failed"] + c["pruned"], sum(c.values())
        finally:
            study.close()

    @initialize(fail=st.sets(st.integers(0, MAX_TRIALS - 1), max_size=8), extra=st.integers(1, 6))
    def start(self, fail, extra):
        self.fail = fail
        self.search(extra, 1, True, 100).close()
        self.clean_end = True

    @rule(extra=st.integers(1, 6), workers=st.integers(1, 3), deterministic=st.booleans(),
          snapshot_every=st.sampled_from([1, 3, 100]))
    def resume(self, extra, workers, deterministic, snapshot_every):
        self.search(extra, workers, deterministic, snapshot_every).close()
        self.clean_end = True

    @rule(extra=st.integers(1, 6), workers=st.integers(1, 3), at=st.integers(0, 5))
    def ctrl_c(self, extra, workers, at):
        try:
            self.search(extra, workers, True, 3, interrupt_at=self._counts()[1] + at).close()
            self.clean_end = True
        except SearchInterrupted as e:
            e.study.close()
            self.clean_end = False

    @rule(extra=st.integers(1, 6), workers=st.integers(1, 3), deterministic=st.booleans(),
          where=st.sampled_from(["evaluating", "before commit", "after commit"]), at=st.integers(0, 12))
    def kill(self, extra, workers, deterministic, where, at):
        finished, base = self._counts()
        err = os.path.join(self.dir.name, "child.err")
        self.max_workers = max(self.max_workers, workers)
        pid = os.fork()
        if pid == 0:                                      # the child: search until killed
            code = 0
            try:
                if where == "evaluating":
                    self.search(extra, workers, deterministic, 3, die_at=base + at % 6)
                else:
                    kill_inside_transaction(at, after_commit=where == "after commit")
                    self.search(extra, workers, deterministic, 3)
            except BaseException:  # noqa: BLE001 - report to the parent, never return into pytest
                with open(err, "w") as f:
                    f.write(traceback.format_exc())
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status):
            assert os.WEXITSTATUS(status) == 0, open(err).read()
            self.clean_end = True                         # the kill point lay past the session's work
            event("the child finished before its kill point")
        else:
            assert os.WTERMSIG(status) == signal.SIGKILL
            self.clean_end = False
            event(f"the child was killed {where}")
        self.before = (finished, base)
        self.budget = min(MAX_TRIALS, max(self.budget, finished) + extra)

    # ------------------------------------------------------------ what must hold
    @invariant()
    def every_trial_once_and_nothing_lost(self):
        if not os.path.exists(self.db):
            return
        study = Study.load(self.db)
        try:
            trials = study.trials
        finally:
            study.close()
        evaluations: dict = {}
        with open(self.log) as f:
            for line in f:
                evaluations[int(line)] = evaluations.get(int(line), 0) + 1
        assert [t.number for t in trials] == list(range(len(trials)))          # none lost, none twice
        assert [t.arch_id for t in trials] == _REFERENCE[:len(trials)]
        for t in trials:
            assert evaluations.get(t.number, 0) <= t.attempts
            if t.state == "running":
                assert t.number not in self.known, f"finished trial {t.number} is running again"
                continue
            outcome = (t.state, t.metrics, t.error)
            if t.number in self.fail:
                assert outcome == ("failed", None, f"RuntimeError: planned failure {t.number}")
            else:
                assert outcome == ("complete", {"score": score(t.arch)}, None)
            if t.number in self.known:
                assert self.known[t.number] == outcome
                assert evaluations[t.number] == self.evaluated_when_known[t.number], "a finished trial ran again"
            else:
                self.known[t.number] = outcome
                self.evaluated_when_known[t.number] = evaluations.get(t.number, 0)
        running = sum(t.state == "running" for t in trials)
        assert running <= self.max_workers
        if self.clean_end:
            # re-queued trials all run, so a session can end past its budget, never short of it
            assert running == 0 and len(trials) == max(self.budget, self.before[1])

    @precondition(lambda self: os.path.exists(self.db))
    @rule()
    def finish(self):
        """Resume to the budget: every trial, killed or not, ends once, with its planned outcome."""
        self.search(0, 2, True, 100).close()
        self.clean_end = True


# NASL_STATEFUL_EXAMPLES=500 for a longer hunt (the default takes a few seconds)
StudyMachine.TestCase.settings = settings(max_examples=int(os.environ.get("NASL_STATEFUL_EXAMPLES", "20")),
                                          stateful_step_count=10, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
test_storage_survives_random_kills_and_resumes = StudyMachine.TestCase
