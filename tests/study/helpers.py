"""Evaluators for the study tests: table lookups that are slow, fail, give NaN, hang or kill their worker.

They are module-level functions, so ``python:tests.study.helpers:NAME``
finds them in worker processes too.
"""
from __future__ import annotations

import os
import pathlib
import signal
import time

from nasl.data import NB201_TABLE

ROOT = pathlib.Path(__file__).resolve().parents[2]
# the NAS-Bench-201 table bundled with the package (gzip); TABLE reads it through table:PATH
CSV = pathlib.Path(NB201_TABLE)
NB201 = ROOT / "examples" / "nas_bench_201.nas"
COLUMN = "CIFAR10TestAccuracy200Epochs"
TABLE = f"table:{CSV}:{COLUMN}"
OPTIONS = {"population_size": 10, "sample_size": 3}
DIRECTIONS = {COLUMN: "max"}

_table = None


def lookup(request) -> dict:
    global _table
    if _table is None:
        from nasl.study.table import TableEvaluator
        _table = TableEvaluator(CSV, COLUMN, extra=[])
    return _table(request)


lookup.directions = DIRECTIONS


def slow_lookup(request) -> dict:
    time.sleep(0.01)
    return lookup(request)


slow_lookup.directions = DIRECTIONS


def troubled(request) -> dict:
    """Trial 1 raises, 2 returns NaN, 3 hangs, 4 kills its own process (SIGKILL); the rest look up."""
    if request.number == 1:
        raise RuntimeError("the GPU caught fire")
    if request.number == 2:
        return {COLUMN: float("nan")}
    if request.number == 3:
        time.sleep(120)
    if request.number == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    return lookup(request)


troubled.directions = DIRECTIONS


def exits(request) -> dict:
    """Trial 2 leaves with os._exit (a worker crash that raises nothing)."""
    if request.number == 2:
        os._exit(3)
    return lookup(request)


exits.directions = DIRECTIONS


def trial_rows(study) -> list:
    """What must agree between two runs of one study: every trial's number, state, arch and metrics."""
    return [(t.number, t.state, t.arch_id, t.metrics, t.seed) for t in study.trials]


def interrupts(request) -> dict:
    """Trial 1 raises KeyboardInterrupt itself (in a worker, that is no Ctrl-C of nasl's)."""
    if request.number == 1:
        raise KeyboardInterrupt("the evaluator gave up")
    return lookup(request)


interrupts.directions = DIRECTIONS


def calls_exit(request) -> dict:
    """Trial 1 calls sys.exit(3)."""
    if request.number == 1:
        import sys
        sys.exit(3)
    return lookup(request)


calls_exit.directions = DIRECTIONS
