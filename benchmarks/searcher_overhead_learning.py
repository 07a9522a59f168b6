"""Benchmark: ask + tell overhead of the evolutionary and learning searchers on the NB201 spec.

The same measurement as ``searcher_overhead.py`` (whose helpers it uses):
``--n`` rounds of ``a = s.ask(); s.tell(a, value)`` with precomputed values,
median of ``--repeats`` fresh searchers, against the same baseline (one
``random.Random`` picking 6 of 5 op names), measured in the same run. Rows:
``random`` and ``regularized_evolution`` (P=10, S=3) for reference, then
``tournament_evolution``, ``pairwise_tournament``, ``genetic``, ``mcts``,
``q_learning`` (MetaQNN's 100 replays per tell, and 10) and ``reinforce``
(the defaults: hidden 32, an update every 10 tells).

The values are uniform in [80, 94], unrelated to the architecture, so the
learners do not converge and de-duplication rarely retries: this is the
cost of the bookkeeping, not of a converged search.

Usage::

    python benchmarks/searcher_overhead_learning.py [--n 1000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _machine import machine  # noqa: E402
from searcher_overhead import baseline, median_us, nb201_setup, searcher_loop  # noqa: E402

TARGET_US = 100.0
ROWS = [
    ("random", {}),
    ("regularized_evolution", {"population_size": 10, "sample_size": 3}),
    ("tournament_evolution", {"population_size": 20}),
    ("pairwise_tournament", {"population_size": 20}),
    ("genetic", {}),
    ("mcts", {}),
    ("q_learning", {}),
    ("q_learning", {"replay": 10}),
    ("reinforce", {}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    n, repeats = args.n, args.repeats

    spec, paths, ops, values = nb201_setup(n)

    print(machine())
    print(f"NAS-Bench-201 spec: {len(paths)} choices x {len(ops)} ops; n={n} ask+tell rounds, median of {repeats}")
    base = median_us(lambda i: baseline(paths, ops, i, n, values), n, repeats)
    print(f"{'baseline (random.Random, 6 picks)':44s} {base:9.2f} µs")
    searcher_loop(spec, "reinforce", {}, 0, 2, values)        # import torch outside the timing
    for name, options in ROWS:
        us = median_us(lambda i: searcher_loop(spec, name, options, i, n, values), n, repeats)
        label = name + ("" if not options else " (" + ", ".join(f"{k}={v}" for k, v in options.items()) + ")")
        print(f"{label:44s} {us:9.2f} µs  ratio {us / base:7.1f}x baseline  "
              f"{'under' if us < TARGET_US else 'over'} {TARGET_US:.0f} µs")


if __name__ == "__main__":
    main()
