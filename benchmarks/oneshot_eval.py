"""Benchmark: SupernetEvaluator evaluations per second against training from scratch, on digits.

Issue 12 asks for the evaluations per second of :class:`nasl.oneshot.evaluator.SupernetEvaluator`
against training from scratch. The baseline is what a plain ``nasl search`` runs per trial: the
default ``TrainEvaluator`` (5 epochs on the 1,437 digits training images, validation each epoch).
On ``--n`` sampled architectures of ``nasl/spaces/digits.nas``, each seen for the first time (a
search rarely scores one twice), in CPU time at one thread (other processes on a loaded machine do
not count), the script prints per evaluation:

* ``SupernetEvaluator`` on a ``spos`` supernet, as a study runs it (a subnet copy, BatchNorm
  recalibrated on 4 batches of 64, validation in batches of 128), with ``inplace=True`` (the
  supernet's own modules: no subnet compile), and with the earlier validation batch of 512;
* the compute floor: only the forwards an evaluation must run (256 recalibration images in train
  mode, 360 validation images) through an already compiled subnet;
* the image-forward bound: training runs 5 x 1,437 images forward and backward (about 3 forwards
  each) plus 5 x 360 validation forwards; an evaluation runs 616 forwards.

Usage::

    python benchmarks/oneshot_eval.py [--n 12] [--train 4]
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

import torch  # noqa: E402

import nasl  # noqa: E402
from nasl.oneshot.evaluator import SupernetEvaluator  # noqa: E402
from nasl.study.digits import load_digits_split  # noqa: E402
from nasl.study.protocol import TrialRequest  # noqa: E402
from nasl.study.training import TrainEvaluator  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402

clock = time.process_time


def per_call(f, items) -> float:
    """Median CPU seconds of ``f(item)``."""
    times = []
    for item in items:
        t = clock()
        f(item)
        times.append(clock() - t)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=12, help="architectures scored by each evaluator")
    ap.add_argument("--train", type=int, default=4, help="architectures trained from scratch (after a warm-up)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(machine(), " CPU time, one thread")
    space = nasl.load(ROOT / "nasl/spaces/digits.nas")
    x, y, xv, yv = load_digits_split()
    sn = nasl.compile_supernet(space, "spos", seed=0).eval()
    rng = random.Random(1)
    warm = space.sample(rng)
    rows = {}
    for label, options in (("copy, validation batch 512 (before)", dict(eval_batch_size=512)),
                           ("copy (the study's default)", {}),
                           ("inplace=True", dict(inplace=True))):
        ev = SupernetEvaluator(sn, (x, y), (xv, yv), **options)
        ev(warm)
        rows[label] = per_call(ev, space.sample(rng, n=args.n))
    ev = SupernetEvaluator(sn, (x, y), (xv, yv))
    models = [sn.subnet(a) for a in space.sample(rng, n=args.n)]

    def floor(m):
        with torch.inference_mode():
            m.train()
            for b in ev.calib:
                m(b)
            m.eval()
            for b, _ in ev.val:
                m(b)
    floor(models[0])
    rows["compute floor: the forwards alone"] = per_call(floor, models)
    src = (ROOT / "nasl/spaces/digits.nas").read_text()
    train = TrainEvaluator()
    reqs = [TrialRequest(i, i, dict(a), None, i, src, "digits.nas") for i, a in enumerate(space.sample(rng, n=args.train + 1))]
    train(reqs[0])                                      # warm-up
    scratch = per_call(train, reqs[1:])
    n_train, n_val = len(x), len(xv)
    bound = (5 * n_train * 3 + 5 * n_val) / (sum(len(b) for b in ev.calib) + n_val)
    print(f"\nTrainEvaluator defaults ({train.epochs} epochs, batch {train.batch_size}): {scratch * 1e3:.0f} ms per trial\n")
    print("| evaluator | ms per evaluation | evaluations/s | ratio to training from scratch |")
    print("|---|---:|---:|---:|")
    print(f"| TrainEvaluator, 5 epochs (baseline) | {scratch * 1e3:.0f} | {1 / scratch:.2f} | 1 |")
    for label, s in rows.items():
        print(f"| SupernetEvaluator, {label} | {s * 1e3:.1f} | {1 / s:.1f} | {scratch / s:.1f} |")
    print(f"\nimage-forward bound (training {5 * n_train} images x ~3 + {5 * n_val} validation, against "
          f"{sum(len(b) for b in ev.calib)} + {n_val} per evaluation): {bound:.0f}x")


if __name__ == "__main__":
    main()
