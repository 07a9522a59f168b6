"""The Ray executor: each trial is a Ray task that rebuilds the space from its request.

``ray.init()`` runs here unless the caller has already connected: a local
cluster, or ``address=`` ("auto", "ray://host:10001", ...). Each task asks
for ``resources`` (default ``{"num_cpus": 1}``; add ``num_gpus`` for
training on GPUs). The evaluator is put in the object store once; a task
receives it with the :class:`~nasl.study.protocol.TrialRequest`, whose
space source and architecture JSON are all a node needs: no module is ever
pickled.

A task past its timeout is cancelled with ``force=True`` (its worker
process is killed) and fails; a task whose worker dies fails with Ray's
reason. Ray retries neither (``max_retries=0``): a trial is evaluated once.
"""
from __future__ import annotations

import os
import time

from nasl.ir.errors import NaslError
from nasl.study.evaluators import run_trial
from nasl.study.runners import Runner, failed, timed_out
from nasl.study.settings import resources as check_resources


def _ray_trial(evaluator, request, objectives):
    return run_trial(evaluator, request, objectives)


def _nasl_root() -> str:
    import nasl
    return os.path.dirname(os.path.dirname(os.path.abspath(nasl.__file__)))


class RayRunner(Runner):
    """Trials as Ray tasks, ``workers`` in flight, each with ``resources``."""

    def __init__(self, evaluator, objectives, timeout=None, workers: int = 1, address=None, resources=None):
        super().__init__(evaluator, objectives, timeout)
        opts = check_resources(resources) or {"num_cpus": 1}
        try:
            import ray
        except ImportError:
            raise NaslError("executor='ray' needs Ray: pip install 'nasl[ray]'") from None
        self.ray, self.workers = ray, workers
        if not ray.is_initialized():
            # workers import nasl from the same place as this process (a checkout, too)
            path = os.pathsep.join(p for p in (_nasl_root(), os.environ.get("PYTHONPATH")) if p)
            kw = {"address": address} if address else {}
            ray.init(**kw, runtime_env={"env_vars": {"PYTHONPATH": path}}, log_to_driver=False,
                     include_dashboard=False, ignore_reinit_error=True)
        self._remote = ray.remote(max_retries=0, **opts)(_ray_trial)
        try:
            self._evaluator_ref = ray.put(evaluator)
        except Exception as e:  # noqa: BLE001 - serialization errors come in many kinds
            raise NaslError(f"executor='ray' needs a serializable evaluator: {type(e).__name__}: {e}") from None
        self.refs: dict = {}              # ObjectRef -> (trial_id, started, deadline)

    def submit(self, request) -> None:
        ref = self._remote.remote(self._evaluator_ref, request, self.objectives)
        now = time.monotonic()
        self.refs[ref] = (request.trial_id, now, now + self.timeout if self.timeout else None)

    def wait(self):
        ray = self.ray
        while self.refs:
            deadlines = [d for _, _, d in self.refs.values() if d is not None]
            wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            ready, _ = ray.wait(list(self.refs), num_returns=1, timeout=wait_s)
            if ready:
                # collect whatever else finished too, without waiting
                ready, _ = ray.wait(list(self.refs), num_returns=len(self.refs), timeout=0)
            out, now = [], time.monotonic()
            for ref in ready:
                trial_id, started, _ = self.refs.pop(ref)
                try:
                    out.append((trial_id, ray.get(ref)))
                except Exception as e:  # noqa: BLE001 - WorkerCrashedError, RayTaskError, ...
                    out.append((trial_id, failed(f"the Ray task failed: {type(e).__name__}: {e}",
                                                 now - started, "ray")))
            for ref, (trial_id, started, deadline) in list(self.refs.items()):
                if deadline is not None and now >= deadline:
                    ray.cancel(ref, force=True)
                    del self.refs[ref]
                    out.append((trial_id, failed(timed_out(self.timeout), now - started, "ray")))
            if out:
                return out
        return []

    def close(self) -> None:
        for ref in self.refs:
            try:
                self.ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        self.refs.clear()


def make_ray_runner(evaluator, objectives, *, timeout=None, workers=1, ray_address=None, resources=None, **options):
    """The executor ``ray`` (registered in :mod:`nasl.study.runners`)."""
    return RayRunner(evaluator, objectives, timeout, workers=workers, address=ray_address, resources=resources)
