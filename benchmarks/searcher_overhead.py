"""Benchmark: searcher overhead per ask + tell on the NAS-Bench-201 spec.

Times, with ``time.perf_counter`` (median of ``--repeats``, a fresh searcher
each), ``--n`` rounds of ``a = s.ask(); s.tell(a, value)`` with a precomputed
value, so no evaluation is timed, for:

* ``random`` (with de-duplication; at n=2000 about 6% of draws repeat one
  already seen and are drawn again);
* ``regularized_evolution`` with P=10, S=3 (NAS-Bench-201's setting) and with
  the defaults P=100, S=25 (AmoebaNet's);
* **baseline** -- the least a searcher must do: one ``random.Random``, and for
  each of the 6 edge paths one of the 5 op names into a plain dict.

Prints µs per ask+tell, the ratio to the baseline, and the target: < 100 µs.

Usage::

    python benchmarks/searcher_overhead.py [--n 2000] [--repeats 7]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import nasl  # noqa: E402
from nasl.searchers import create  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402

TARGET_US = 100.0


def baseline(paths, ops, seed, n, values):
    r = random.Random(seed).random
    k = len(ops)
    out = []
    for i in range(n):
        a = {p: ops[int(r() * k)] for p in paths}
        out.append((a, values[i]))
    return out


def searcher_loop(spec, name, options, seed, n, values):
    s = create(name, spec, seed=seed, **options)
    for i in range(n):
        a = s.ask()
        s.tell(a, values[i])
    return s


def median_us(fn, n, repeats):
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times) / n * 1e6


def nb201_setup(n: int):
    """The NB201 spec, its 6 choice paths, the 5 ops, and ``n`` precomputed scores (seeded)."""
    spec = nasl.load(ROOT / "examples" / "nas_bench_201.nas").spec
    paths = [c.path for c in spec.top_level()]
    ops = list(spec.top_level()[0].domain)
    values = [random.Random(1).uniform(80, 94) for _ in range(n)]
    return spec, paths, ops, values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    n, repeats = args.n, args.repeats

    spec, paths, ops, values = nb201_setup(n)

    print(machine())
    print(f"NAS-Bench-201 spec: {len(paths)} choices x {len(ops)} ops; n={n} ask+tell rounds, "
          f"median of {repeats}")
    base = median_us(lambda i: baseline(paths, ops, i, n, values), n, repeats)
    print(f"{'baseline (random.Random, 6 picks)':44s} {base:8.2f} µs")
    rows = [("random", {}), ("regularized_evolution", {"population_size": 10, "sample_size": 3}),
            ("regularized_evolution", {"population_size": 100, "sample_size": 25})]
    worst = 0.0
    for name, options in rows:
        us = median_us(lambda i: searcher_loop(spec, name, options, i, n, values), n, repeats)
        worst = max(worst, us)
        label = name + ("" if not options else " (P={population_size}, S={sample_size})".format(**options))
        print(f"{label:44s} {us:8.2f} µs  ratio {us / base:5.1f}x baseline  "
              f"{'PASS' if us < TARGET_US else 'FAIL'} (< {TARGET_US:.0f} µs)")
    print(f"worst {worst:.2f} µs per ask+tell; target < {TARGET_US:.0f} µs: {'PASS' if worst < TARGET_US else 'FAIL'}")


if __name__ == "__main__":
    main()
