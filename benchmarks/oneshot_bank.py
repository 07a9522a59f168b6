"""Benchmark: the ``bank`` supernet's step overhead, and SupernetEvaluator against training from scratch.

Part 1, **bank step overhead** (``nasl/spaces/digits.nas``, batch 64 of 1x8x8; and
``examples/nas_bench_101.nas`` at C=16 on 3x32x32, batch 16). For ``--n`` sampled
architectures, one SGD training step (forward, cross-entropy, backward, step), median of
``--reps``, at one thread:

* **baseline**: the architecture compiled alone with ``nasl.compile``;
* **bank, cached**: ``sn(x, arch)`` with the architecture's bound network in the LRU cache
  (the same architecture stepped again: ENAS-style reuse, or a small pool);
* **bank, new architecture**: a step on an architecture the cache has not seen (SPOS over a large
  space: nearly every step), which realizes, compiles and binds it first; printed beside the
  baseline step plus a plain ``nasl.compile`` of the same architecture.

Part 2, **SupernetEvaluator vs training from scratch** (digits): the evaluations per second of
``SupernetEvaluator`` on a bank supernet (subnet copy + BatchNorm recalibration on 4 batches +
validation on 360 images; and ``inplace=True``, no subnet compile), against ``TrainEvaluator``
at its defaults (5 epochs), on the same architectures, at one thread.

Usage::

    python benchmarks/oneshot_bank.py [--n 10] [--reps 7] [--train 3]
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
import torch.nn.functional as F  # noqa: E402

import nasl  # noqa: E402
from nasl.oneshot.evaluator import SupernetEvaluator  # noqa: E402
from nasl.study.digits import load_digits_split  # noqa: E402
from nasl.study.protocol import TrialRequest  # noqa: E402
from nasl.study.training import TrainEvaluator  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402


def _step(model, opt, x, y):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _paired_ms(fa, fb, reps):
    """Medians of ``fa`` and ``fb`` timed alternately (a load spike hits both), and of their differences."""
    fa(), fb()                                      # warm: allocator, autograd graph
    a, b = [], []
    for _ in range(reps):
        for f, out in ((fa, a), (fb, b)):
            t = time.perf_counter()
            f()
            out.append((time.perf_counter() - t) * 1e3)
    return statistics.median(a), statistics.median(b), statistics.median(y - x for x, y in zip(a, b))


def step_overhead(name, space, shape, batch, n, reps):
    x, y = torch.randn(batch, *shape), torch.randint(0, 10, (batch,))
    archs = space.sample(random.Random(0), n=n)
    sn = nasl.compile_supernet(space, "bank", input_shape=shape, cache=n + 1)
    sn.populate(1, seed=123)                        # an optimizer needs one parameter to start with
    opt = torch.optim.SGD(sn.weights(), lr=0.01)
    plain, cached, diff, new, fresh = [], [], [], [], []
    for a in archs:
        # a step on an architecture seen for the first time: bank (realize, compile, bind) against
        # nasl.compile + a plain step, one after the other
        t = time.perf_counter()
        _step(lambda v: sn(v, a), opt, x, y)
        new.append((time.perf_counter() - t) * 1e3)
        sn.add_new_weights(opt)
        t = time.perf_counter()
        model = nasl.compile(space, a, shape)
        popt = torch.optim.SGD(model.parameters(), lr=0.01)
        _step(model, popt, x, y)
        fresh.append((time.perf_counter() - t) * 1e3)
        p, c, d = _paired_ms(lambda: _step(model, popt, x, y), lambda: _step(lambda v: sn(v, a), opt, x, y), reps)
        plain.append(p), cached.append(c), diff.append(d)
    p, c, d, w, f = (statistics.median(v) for v in (plain, cached, diff, new, fresh))
    # what a cached bank step adds to the plain one, measured alone: the LRU lookup and the mode check
    a = archs[0]
    k = 20000
    t = time.perf_counter()
    for _ in range(k):
        sn.module_for(a).training
    dispatch_us = (time.perf_counter() - t) / k * 1e6
    print(f"| {name} | {p:.2f} | {c:.2f} | {d:+.3f} | {c / p:.3f} | {dispatch_us:.1f} | {w:.1f} | {f:.1f} | "
          f"{w / f:.2f} |")


def evaluator_speed(n, n_train):
    space = nasl.load("nasl/spaces/digits.nas")
    x, y, xv, yv = load_digits_split()
    sn = nasl.compile_supernet(space, "bank")
    rng = random.Random(0)
    pool = space.sample(rng, n=8)
    for a in pool:
        sn.module_for(a)
    opt = torch.optim.Adam(sn.weights(), lr=0.01)
    for _ in range(50):                             # a briefly trained bank (the speed does not depend on it)
        idx = torch.randint(0, len(x), (64,))
        _step(lambda v: sn(v, rng.choice(pool)), opt, x[idx], y[idx])
    sn.eval()
    archs = space.sample(random.Random(1), n=n)
    rates = {}
    for label, inplace in (("copy (subnet + recalibration)", False), ("inplace", True)):
        ev = SupernetEvaluator(sn, (x, y), (xv, yv), inplace=inplace)
        for a in archs:                             # first sight: the bank's nodes and compiles exist
            ev(a)
        t = time.perf_counter()
        for a in archs:
            ev(a)
        rates[label] = n / (time.perf_counter() - t)
    src = open("nasl/spaces/digits.nas").read()
    train = TrainEvaluator(test_fraction=0)     # the images the bank trained on (no test split)
    times = []
    for i, a in enumerate(archs[:n_train + 1]):
        req = TrialRequest(i, i, dict(a), None, i, src, "digits.nas")
        t = time.perf_counter()
        train(req)
        if i:                                       # the first trial is a warm-up
            times.append(time.perf_counter() - t)
    scratch = 1 / statistics.median(times)
    print("| evaluator | evaluations/s | s per evaluation | ratio to training from scratch |")
    print("|---|---:|---:|---:|")
    print(f"| TrainEvaluator, 5 epochs (baseline) | {scratch:.2f} | {1 / scratch:.3f} | 1 |")
    for label, r in rates.items():
        print(f"| SupernetEvaluator, {label} | {r:.1f} | {1 / r:.4f} | {r / scratch:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--train", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(machine())
    print(f"\none training step, ms (median over {args.n} architectures of each median of {args.reps})\n")
    print("| space | plain step | bank step, cached | overhead ms (paired) | ratio | dispatch µs | "
          "bank step, new arch | nasl.compile + plain step | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    step_overhead("digits, batch 64, 1x8x8", nasl.load("nasl/spaces/digits.nas"), (1, 8, 8), 64, args.n, args.reps)
    step_overhead("NB101 C=16, batch 16, 3x32x32", nasl.load("examples/nas_bench_101.nas", C=16), (3, 32, 32), 16,
                  max(3, args.n // 2), max(3, args.reps // 2))
    print()
    evaluator_speed(args.n, args.train)


if __name__ == "__main__":
    main()
