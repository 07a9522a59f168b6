"""Benchmark: one SPOS training step through the supernet against the same architecture compiled alone.

Issue 12's target: a training step (forward, cross-entropy, backward, SGD step) of a sampled path
through ``compile_supernet(space, "spos")`` takes at most 1.10x the step of ``nasl.compile(space,
arch)``, measured in the same run. For ``--n`` sampled architectures of each workload, the two steps
are timed alternately (a load spike hits both), in CPU time at one thread; the script prints the median of the
per-architecture ratios and the growth with the depth choice where the space has one.

Workloads: ``nasl/spaces/digits.nas`` on 1x8x8 (batch 64) and ``examples/nas_bench_201.nas`` at C=8,
N=1 on 3x32x32 (batch 16). ``--device cuda`` runs NB201 at C=16, N=5, batch 64 on 3x32x32.

Usage::

    python benchmarks/oneshot_spos.py [--n 8] [--reps 7] [--device cpu|cuda] [--functional]

``--functional`` runs the elastic ops through ``functional_call`` with freshly sliced state (the path
before :mod:`nasl.oneshot.sliced`), for a before/after figure in the same run.
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402


def _sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def _timed(step, device) -> float:
    """Seconds of one step: CPU time of this process on the CPU (one thread, so other processes on a
    loaded machine do not count), wall time on CUDA (where the host waits on the device)."""
    clock = time.perf_counter if device == "cuda" else time.process_time
    _sync(device)
    t = clock()
    step()
    _sync(device)
    return clock() - t


def _pair(space, sn, arch, x, y, reps, device):
    """Median step times (ms) of the supernet path and of the compiled architecture, alternated."""
    alone = nasl.compile(space, arch, input_shape=tuple(x.shape[1:])).to(device).train()
    alone.load_state_dict(sn.sub_state_dict(arch))          # the same weights: the same arithmetic
    opt_a = torch.optim.SGD(alone.parameters(), lr=0.01, momentum=0.9)
    opt_s = torch.optim.SGD(sn.weights(), lr=0.01, momentum=0.9)

    def step_sn():
        loss = F.cross_entropy(sn(x, arch), y)
        opt_s.zero_grad(set_to_none=True)
        loss.backward()
        opt_s.step()

    def step_alone():
        loss = F.cross_entropy(alone(x), y)
        opt_a.zero_grad(set_to_none=True)
        loss.backward()
        opt_a.step()
    for _ in range(2):                                      # warm: allocator, autograd, templates
        step_sn(), step_alone()
    a, b = [], []
    for _ in range(reps):
        a.append(_timed(step_sn, device))
        b.append(_timed(step_alone, device))
    return 1e3 * statistics.median(a), 1e3 * statistics.median(b)


def run(name, space, batch, n, reps, device, seed=0):
    sn = nasl.compile_supernet(space, "spos", seed=seed).to(device).train()
    shape = next(iter(space.super_realize().nodes(data=True)))[1]["shape"]
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, *shape, generator=g).to(device)
    y = torch.randint(0, 10, (batch,), generator=g).to(device)
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        arch = sn.sample_arch(rng)
        ms_sn, ms_alone = _pair(space, sn, arch, x, y, reps, device)
        rows.append((arch, ms_sn, ms_alone))
    ratios = [s / a for _, s, a in rows]
    print(f"{name}: {n} architectures, batch {batch} of {'x'.join(map(str, shape))}")
    for arch, s, a in rows:
        depth = dict(arch).get("depth", "")
        print(f"  supernet {s:8.2f} ms   alone {a:8.2f} ms   ratio {s / a:5.3f}   {('depth ' + str(depth)) if depth else ''}")
    print(f"  median ratio supernet/alone: {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}; target <= 1.10)")
    return statistics.median(ratios)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=8, help="sampled architectures per workload")
    ap.add_argument("--reps", type=int, default=7, help="timed steps of each, per architecture")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--functional", action="store_true",
                    help="run elastic ops through functional_call (the uncompiled path), for comparison")
    args = ap.parse_args(argv)
    if args.functional:
        import nasl.oneshot.supernet as S
        S.compile_sliced = lambda big, small: None
    torch.set_num_threads(1) if args.device == "cpu" else None
    print(machine(), " device", args.device, " elastic ops:", "functional_call" if args.functional else "compiled")
    if args.device == "cuda":
        run("NB201 C=16 N=5", nasl.load(ROOT / "examples/nas_bench_201.nas"), 64, args.n, args.reps, "cuda")
        return
    run("digits", nasl.load(ROOT / "nasl/spaces/digits.nas"), 64, args.n, args.reps, "cpu")
    run("NB201 C=8 N=1", nasl.load(ROOT / "examples/nas_bench_201.nas", C=8, N=1), 16, args.n, args.reps, "cpu")


if __name__ == "__main__":
    main()
