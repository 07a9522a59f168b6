"""Benchmark: study loop overhead with SQLite storage, inline, under the table evaluator.

Runs ``nasl.search`` on ``examples/nas_bench_201.nas`` with the
NAS-Bench-201 table evaluator (CIFAR-10, 200 epochs), regularized evolution
(P=10, S=3), ``executor="inline"``, ``--n`` trials, storage in a fresh
SQLite file (WAL, two commits per trial), no progress bar, and with the bar.
The time includes everything ``nasl.search`` does: opening the file and the
lock, elaborating the space, creating the searcher, and the final snapshot.

The **baseline** is the bare loop: the same searcher, ``ask``, the same
table lookup (``TableEvaluator`` on a ``TrialRequest``), ``tell``, with no
storage, no checks and no bookkeeping. Prints trials per second, the ratio
of the study loop's time per trial to the baseline's, and the target:
at least 1,000 trials/s.

Usage::

    python benchmarks/study_overhead.py [--n 3000] [--repeats 5] [--csv PATH]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import nasl  # noqa: E402
from nasl.data import NB201_TABLE  # noqa: E402
from nasl.searchers import create  # noqa: E402
from nasl.study.protocol import TrialRequest  # noqa: E402
from nasl.study.table import TableEvaluator  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402

TARGET = 1000.0
COLUMN = "CIFAR10TestAccuracy200Epochs"
OPTIONS = {"population_size": 10, "sample_size": 3}
SPACE = ROOT / "examples" / "nas_bench_201.nas"


def bare_loop(spec, source, evaluator, n, seed):
    s = create("regularized_evolution", spec, seed=seed, **OPTIONS)
    for i in range(n):
        arch = s.ask()
        req = TrialRequest(trial_id=i, number=i, arch=arch, budget=None, seed=i, space_source=source)
        s.tell(arch, {COLUMN: evaluator(req)[COLUMN]})


def study_loop(csv, n, seed, progress, folder):
    path = os.path.join(folder, f"s{seed}-{progress}.db")
    nasl.search(SPACE, evaluator=f"table:{csv}:{COLUMN}", budget=n, seed=seed, searcher_options=OPTIONS,
                storage=path, progress=progress).close()


def timed(fn, repeats):
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--csv", default=NB201_TABLE)
    args = ap.parse_args()
    n = args.n
    source = SPACE.read_text()
    spec = nasl.load(SPACE).spec
    evaluator = TableEvaluator(args.csv, COLUMN, extra=[])   # loads and caches the table for both loops
    print(machine())
    print(f"NAS-Bench-201 table, regularized evolution P=10 S=3, n={n} trials, median of {args.repeats}")
    base = timed(lambda i: bare_loop(spec, source, evaluator, n, i), args.repeats)
    print(f"{'baseline: bare ask/lookup/tell':44s} {n / base:9.0f} trials/s  {base / n * 1e6:7.1f} µs/trial")
    with tempfile.TemporaryDirectory() as folder:
        for label, progress in (("nasl.search, SQLite file, no progress bar", False),
                                ("nasl.search, SQLite file, progress bar", True)):
            t = timed(lambda i: study_loop(args.csv, n, i, progress, folder), args.repeats)
            rate = n / t
            print(f"{label:44s} {rate:9.0f} trials/s  {t / n * 1e6:7.1f} µs/trial  ratio {t / base:5.1f}x baseline  "
                  f"{'PASS' if rate >= TARGET else 'FAIL'} (>= {TARGET:.0f} trials/s)")


if __name__ == "__main__":
    main()
