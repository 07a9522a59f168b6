"""Benchmark: forward pass of a compiled DARTS_V2 network against a hand-written one.

Both networks are the DARTS evaluation network for CIFAR (C=36, 20 layers,
10 classes, no auxiliary head, 3,349,342 parameters) with the DARTS_V2
genotype of REFERENCE.md:

* **nasl** -- ``nasl.compiler.compile(space, arch)`` on ``examples/darts.nas``
  with ``C=36, layers=20`` (a ``torch.fx.GraphModule``);
* **hand-written** -- ``NetworkCIFAR`` of ``handwritten_darts.py``, in the
  style of the official ``NetworkCIFAR`` / ``Cell`` / ``operations.py``: one
  module per edge (``nn.Identity``-like module for skip), a Python loop over
  the nodes of each cell, ``torch.cat`` of the concatenated nodes.

The hand-written network gets the compiled one's ``state_dict`` (mapped in
order, shapes checked; both register their modules in the same order), and
the outputs are checked to agree. Timing is that of ``forward_nb201.py``
(its ``bench`` and ``tune_malloc`` are reused): one thread, eval mode,
``torch.inference_mode()``, warm-up, then ``--repeats`` rounds of ``timeit``
in rotating order; the ratio is nasl / hand-written within a round, and the
median over rounds is checked against the target. A batch-1 round is ~0.1 s
of calls; larger batches run 1 call per round and ``--repeats-large`` rounds
(default 9), because one call takes seconds. As in ``forward_nb201.py``, the
network with torch.fx's last-use frees (``nasl_lu``, the forward before frees
moved to cell ends) is timed alongside, and page faults per call are printed.

Targets (issue 3): ratio <= 1.05 at batch 1 and <= 1.02 at batch 64 (and at
any other batch > 1 given with ``--batches``).

``--processes N`` runs the whole benchmark in N fresh processes and checks
the median ratio over them (``_processes.py``).

Usage::

    python benchmarks/forward_darts.py [--repeats 31] [--repeats-large 9] [--batches 1,64] [--malloc default|tuned]
                                       [--processes 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import nasl  # noqa: E402
from nasl.compiler import compile  # noqa: E402
from forward_nb201 import bench, compile_last_use, fault_summary, share_weights, start  # noqa: E402
from _processes import add_process_args, in_fresh_processes, record, write_json  # noqa: E402
from _processes import summarize as summarize_runs  # noqa: E402
from handwritten_darts import DARTS_V2, NetworkCIFAR, genotype_arch  # noqa: E402

DARTS = ROOT / "examples" / "darts.nas"


def target(batch: int) -> float:
    return 1.05 if batch == 1 else 1.02


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=31, help="rounds at batch 1")
    ap.add_argument("--repeats-large", type=int, default=9, help="rounds at batch > 1 (1 call each)")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--malloc", choices=["default", "tuned"], default="default",
                    help="tuned: glibc keeps freed memory (see forward_nb201.tune_malloc)")
    add_process_args(ap)
    args = ap.parse_args(argv)
    if args.processes > 1:
        return summarize(in_fresh_processes(__file__, sys.argv[1:] if argv is None else argv, args.processes))
    start(args)

    torch.manual_seed(0)
    space, arch = nasl.load(DARTS, C=36, layers=20), genotype_arch(DARTS_V2)
    compiled = compile(space, arch)
    # non-trivial batch-norm statistics, so that the output check sees them
    with torch.no_grad():
        for m in compiled.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    compiled.eval()
    hand = NetworkCIFAR(36, 10, 20, DARTS_V2).eval()
    share_weights(compiled, hand)
    compiled_last_use = compile_last_use(space, arch)      # before: torch.fx's last-use frees
    share_weights(compiled, compiled_last_use)
    n_params = sum(p.numel() for p in compiled.parameters())
    assert n_params == sum(p.numel() for p in hand.parameters()) == 3_349_342, n_params
    x = torch.randn(4, 3, 32, 32)
    with torch.inference_mode():
        a, b = compiled(x), hand(x)
    assert a.shape == b.shape == (4, 10), (a.shape, b.shape)
    diff = (a - b).abs().max().item()
    assert diff < 1e-4, diff
    print(f"DARTS_V2 C=36 layers=20: nasl and hand-written have {n_params:,} params; max |output diff| = {diff:.1e}")

    ok, results = True, {}
    for batch in (int(b) for b in args.batches.split(",")):
        repeats, number = (args.repeats, None) if batch == 1 else (args.repeats_large, 1)
        faults: dict = {}
        times, number = bench({"nasl": compiled, "nasl_lu": compiled_last_use, "hand": hand}, batch, repeats,
                              number, faults)
        med = {k: statistics.median(v) for k, v in times.items()}
        best = {k: min(v) for k, v in times.items()}
        ratio = statistics.median(a / b for a, b in zip(times["nasl"], times["hand"]))
        passed = ratio <= target(batch)
        ok &= passed
        print(f"batch {batch} ({repeats} rounds x {number} calls, rotating order), ms per call:")
        before = statistics.median(a / b for a, b in zip(times["nasl_lu"], times["hand"]))
        for k in times:
            print(f"  {k:7s} median {med[k] * 1e3:9.3f}  min {best[k] * 1e3:9.3f}  {fault_summary(faults[k])}")
        print(f"  before (nasl_lu: torch.fx's last-use frees) / hand: median of round ratios {before:.3f}")
        print(f"  nasl/hand: median of round ratios {ratio:.3f}, of medians {med['nasl'] / med['hand']:.3f}, "
              f"of mins {best['nasl'] / best['hand']:.3f}   target <= {target(batch)}  {'PASS' if passed else 'FAIL'}")
        results[batch] = record(med, faults, ratio=ratio, before=before)
    write_json(args.json, results)
    return 0 if ok else 1


def summarize(runs: list) -> int:
    def verdict(batch, results):
        ratio = statistics.median(r["ratio"] for r in results)
        return f"nasl/hand {ratio:.3f}  target <= {target(batch)}", ratio <= target(batch)
    return summarize_runs(runs, lambda r: f"nasl/hand {r['ratio']:.3f} (before {r['before']:.3f})", verdict)


if __name__ == "__main__":
    sys.exit(main())
