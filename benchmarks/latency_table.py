"""Benchmark: latency predictors against measured latency on mobilenet.nas at reduced size (issue 18).

The lookup table (``nasl latency build-table``: the sum of a network's ops,
each timed alone) and the learned predictor (``nasl latency fit``: ridge
regression on the ArchGraph adjacency encoding of measured networks) rank
``--n`` architectures of ``examples/mobilenet.nas`` spread over its FLOPs
range; each is scored by Spearman against the measured latency of the
compiled networks. The baseline is the noise ceiling: the Spearman of a
second measurement of the same networks against the first. Printed: each
figure and its ratio to the ceiling. Target: the table's Spearman >= 0.9.

Usage::

    python benchmarks/latency_table.py [--n 50] [--size 64] [--rounds 20] [--fit 100] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import time

import nasl
from nasl.study import latency, latency_check

SMALL = dict(stem=16, widths=[16, 24, 40, 56, 80], final=128, feature=256, classes=10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--size", type=int, default=64, help="input resolution (3 x size x size)")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--fit", type=int, default=100, help="networks the learned predictor is fitted on (0: none)")
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    space = nasl.load(pathlib.Path(__file__).parents[1] / "examples" / "mobilenet.nas", **SMALL)
    shape = (3, a.size, a.size)
    print(f"load average {os.getloadavg()[0]:.1f}; mobilenet.nas {SMALL} at {shape}, {a.device}")
    t, c = time.perf_counter(), time.process_time()
    table = latency.build_table(space, samples=100, input_shape=shape, rounds=a.rounds, seed=1000, device=a.device)
    print(f"table: {len(table['ops'])} op instances, {time.perf_counter() - t:.1f} s wall, "
          f"{time.process_time() - c:.1f} s CPU")
    model = latency_check.fit_measured(space, samples=a.fit, input_shape=shape, rounds=a.rounds,
                                       device=a.device) if a.fit else None
    r = latency_check.check(space, n=a.n, table=table, model=model, input_shape=shape, rounds=a.rounds,
                            device=a.device, seed=1)
    ceil = r["noise_ceiling"]
    print(f"{a.n} networks measured: {r['min_ms']:.3f}-{r['max_ms']:.3f} ms ({r['max_ms'] / r['min_ms']:.2f}x)")
    print(f"noise ceiling (measured twice): {ceil:.3f}")
    for name in ("table", "model"):
        if name in r:
            verdict = " PASS" if name == "table" and r[name] >= 0.9 else " FAIL" if name == "table" else ""
            print(f"Spearman {name}: {r[name]:.3f} ({r[name] / ceil:.3f} of the ceiling){verdict}")


if __name__ == "__main__":
    main()
