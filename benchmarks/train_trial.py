"""Benchmark: the cost of one ``train`` trial on digits with the bundled default space.

Samples ``--n`` architectures of ``nasl/spaces/digits.nas`` (seed ``--seed``)
and trains each with ``TrainEvaluator`` at its defaults (5 epochs, batch 64,
Adam 0.01 with cosine decay) through a ``TrialRequest``, as a study worker
does, timing each trial with ``time.perf_counter`` (compile + train +
per-epoch validation; the first, warm-up trial is not counted):

* with ``threads=1`` and with ``threads=2`` (``torch.set_num_threads``);
* with ``threads=1`` and ``test_fraction=0``: the split of studies recorded
  before the held-out test set became the default (1,437 training images
  instead of 1,077; issue 20);
* **baseline** -- a hand-written loop over the same compiled model, the same
  optimizer, schedule and batches, without the evaluator (no request, no
  determinism context, no curve), at 1 thread.

Prints seconds per trial, the ratio to the baseline (the evaluator's
overhead), the 2-thread speed-up, and the validation accuracies: range,
median and best.

Usage::

    python benchmarks/train_trial.py [--n 8] [--seed 0]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import nasl  # noqa: E402
from nasl.study import default_space_path  # noqa: E402
from nasl.study.digits import DEFAULT_TEST_FRACTION, load_digits_split  # noqa: E402
from nasl.study.protocol import TrialRequest  # noqa: E402
from nasl.study.training import TrainEvaluator  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402


def hand_written(space, arch, seed, epochs=5, batch=64, lr=0.01):
    """The same training without the evaluator: compile, Adam + cosine, shuffled batches, validate each epoch."""
    x_tr, y_tr, x_va, y_va = load_digits_split(0, 0.2, DEFAULT_TEST_FRACTION)[:4]   # the evaluator's split
    torch.manual_seed(seed)
    model = nasl.compile(space, arch)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = len(x_tr)
    steps = math.ceil(n / batch)
    total, step = epochs * steps, 0
    for _ in range(epochs):
        model.train()
        order = torch.randperm(n, generator=g)
        for s in range(steps):
            idx = order[s * batch:(s + 1) * batch]
            loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
            if not math.isfinite(loss.item()):
                raise FloatingPointError("nan")
            for group in opt.param_groups:
                group["lr"] = 0.5 * lr * (1 + math.cos(math.pi * step / total))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        model.eval()
        with torch.no_grad():
            out = model(x_va)
            acc = float((out.argmax(1) == y_va).float().mean())
    return acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(machine())
    path = default_space_path()
    source = open(path, encoding="utf-8").read()
    space = nasl.load(path)
    archs = [dict(a) for a in space.sample(args.seed, n=args.n)]

    def request(i, arch):
        return TrialRequest(trial_id=i, number=i, arch=arch, budget=None, seed=0, space_source=source,
                            space_file=path)

    times, cpu, accs = {}, {}, []
    for key, threads, test_fraction in ((1, 1, None), (2, 2, None), ("old", 1, 0.0)):
        ev = TrainEvaluator(threads=threads, test_fraction=test_fraction)
        ev(request(0, archs[0]))                   # warm-up: imports, the digits split, first compile
        times[key], cpu[key] = [], []
        for i, arch in enumerate(archs):
            t, c = time.perf_counter(), time.process_time()
            m = ev(request(i, arch))
            times[key].append(time.perf_counter() - t)
            cpu[key].append(time.process_time() - c)
            if key == 1:
                accs.append(m["val_accuracy"])
    torch.set_num_threads(1)
    base = []
    for arch in archs:
        t = time.perf_counter()
        hand_written(space, arch, 0)
        base.append(time.perf_counter() - t)

    print(f"{'arch':>4} {'width':>5} {'depth':>5} {'1 thread s':>10} {'2 threads s':>11} {'old split s':>11} "
          f"{'baseline s':>10} {'val acc':>8}")
    for i, arch in enumerate(archs):
        print(f"{i:>4} {arch['width']:>5} {arch['depth']:>5} {times[1][i]:>10.2f} {times[2][i]:>11.2f} "
              f"{times['old'][i]:>11.2f} {base[i]:>10.2f} {accs[i]:>8.3f}")
    mean1, mean2, meanb = (statistics.mean(times[1]), statistics.mean(times[2]), statistics.mean(base))
    print(f"seconds per trial (5 epochs): 1 thread mean {mean1:.2f} median {statistics.median(times[1]):.2f} "
          f"max {max(times[1]):.2f}; 2 threads mean {mean2:.2f} median {statistics.median(times[2]):.2f} "
          f"max {max(times[2]):.2f}")
    # medians: one trial slowed by a neighbour on a shared machine should not decide a ratio
    med1, med2, medb = (statistics.median(times[1]), statistics.median(times[2]), statistics.median(base))
    print(f"median ratios: evaluator / hand-written loop (1 thread) {med1 / medb:.3f}x; "
          f"2 threads speed-up {med1 / med2:.2f}x (means: {mean1 / meanb:.3f}x, {mean1 / mean2:.2f}x)")
    medo = statistics.median(times["old"])
    print(f"median ratio: default split (1,077 training images) / old split (1,437), 1 thread "
          f"{med1 / medo:.3f}x (means: {mean1 / statistics.mean(times['old']):.3f}x); CPU time per trial "
          f"{statistics.mean(cpu[1]):.2f} s against {statistics.mean(cpu['old']):.2f} s: "
          f"{sum(cpu[1]) / sum(cpu['old']):.3f}x")
    print(f"val accuracy: min {min(accs):.3f} median {statistics.median(accs):.3f} max {max(accs):.3f}; "
          f"best - median {max(accs) - statistics.median(accs):+.3f}")


if __name__ == "__main__":
    main()
