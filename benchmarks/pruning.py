"""Benchmark: epochs saved by the pruners on digits, and the best accuracy kept (issue 18).

Random search on the bundled digits space (``nasl/spaces/digits.nas``), 8
epochs per trial, the same seed with no pruner, ``median`` and ``curve``.
Random search proposes the same architectures whatever it is told, and a
trial's curve is a prefix of its full curve (same trial seed), so the studies
differ only in where trials stop. Reported: epochs trained, the saving against
no pruning, trials pruned, and the best validation accuracy found.
Target: the curve pruner saves >= 30% of the epochs with the best accuracy
within 0.5 points of no pruning.

Usage::

    python benchmarks/pruning.py [--trials 20] [--seeds 0,1] [--space FILE]
"""
from __future__ import annotations

import argparse
import time

import nasl
from nasl.study import default_space_path
from nasl.study.training import TrainEvaluator


def run(space, trials, seed, pruner):
    start = time.perf_counter()
    study = nasl.search(space, searcher="random", evaluator=TrainEvaluator(epochs=8, threads=1), budget=trials,
                        seed=seed, progress=False, pruner=pruner)
    epochs = sum(len(t.curve or []) for t in study.trials)
    best = max(t.metrics["val_accuracy"] for t in study.trials if t.state == "complete")
    pruned = sum(t.state == "pruned" for t in study.trials)
    return {"epochs": epochs, "best": best, "pruned": pruned, "seconds": time.perf_counter() - start}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--space", default=default_space_path())
    args = ap.parse_args()
    print("| seed | pruner | epochs | saved | pruned | best val acc | seconds |")
    print("|---|---|---|---|---|---|---|")
    for seed in map(int, args.seeds.split(",")):
        base = None
        for pruner in (None, "median", "curve"):
            r = run(args.space, args.trials, seed, pruner)
            base = base or r
            saved = 1 - r["epochs"] / base["epochs"]
            print(f"| {seed} | {pruner or 'none'} | {r['epochs']} | {saved:.0%} | {r['pruned']}/{args.trials} | "
                  f"{100 * r['best']:.2f} ({100 * (r['best'] - base['best']):+.2f}) | {r['seconds']:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
