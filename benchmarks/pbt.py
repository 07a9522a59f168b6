"""Benchmark: PBT against the same population without exploit/explore, and PBT's cost per interval (issue 18).

``examples/pbt_digits.nas`` minus its dropout choice (a learning rate in [1e-4, 0.5], log), 4 members,
8 epochs, exploit every 2 (the settings of tests/study/test_pbt.py's slow test), seeds 0-5, inline, one
thread: the best final member and the final population's mean, with and without exploit and explore
(``exploit=false`` trains the same 4 initial members for the same epochs). Then the cost: CPU seconds of
a PBT run with an exploit step after every epoch (8 intervals, in a study file: checkpoints, SQLite rows,
a model rebuilt each interval) against plain training of the same 4 x 8 epochs by the training
evaluator (``nasl.search(searcher="random")``, in memory), measured in the same run; the ratio is the
overhead. CPU time, so a loaded machine slows both alike.

Usage::

    python benchmarks/pbt.py [--seeds 0-5]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import nasl
from nasl.study.pbt import final_population
from nasl.study.training import TrainEvaluator

HERE = os.path.dirname(os.path.abspath(__file__))
SPACE = open(os.path.join(HERE, "..", "examples", "pbt_digits.nas")).read() \
    .replace("    p = float_range(0.0, 0.3)\n", "").replace("dropout(p) >> ", "").replace("choice(16, 24)", "16")


def pbt(seed, exploit, interval=2, storage=None):
    return nasl.search(SPACE, scheduler="pbt", evaluator="digits", seed=seed, progress=False, storage=storage,
                       evaluator_options={"epochs": 8, "schedule": "constant"},
                       scheduler_options={"population": 4, "interval": interval, "exploit": exploit})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-5")
    a, _, b = ap.parse_args().seeds.partition("-")
    seeds = range(int(a), int(b or a) + 1)
    rows = {True: [], False: []}
    for seed in seeds:
        for exploit in (True, False):
            scores = [m["score"] or 0.0 for m in final_population(pbt(seed, exploit))]
            rows[exploit].append((max(scores), sum(scores) / len(scores)))
        print(f"seed {seed}: PBT best {rows[True][-1][0]:.4f} mean {rows[True][-1][1]:.4f} | "
              f"no exploit best {rows[False][-1][0]:.4f} mean {rows[False][-1][1]:.4f}")
    for exploit, name in ((True, "PBT"), (False, "no exploit/explore")):
        best = sum(r[0] for r in rows[exploit]) / len(rows[exploit])
        mean = sum(r[1] for r in rows[exploit]) / len(rows[exploit])
        print(f"{name:>20}: best final member {best:.3f}, final population mean {mean:.3f} (seeds {a}-{b or a})")

    t = time.process_time()
    nasl.search(SPACE, searcher="random", evaluator=TrainEvaluator(epochs=8, schedule="constant"), budget=4,
                progress=False)
    plain = time.process_time() - t
    with tempfile.TemporaryDirectory() as folder:
        t = time.process_time()
        pbt(0, True, interval=1, storage=os.path.join(folder, "pbt.db"))
        scheduled = time.process_time() - t
    print(f"plain training 4 x 8 epochs: {plain:.2f} s CPU; PBT, 8 intervals of 1 epoch: {scheduled:.2f} s CPU; "
          f"ratio {scheduled / plain:.2f} ({(scheduled - plain) / 32 * 1000:.0f} ms per member-interval)")


if __name__ == "__main__":
    main()
