"""Repeat a forward benchmark in fresh processes, one after the other, and summarize the runs.

At batch 64 a forward's time depends on how many pages glibc hands back to
the kernel and faults in again, and that depends on the heap's history in
the process: the same code, in two processes, can differ by 10%
(BENCHMARKS.md 14, 18). Within one process the contestants share that
history, but which of them the heap favours changes from one process to the
next. So a ratio from one process is one sample; the forward benchmarks take
``--processes N`` and report the median over N fresh processes, with every
process's value printed.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def add_process_args(ap) -> None:
    ap.add_argument("--processes", type=int, default=1,
                    help="run the whole benchmark in N fresh processes, one after the other, and "
                         "report the median over them (default 1: this process)")
    ap.add_argument("--json", default=None, help=argparse.SUPPRESS)     # where a child writes its results


def child_argv(argv: list) -> list:
    """``argv`` without ``--processes N`` (and its ``=`` form)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--processes":
            skip = True
        elif not a.startswith("--processes="):
            out.append(a)
    return out


def in_fresh_processes(script: str, argv: list, n: int) -> list:
    """The JSON results of ``n`` runs of ``script argv``, each in a new interpreter."""
    results = []
    for i in range(n):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            run = subprocess.run([sys.executable, script, *child_argv(argv), "--json", str(out)],
                                 capture_output=True, text=True)
            if i == 0:
                print(run.stdout.splitlines()[0] if run.stdout else "")     # the machine line
            if not out.exists():
                sys.stderr.write(run.stdout + run.stderr)
                raise SystemExit(f"process {i + 1} of {n} failed (exit code {run.returncode})")
            results.append(json.loads(out.read_text()))
    return results


def write_json(path, data) -> None:
    if path:
        Path(path).write_text(json.dumps(data))


def record(med: dict, faults: dict, **ratios) -> dict:
    """One batch's result in a child: the ratios, each model's median ms per call and faults per call."""
    return dict(ratios, ms={k: v * 1e3 for k, v in med.items()}, faults={k: statistics.median(v) for k, v in faults.items()})


def times_and_faults(r: dict) -> str:
    """The ms and faults part of a process's summary line."""
    return ("ms: " + "  ".join(f"{k} {v:.2f}" for k, v in r["ms"].items())
            + ";  faults/call: " + "  ".join(f"{k} {v:,.0f}" for k, v in r["faults"].items()))


def summarize(runs: list, ratio_text, verdict) -> int:
    """Print one line per process and batch (``ratio_text(result)`` then its times and faults),
    then ``verdict(batch, results) -> (text, passed)`` on the median over the processes."""
    ok = True
    for batch in runs[0]:
        print(f"batch {batch}, {len(runs)} fresh processes:")
        for i, run in enumerate(runs, 1):
            print(f"  process {i}: {ratio_text(run[batch])};  {times_and_faults(run[batch])}")
        text, passed = verdict(int(batch), [run[batch] for run in runs])
        ok &= passed
        print(f"  median over processes: {text}  {'PASS' if passed else 'FAIL'}")
    return 0 if ok else 1
