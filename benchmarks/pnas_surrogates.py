"""Benchmark: pnas's two surrogates, the MLP ensemble and the paper's LSTM, on the NAS-Bench-201 table.

For each seed, one 200-query run of ``pnas`` per surrogate against the
bundled table's CIFAR-10 test accuracy (``tests/searchers/nb201_table.py``'s
``best_of``, the loop of ``searcher_quality.py``), and one of ``random``; the
figure is the mean best accuracy ± standard error over the seeds, and the
LSTM's CPU time per run as a ratio to the MLP's, both measured in this run
(``time.process_time``; torch is imported before the clock starts, so the
ratio is the fits' and not the import's).

Usage::

    python benchmarks/pnas_surrogates.py [--seeds 50] [--queries 200] [--lstm OPTION=VALUE ...]
"""
from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--lstm", nargs="*", default=[], help="extra pnas options for the LSTM row, NAME=VALUE")
    args = ap.parse_args()
    import torch  # noqa: F401 - imported once, before the clocks

    import nasl
    from _machine import machine
    from tests.searchers.nb201_table import best_of, load_table, mean_se
    extra = {k: ast.literal_eval(v) for k, v in (o.split("=", 1) for o in args.lstm)}
    table, spec = load_table(), nasl.load(ROOT / "examples" / "nas_bench_201.nas").spec
    rows = [("random", "random", {}), ("pnas, surrogate=mlp", "pnas", {"surrogate": "mlp"}),
            ("pnas, surrogate=lstm" + "".join(f", {k}={v}" for k, v in extra.items()), "pnas",
             {"surrogate": "lstm", **extra})]
    print(machine())
    print(f"{args.seeds} seeds, {args.queries} queries, CIFAR-10 test accuracy of the bundled NB201 table\n")
    print("| row | mean best ± s.e. | CPU s per run | vs mlp |")
    print("|---|---:|---:|---:|")
    cost = {}
    for label, name, opts in rows:
        best, cpu = [], 0.0
        for seed in range(args.seeds):
            t = time.process_time()
            best.append(best_of(table, spec, name, args.queries, seed, **opts))
            cpu += time.process_time() - t
        cost[label] = cpu / args.seeds
        m, se = mean_se(best)
        base = cost.get("pnas, surrogate=mlp")
        ratio = "–" if base is None else f"{cost[label] / base:.1f}"
        print(f"| {label} | {m:.3f} ± {se:.3f} | {cost[label]:.2f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
