"""Where trials run: the runner interface, inline, and any ``concurrent.futures.Executor``.

A runner takes :class:`~nasl.study.protocol.TrialRequest` s with
:meth:`Runner.submit` and hands back outcomes with :meth:`Runner.wait`:
``(trial_id, outcome)`` pairs, where an outcome is the plain dict of
:func:`~nasl.study.evaluators.run_trial`. Timeouts and crashed workers
become failed outcomes with the reason; they never stop the study.
"""
from __future__ import annotations

import concurrent.futures as cf
import time

from nasl.ir.errors import NaslError
from nasl.registry import Registry
from nasl.study import inline_timeout
from nasl.study.evaluators import failure_text, run_trial


def failed(reason: str, duration=None, worker=None) -> dict:
    return {"state": "failed", "metrics": None, "curve": None, "error": reason, "duration": duration,
            "worker": worker}


def timed_out(timeout: float) -> str:
    return f"timed out after {timeout:g} s"


def interrupted_in_worker(e: BaseException) -> str:
    """The reason of a trial whose evaluator raised KeyboardInterrupt in a worker (not a Ctrl-C of nasl)."""
    return "KeyboardInterrupt raised by the evaluator in its worker" + (f": {e}" if str(e) else "")


class Runner:
    """Runs trials of one evaluator; ``workers`` of them at a time."""

    workers = 1

    def __init__(self, evaluator, objectives, timeout: float | None = None):
        self.evaluator, self.objectives, self.timeout = evaluator, list(objectives), timeout

    def submit(self, request) -> None:
        raise NotImplementedError

    def wait(self) -> list[tuple[int, dict]]:
        """Block until at least one submitted trial has an outcome; return all that have."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop: abandon whatever is still running."""


class InlineRunner(Runner):
    """Trials run one by one in this process, oldest first.

    ``workers=K`` keeps K trials submitted, exactly as a pool would, so that
    the searcher sees the same asks and tells as under a pool of K workers.
    A timeout interrupts the trial with ``SIGALRM`` (main thread, Unix only)
    at a safe point (:mod:`nasl.study.inline_timeout`): never inside an
    import or nasl's bookkeeping, between steps for nasl's trainer, and not
    inside a long call of a C extension. A hard timeout needs the process
    executor. Before the first timed trial the evaluator's optional
    ``warm_up()`` runs untimed, so trial 0 is not charged for lazy imports.
    """

    def __init__(self, evaluator, objectives, timeout=None, workers: int = 1):
        super().__init__(evaluator, objectives, timeout)
        self.workers = workers
        self.queue: list = []
        self._warm = False

    def submit(self, request) -> None:
        self.queue.append(request)

    def wait(self):
        self.queue.sort(key=lambda r: r.number)
        request = self.queue.pop(0)
        if not self.timeout or not inline_timeout.available():
            return [(request.trial_id, run_trial(self.evaluator, request, self.objectives))]
        self._warm_up()
        start = time.perf_counter()
        try:
            with inline_timeout.armed(self.timeout):
                outcome = run_trial(self.evaluator, request, self.objectives)
        except inline_timeout.TrialTimeout:
            outcome = failed(timed_out(self.timeout), time.perf_counter() - start, "inline")
        return [(request.trial_id, outcome)]

    def _warm_up(self) -> None:
        if self._warm:
            return
        self._warm = True
        warm_up = getattr(self.evaluator, "warm_up", None)
        if callable(warm_up):
            try:
                warm_up()
            except Exception:  # noqa: BLE001 - the trial itself reports whatever is wrong
                pass


