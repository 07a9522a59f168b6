"""Benchmark: sampling architectures from NAS-Bench-201 (and DARTS).

Times, with ``time.perf_counter`` (median of ``--repeats``, a fresh load each):

* **nasl** -- ``space.sample(seed, n=N)`` on ``examples/nas_bench_201.nas``;
* **baseline** -- a hand-written sampler, the least any sampler must do: one
  ``random.Random(seed)``, and for each of the 6 edge paths one of the 5 op
  names (``ops[int(random() * 5)]``) into a plain dict;
* ``count_unique('expression')`` on NB201 (must be 6466), as architectures
  enumerated per second (15,625 / time);
* ``space.sample(seed, n=N)`` on ``examples/darts.nas`` (24 choices per arch).

Prints archs/s, the ratio nasl/baseline and the target: >= 20,000 archs/s.

Usage::

    python benchmarks/sample_nb201.py [--n 100000] [--repeats 5]
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402

NB201 = ROOT / "examples" / "nas_bench_201.nas"
DARTS = ROOT / "examples" / "darts.nas"
TARGET = 20_000  # archs/s




def hand_sampler(paths, ops, seed, n):
    r = random.Random(seed).random
    k = len(ops)
    return [{p: ops[int(r() * k)] for p in paths} for _ in range(n)]


def median_time(make, run, repeats):
    """Median seconds of ``run(make())``; ``make`` (e.g. a fresh load) is not timed."""
    times = []
    for i in range(repeats):
        arg = make()
        t = time.perf_counter()
        out = run(arg, i)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    n, reps = args.n, args.repeats
    print(machine())
    print(f"median of {reps} repeats, a fresh load each (load not timed)")

    space = nasl.load(NB201)
    choices = list(space.spec)
    paths, ops = [c.path for c in choices], list(choices[0].domain)
    assert len(paths) == 6 and len(ops) == 5 and all(list(c.domain) == ops for c in choices)

    t_nasl, archs = median_time(lambda: nasl.load(NB201), lambda s, i: s.sample(i, n=n), reps)
    assert len(archs) == n and all(space.validate(a) for a in archs[:1000])
    t_base, hand = median_time(lambda: None, lambda _, i: hand_sampler(paths, ops, i, n), reps)
    assert len(hand) == n and all(space.validate(a) for a in hand[:1000])
    r_nasl, r_base = n / t_nasl, n / t_base
    print(f"NB201 sample(seed, n={n:,}):")
    print(f"  nasl     {t_nasl:8.3f} s  {r_nasl:12,.0f} archs/s")
    print(f"  baseline {t_base:8.3f} s  {r_base:12,.0f} archs/s  (hand-written dict sampler)")
    print(f"  ratio {r_nasl / r_base:.2f} (nasl/baseline archs/s)")
    print(f"  target >= {TARGET:,} archs/s: measured {r_nasl:,.0f}, ratio {r_nasl / TARGET:.1f} (measured/target)"
          f"  {'PASS' if r_nasl >= TARGET else 'FAIL'}")

    t_u, u = median_time(lambda: nasl.load(NB201), lambda s, i: s.count_unique("expression"), reps)
    assert u == 6466, u
    size = space.size()
    print(f"NB201 count_unique('expression') = {u} (expected 6466): {t_u * 1e3:.1f} ms, "
          f"{size / t_u:,.0f} archs/s enumerated")

    t_d, d = median_time(lambda: nasl.load(DARTS), lambda s, i: s.sample(i, n=n), reps)
    assert len(d) == n
    r_d = n / t_d
    print(f"DARTS sample(seed, n={n:,}): {t_d:.3f} s, {r_d:,.0f} archs/s, ratio {r_d / TARGET:.1f} "
          f"against the {TARGET:,} archs/s target  {'PASS' if r_d >= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
