"""Benchmark: sampling and ``size()`` of the conditional spaces (MetaQNN, path-level cells).

Both spaces are recursive: a call under a condition is elaborated only when
the spec is walked into it, and equal calls share one elaboration
(``nasl/dsl/lazy.py``). Times, with ``time.perf_counter``, medians of
``--repeats``, a fresh ``nasl.load`` each (the load is not timed):

* **size** -- ``space.size()`` on a fresh load (target: <= 20 ms), and again
  after the samples;
* **first** -- ``space.sample(seed, n=N)`` on a fresh load, per architecture:
  it includes elaborating the sub-blocks that the draws walk into;
* **steady** -- ``space.sample(seed + 1, n=N)`` right after, per architecture;
* **baseline** -- a flat sampler with the same number of picks: for each of
  the N architectures that nasl drew, one uniform pick per choice it has
  (``domain[int(random() * len(domain))]`` into a plain dict), the paths and
  domains prepared beforehand. Ratio = nasl steady / baseline (target <= 3).

``--memo off`` elaborates every site again (the memo key is withheld), to
measure the cost without sharing in the same checkout. ``--clock cpu`` times
with ``time.process_time`` and takes the best of the repeats instead of the
median: on a shared machine the other jobs' load then cancels out of the
ratio, which compares two loops of the same process.

Usage::

    python benchmarks/sample_conditional.py [--n 2000] [--repeats 5] [--memo off] [--clock wall|cpu]
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

SPACES = ("metaqnn", "path_level")
TARGET_RATIO, TARGET_SIZE_MS = 3.0, 20.0


def flat_sampler(layouts, seed):
    r = random.Random(seed).random
    return [{p: d[int(r() * len(d))] for p, d in lay} for lay in layouts]


clock = time.perf_counter


def one_run(path, n, seed):
    space = nasl.load(path)
    t = clock()
    size = space.size()
    t_size = clock() - t
    space = nasl.load(path)
    t = clock()
    space.sample(seed, n=n)
    t_first = clock() - t
    t = clock()
    archs = space.sample(seed + 1, n=n)
    t_steady = clock() - t
    t = clock()
    assert space.size() == size
    t_size_after = clock() - t
    spec = space.spec
    layouts = [[(p, tuple(spec[p].values())) for p in a] for a in archs]
    picks = sum(len(lay) for lay in layouts) / n
    t = clock()
    flat = flat_sampler(layouts, seed)
    t_flat = clock() - t
    assert len(flat) == n
    return t_size, t_first / n, t_steady / n, t_size_after, t_flat / n, picks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--memo", choices=("on", "off"), default="on")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = ap.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    pick = min if args.clock == "cpu" else statistics.median
    if args.memo == "off":
        import nasl.dsl.lazy as lazy
        lazy.memo_key = lambda *a: None
        import nasl.dsl.defs  # noqa: F401  (reads memo_key at each call)
    print(machine())
    print(f"{'best' if args.clock == 'cpu' else 'median'} of {args.repeats} repeats ({args.clock} clock), n = {args.n:,}, "
          f"a fresh load each (load not timed), memo {args.memo}")
    print(f"{'space':<11} {'size ms':>9} {'size after':>10} {'first us':>9} {'steady us':>9} "
          f"{'flat us':>8} {'picks':>6} {'ratio':>6}  targets")
    for name in SPACES:
        runs = [one_run(ROOT / "examples" / f"{name}.nas", args.n, i) for i in range(args.repeats)]
        size, first, steady, after, flat, picks = (pick(col) for col in zip(*runs))
        ratio = steady / flat
        ok = ("PASS" if ratio <= TARGET_RATIO else "FAIL") + "/" + ("PASS" if size * 1e3 <= TARGET_SIZE_MS else "FAIL")
        print(f"{name:<11} {size * 1e3:9.1f} {after * 1e3:10.2f} {first * 1e6:9.1f} {steady * 1e6:9.1f} "
              f"{flat * 1e6:8.2f} {picks:6.1f} {ratio:6.1f}  ratio <= {TARGET_RATIO:g}, size <= {TARGET_SIZE_MS:g} ms: {ok}")


if __name__ == "__main__":
    main()
