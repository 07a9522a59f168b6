"""The checks of ``nasl.search``'s run options, and the run settings a study records.

Every option is checked before the study file is created, so a bad one is a
one-line :class:`~nasl.ir.errors.NaslError` and leaves no file behind.
Integers that the study file stores (budget, seed) must fit SQLite's signed
64 bits.

A study records how it ran (``executor``, ``workers``, ``deterministic``)
in its ``meta`` table: a resume that is not given them reuses them, so it
runs as fast as the first run and, with ``workers``, in the same
interleaving. Files written before these were recorded resume inline with
one worker, as they always did.
"""
from __future__ import annotations

import concurrent.futures as cf
import math
import numbers

from nasl.ir.errors import NaslError

SQLITE_MAX = 2 ** 63 - 1
MAX_TIMEOUT = 1e8                # seconds; setitimer overflows not far above
RAY_RESOURCES = ("num_cpus", "num_gpus", "memory", "resources", "accelerator_type")
RECORDED = {"executor": "inline", "workers": 1, "deterministic": True}   # the defaults, also for old files


def integer(name: str, value, low: int, high: int = SQLITE_MAX) -> int:
    """``value`` as an int in ``[low, high]`` (an integral float passes); NaslError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            (not isinstance(value, numbers.Integral) and not (math.isfinite(value) and float(value).is_integer())):
        raise NaslError(f"{name} must be a whole number, not {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise NaslError(f"{name} must be between {low} and {high}, not {value}")
    return value


def timeout(value) -> float | None:
    """None, or a positive, finite number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not (0 < value <= MAX_TIMEOUT):                # also refuses NaN
        raise NaslError(f"timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, not {value!r}")
    return float(value)


def resources(value) -> dict | None:
    """Ray's per-trial resources: known names, non-negative finite amounts."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise NaslError(f"resources is a dict such as {{'num_cpus': 1, 'num_gpus': 1}}, not {value!r}")
    bad = sorted(set(value) - set(RAY_RESOURCES))
    if bad:
        raise NaslError(f"unknown Ray resources {bad}; use {', '.join(RAY_RESOURCES[:-1])} or accelerator_type")
    amounts = [(k, v) for k, v in value.items() if k in ("num_cpus", "num_gpus", "memory")]
    amounts += [(f"resources[{k!r}]", v) for k, v in (value.get("resources") or {}).items()]
    for name, v in amounts:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (math.isfinite(v) and v >= 0):
            raise NaslError(f"Ray resource {name} must be a number >= 0, not {v!r}")
    return dict(value)


def executor(value):
    """A registered executor's name (:data:`nasl.study.runners.EXECUTORS`), a ``concurrent.futures.Executor``
    or None (the recorded one)."""
    from nasl.study.runners import EXECUTORS, executor_names
    if value is None or isinstance(value, cf.Executor) or (isinstance(value, str) and value in EXECUTORS):
        return value
    names = ", ".join(f"'{n}'" for n in executor_names())
    raise NaslError(f"unknown executor {value!r}; expected {names} or a concurrent.futures.Executor")


def workers(value) -> int | None:
    return None if value is None else integer("workers", value, 1, 100_000)


def deterministic(value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise NaslError(f"deterministic is True, False or None (the recorded one), not {value!r}")


def for_run(store, executor_, workers_, deterministic_) -> dict:
    """This run's executor, workers and deterministic: those given, else the study's recorded ones."""
    given = {"executor": executor_, "workers": workers_, "deterministic": deterministic_}
    checks = {"executor": executor, "workers": workers, "deterministic": deterministic}
    run = {}
    for key, value in given.items():
        if value is None and store is not None:
            try:
                value = checks[key](store.meta(key, RECORDED[key]))
            except NaslError as e:
                raise NaslError(f"'{store.path}' records a bad {key} ({e.message}); give {key} explicitly") \
                    from None
        run[key] = RECORDED[key] if value is None else value
    return run


def to_record(run: dict) -> dict:
    """What :func:`for_run` reads back: an Executor object is not recorded (a resume needs it again)."""
    out = {k: v for k, v in run.items() if k != "executor"}
    if isinstance(run["executor"], str):
        out["executor"] = run["executor"]
    return out