class ExecutorRunner(Runner):
    """Trials run on a user's ``concurrent.futures.Executor`` (threads, processes, Dask, ...).

    The executor belongs to the user: it is not shut down. A trial past its
    timeout is failed and its future cancelled; an executor cannot stop a
    call that has started, so the call may run on in the background. When a
    process pool breaks (a worker died), the trials it held fail with the
    reason, and the search stops with an error since the pool takes no more work.
    """

    def __init__(self, evaluator, objectives, timeout=None, executor=None, workers: int = 1):
        super().__init__(evaluator, objectives, timeout)
        self.executor, self.workers = executor, workers
        self.futures: dict = {}            # future -> (trial_id, deadline)

    def submit(self, request) -> None:
        try:
            fut = self.executor.submit(run_trial, self.evaluator, request, self.objectives)
        except cf.BrokenExecutor as e:
            raise NaslError(f"the executor is broken and takes no more trials: {e}") from None
        deadline = time.monotonic() + self.timeout if self.timeout else None
        self.futures[fut] = (request.trial_id, deadline)

    def wait(self):
        while True:
            deadlines = [d for _, d in self.futures.values() if d is not None]
            wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            done, _ = cf.wait(list(self.futures), timeout=wait_s, return_when=cf.FIRST_COMPLETED)
            out = []
            for fut in done:
                trial_id, _ = self.futures.pop(fut)
                try:
                    if isinstance(fut.exception(timeout=0), KeyboardInterrupt):
                        # the evaluator raised it in a worker: a real Ctrl-C reaches only this thread
                        out.append((trial_id, failed(interrupted_in_worker(fut.exception()))))
                        continue
                    out.append((trial_id, fut.result()))
                except cf.BrokenExecutor as e:
                    out.append((trial_id, failed(f"the worker died: {e}")))
                except cf.CancelledError:
                    out.append((trial_id, failed("cancelled")))
                except Exception as e:  # noqa: BLE001 - e.g. the evaluator did not pickle
                    out.append((trial_id, failed(failure_text(e))))
            now = time.monotonic()
            for fut, (trial_id, deadline) in list(self.futures.items()):
                if deadline is not None and now >= deadline:
                    fut.cancel()
                    del self.futures[fut]
                    out.append((trial_id, failed(timed_out(self.timeout), self.timeout)))
            if out:
                return out

    def close(self) -> None:
        for fut in self.futures:
            fut.cancel()
        self.futures.clear()


# executor name -> make(evaluator, objectives, *, timeout, workers, **options) -> Runner; the meta
# ``check(evaluator)`` refuses, before a study file is created, an evaluator it cannot carry. A
# plug-in adds one through the entry-point group ``nasl.executors``.
EXECUTORS = Registry("executor", "nasl.executors")


def register_executor(name: str, make=None, *, check=None, doc: str = "", replace: bool = False):
    """Make ``make(evaluator, objectives, *, timeout, workers, **options) -> Runner`` the executor
    ``name`` (``nasl.search(executor=name)``, ``nasl search --executor name``). ``options`` are
    ``ray_address`` and ``resources`` (Ray's), which other executors ignore. Without ``make``: a decorator."""
    if make is None:
        return lambda fn: register_executor(name, fn, check=check, doc=doc, replace=replace)
    EXECUTORS.register(name, make, replace=replace, check=check, doc=doc)
    return make


def executor_names() -> list[str]:
    """The executors in registration order (inline, process, ray, then plug-ins)."""
    return EXECUTORS.keys()


def _pickles(evaluator) -> None:
    import pickle
    try:
        pickle.dumps(evaluator)
    except Exception as e:  # noqa: BLE001 - pickle raises many kinds
        raise NaslError(f"executor='process' needs a picklable evaluator (define it at module level): "
                        f"{type(e).__name__}: {e}") from None


def _has_ray(evaluator) -> None:
    import importlib.util
    if importlib.util.find_spec("ray") is None:
        raise NaslError("executor='ray' needs Ray: pip install 'nasl[ray]'")


@register_executor("inline", doc="in this process, one trial at a time (or interleaved with workers)")
def _inline(evaluator, objectives, *, timeout=None, workers=1, **options):
    return InlineRunner(evaluator, objectives, timeout, workers=workers)


# lazy entries: the pool and Ray modules import this one (Runner), not the other way round
register_executor("process", "nasl.study.process_pool:make_process_runner", check=_pickles,
                  doc="a pool of worker processes")
register_executor("ray", "nasl.study.ray_runner:make_ray_runner", check=_has_ray,
                  doc="Ray tasks, locally or on a cluster (ray_address, resources)")


def _unknown(executor) -> NaslError:
    names = ", ".join(f"'{n}'" for n in executor_names())
    return NaslError(f"unknown executor {executor!r}; expected {names} or a concurrent.futures.Executor")


def check_executor(executor, evaluator) -> None:
    """Refuse, before a study file is created, an evaluator that the executor cannot carry."""
    if isinstance(executor, str):
        if executor not in EXECUTORS:
            raise _unknown(executor)
        check = EXECUTORS.entry(executor).meta.get("check")
        if check is not None:
            check(evaluator)


def make_runner(executor, evaluator, objectives, *, workers: int = 1, timeout=None, ray_address=None,
                resources=None) -> Runner:
    """The runner for an ``executor`` name (see :data:`EXECUTORS`) or Executor object."""
    if workers < 1:
        raise NaslError(f"workers must be at least 1, not {workers}")
    if isinstance(executor, cf.Executor):
        return ExecutorRunner(evaluator, objectives, timeout, executor=executor, workers=workers)
    make = EXECUTORS.find(executor) if isinstance(executor, str) else None
    if make is None:
        raise _unknown(executor)
    return make(evaluator, objectives, timeout=timeout, workers=workers, ray_address=ray_address,
                resources=resources)
