"""The process executor: ``workers`` spawned processes, one trial each at a time.

``concurrent.futures.ProcessPoolExecutor`` breaks as a whole when one
worker dies, and cannot stop one hanging call. These workers are plain
``multiprocessing`` processes (start method ``spawn``: no forked torch or
sqlite state) talking over a pipe each, so the parent can

- kill the one worker whose trial ran past its timeout ("timed out after X s");
- notice a worker that died (``os._exit``, SIGKILL, a segfault, out of
  memory) and fail only its trial ("the worker process died: killed by SIGKILL");

and start a fresh worker in its place. The evaluator is pickled once per
worker; each trial sends only its :class:`~nasl.study.protocol.TrialRequest`.
Workers ignore SIGINT: on Ctrl-C the parent stops them, and a KeyboardInterrupt
that an evaluator raises in a worker fails its trial with that reason.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import time
from multiprocessing.connection import wait as mp_wait

from nasl.ir.errors import NaslError
from nasl.study.evaluators import run_trial
from nasl.study.runners import Runner, failed, interrupted_in_worker, timed_out


def _worker_main(conn, evaluator_bytes: bytes, objectives) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    evaluator = pickle.loads(evaluator_bytes)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        start = time.perf_counter()
        try:
            outcome = run_trial(evaluator, request, objectives)
        except KeyboardInterrupt as e:           # SIGINT is ignored here: the evaluator raised it
            outcome = failed(interrupted_in_worker(e), time.perf_counter() - start, f"pid {os.getpid()}")
        conn.send((request.trial_id, outcome))


def _death(exitcode) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"the worker process died: killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"the worker process died: killed by signal {-exitcode}"
    return f"the worker process died (exit code {exitcode})"


class _Worker:
    def __init__(self, ctx, evaluator_bytes, objectives):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, evaluator_bytes, objectives),
                                name="nasl-trial-worker", daemon=True)
        self.proc.start()
        child.close()
        self.trial = None          # (trial_id, started, deadline) while busy

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


class ProcessRunner(Runner):
    """Trials in ``workers`` spawned processes with a per-trial ``timeout`` (seconds)."""

    def __init__(self, evaluator, objectives, timeout=None, workers: int = 1):
        super().__init__(evaluator, objectives, timeout)
        self.workers = workers
        try:
            self._evaluator_bytes = pickle.dumps(evaluator)
        except Exception as e:  # noqa: BLE001 - pickle raises many kinds
            raise NaslError(f"executor='process' needs a picklable evaluator (define it at module level): "
                            f"{type(e).__name__}: {e}") from None
        self._ctx = mp.get_context("spawn")
        self.pool = [self._start() for _ in range(workers)]

    def _start(self) -> _Worker:
        return _Worker(self._ctx, self._evaluator_bytes, self.objectives)

    def submit(self, request) -> None:
        worker = next((w for w in self.pool if w.trial is None), None)
        if worker is None:
            raise RuntimeError("all workers are busy")      # the loop never over-submits
        if not worker.proc.is_alive():                      # it died while idle: not this trial's fault
            worker = self._replace(worker)
        now = time.monotonic()
        worker.trial = (request.trial_id, now, now + self.timeout if self.timeout else None)
        try:
            worker.conn.send(request)
        except (BrokenPipeError, OSError):
            pass          # it died idle; wait() reports the death against this trial

    def _replace(self, worker: _Worker) -> _Worker:
        worker.kill()
        fresh = self._start()
        self.pool[self.pool.index(worker)] = fresh
        return fresh

    def wait(self):
        while True:
            busy = [w for w in self.pool if w.trial is not None]
            if not busy:
                return []
            deadlines = [w.trial[2] for w in busy if w.trial[2] is not None]
            wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            ready = set(mp_wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=wait_s))
            out, now = [], time.monotonic()
            for w in busy:
                trial_id, started, deadline = w.trial
                if w.conn in ready or w.proc.sentinel in ready:
                    try:
                        # a result sent just before the process ended is still in the pipe
                        if w.conn.poll():
                            got_id, outcome = w.conn.recv()
                            w.trial = None
                            out.append((got_id, outcome))
                            continue
                    except (EOFError, OSError):
                        pass
                    if w.proc.is_alive() and w.proc.sentinel not in ready:
                        continue
                    w.proc.join(timeout=5)
                    out.append((trial_id, failed(_death(w.proc.exitcode), now - started, f"pid {w.proc.pid}")))
                    self._replace(w)
                elif deadline is not None and now >= deadline:
                    out.append((trial_id, failed(timed_out(self.timeout), now - started, f"pid {w.proc.pid}")))
                    self._replace(w)
            if out:
                return out

    def close(self) -> None:
        for w in self.pool:
            if w.trial is None and w.proc.is_alive():
                try:
                    w.conn.send(None)          # a clean exit for idle workers
                except OSError:
                    pass
        for w in self.pool:
            w.proc.join(timeout=0.5 if w.trial is None else 0)
            w.kill()
        self.pool = []


def make_process_runner(evaluator, objectives, *, timeout=None, workers=1, **options):
    """The executor ``process`` (registered in :mod:`nasl.study.runners`)."""
    return ProcessRunner(evaluator, objectives, timeout, workers=workers)
