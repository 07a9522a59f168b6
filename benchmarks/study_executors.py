"""Benchmark: the process pool and Ray against inline trials.

1. **Process pool of 2 workers vs inline** on CPU-bound training trials
   (``_study_work.train_trial``: NAS-Bench-201 with C=8, N=1 compiled and
   trained for 12 SGD steps at batch 32). Torch runs on **one thread** in
   the workers and inline alike, so the comparison is two cores against
   one. Both runs are the same study (seed, searcher, workers=2 ask/tell
   order), so they train the same architectures. Prints the wall time of
   ``nasl.search`` (worker start-up included) and the throughput from the
   first trial's start to the last trial's end (start-up excluded), and the
   speed-up; target >= 1.7x.
2. **Ray per-trial overhead** once started: the NAS-Bench-201 table
   evaluator, ``--ray-n`` trials with ``executor="ray"`` (workers=1, so
   each trial is one task round trip) against inline; ``ray.init`` is not
   timed. Prints (t_ray - t_inline) / n; target <= 50 ms.

Usage::

    python benchmarks/study_executors.py [--n 16] [--ray-n 200] [--csv PATH] [--skip-ray]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nasl  # noqa: E402
from nasl.data import NB201_TABLE  # noqa: E402
from _machine import machine  # noqa: E402

SPACE = ROOT / "examples" / "nas_bench_201.nas"
OPTIONS = {"population_size": 10, "sample_size": 3}


def run(executor, n, evaluator, params=None, workers=2, warm=1):
    t = time.perf_counter()
    study = nasl.search(SPACE, evaluator=evaluator, budget=n, seed=0, searcher_options=OPTIONS, params=params,
                        executor=executor, workers=workers, progress=False)
    wall = time.perf_counter() - t
    trials = study.trials
    assert all(tr.state == "complete" for tr in trials), [tr.error for tr in trials if tr.error]
    span = max(tr.finished for tr in trials) - min(tr.started for tr in trials)
    run.mean_trial = sum(tr.duration for tr in trials) / len(trials)
    # steady state: the trials that finished after each worker's first (which imports torch)
    ends = sorted(tr.finished for tr in trials)
    run.steady = (len(ends) - warm) / (ends[-1] - ends[warm - 1])
    return wall, span, [tr.arch_id for tr in trials]


def _requests(study_rows, params):
    from nasl.study.protocol import TrialRequest
    source = SPACE.read_text()
    return [TrialRequest(trial_id=i, number=i, arch=arch, budget=None, seed=i, space_source=source,
                         space_file=str(SPACE), params=tuple(params.items())) for i, arch in enumerate(study_rows)]


def machine_ceiling(archs, params) -> float:
    """The same trials without nasl's loop: sequential in this process vs ``multiprocessing.Pool(2)`` (warm)."""
    import multiprocessing as mp
    from _study_work import train_trial
    reqs = _requests(archs, params)
    train_trial(reqs[0])                                   # warm: torch import, space cache
    t = time.perf_counter()
    for r in reqs:
        train_trial(r)
    seq = time.perf_counter() - t
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(train_trial, reqs[:2], chunksize=1)       # warm both workers
        t = time.perf_counter()
        pool.map(train_trial, reqs, chunksize=1)
        par = time.perf_counter() - t
    return seq / par


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--ray-n", type=int, default=200)
    ap.add_argument("--csv", default=NB201_TABLE)
    ap.add_argument("--skip-ray", action="store_true")
    args = ap.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.path.dirname(os.path.abspath(__file__)),
                                                           os.environ.get("PYTHONPATH")) if p)
    print(machine())
    load0 = f"{os.getloadavg()[0]:.2f}"
    ev = "python:_study_work:train_trial"
    params = {"C": 8, "N": 1}
    inline_wall, inline_span, inline_archs = run("inline", args.n, ev, params, warm=1)
    inline_mean, inline_steady = run.mean_trial, run.steady
    proc_wall, proc_span, proc_archs = run("process", args.n, ev, params, warm=2)
    proc_mean, proc_steady = run.mean_trial, run.steady
    assert inline_archs == proc_archs          # the same study: the same architectures trained
    print(f"training trials: n={args.n}, NB201 C=8 N=1, 12 steps at batch 32, torch threads = 1 everywhere")
    print(f"  inline            wall {inline_wall:6.2f} s  trials {inline_span:6.2f} s  "
          f"{args.n / inline_span:5.2f} trials/s  mean trial {inline_mean:.3f} s")
    print(f"  process, 2 workers wall {proc_wall:6.2f} s  trials {proc_span:6.2f} s  {args.n / proc_span:5.2f} trials/s  mean trial {proc_mean:.3f} s")
    print(f"  load average before/after: {load0} / {os.getloadavg()[0]:.2f} (other jobs on these cores slow both)")
    ratio = proc_steady / inline_steady
    archs = [dict(tr.arch) for tr in nasl.search(SPACE, evaluator=ev, budget=1, seed=0, params=params,
                                                 progress=False).trials] * 8
    ceiling = machine_ceiling(archs, params)
    print(f"  machine ceiling: multiprocessing.Pool(2) vs sequential on 8 such trials, no nasl loop: {ceiling:.2f}x")
    print(f"  steady state (after each worker's first trial): inline {inline_steady:.3f} trials/s, "
          f"process {proc_steady:.3f} trials/s")
    print(f"  speed-up: {ratio:.2f}x steady state, {inline_span / proc_span:.2f}x first start to last end, "
          f"{inline_wall / proc_wall:.2f}x wall (start-up included); target >= 1.7x (steady state): "
          f"{'PASS' if ratio >= 1.7 else 'FAIL'}; {ratio / ceiling:.0%} of the machine ceiling")
    if args.skip_ray:
        return
    import ray
    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"ray.init (not timed below): {time.perf_counter() - t:.1f} s")
    table = f"table:{args.csv}:CIFAR10TestAccuracy200Epochs"
    run("ray", 10, table, workers=1)                      # warm the workers and their table cache
    inline_wall, _, a = run("inline", args.ray_n, table, workers=1)
    ray_wall, _, b = run("ray", args.ray_n, table, workers=1)
    ray2_wall, _, _ = run("ray", args.ray_n, table, workers=2)
    assert a == b
    per = (ray_wall - inline_wall) / args.ray_n * 1e3
    print(f"table trials: n={args.ray_n}: inline {inline_wall:.2f} s, ray workers=1 {ray_wall:.2f} s, "
          f"ray workers=2 {ray2_wall:.2f} s")
    print(f"  Ray overhead per trial (workers=1): {per:.1f} ms; workers=2: "
          f"{(ray2_wall - inline_wall) / args.ray_n * 1e3:.1f} ms; target <= 50 ms: {'PASS' if per <= 50 else 'FAIL'}")
    ray.shutdown()


if __name__ == "__main__":
    main()
