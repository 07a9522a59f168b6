"""Benchmark: compiling an architecture against the hand-written model's constructor.

Issue 3: "Compiling an architecture (elaborate, realize, build the module)
takes at most 1.5 times the constructor of the hand-written model."

For two networks, in one run, on one thread:

* **NB201** (C=16, N=5, 10 classes, best CIFAR-100 cell): nasl end to end is
  ``nasl.load("examples/nas_bench_201.nas")`` (a fresh parse and elaboration
  every time: nothing caches the program between calls, only lark's grammar
  object, which the warm-up loads) followed by ``nasl.compile(space, arch)``
  (realize + build the ``torch.fx.GraphModule``). The baseline is the
  hand-written ``TinyNetwork(...)`` constructor of ``forward_nb201.py``
  (official style).
* **DARTS_V2** (C=36, 20 layers, no auxiliary head): ``nasl.load(
  "examples/darts.nas", C=36, layers=20)`` + ``nasl.compile``, against
  ``NetworkCIFAR(36, 10, 20, DARTS_V2)`` of ``handwritten_darts.py``.

Each round times every contestant once, in rotating order, with
``time.perf_counter``; the ratio is nasl / hand-written within a round, and
its median over the rounds is checked against 1.5. Parameter counts and
output shapes are checked first. ``--profile`` prints a cProfile of the nasl
path of each network.

Usage::

    python benchmarks/compile_time.py [--repeats 21] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import nasl  # noqa: E402
from _machine import machine  # noqa: E402
from forward_nb201 import BEST, TinyNetwork, parse  # noqa: E402
from handwritten_darts import DARTS_V2, NetworkCIFAR, genotype_arch  # noqa: E402

TARGET = 1.5
NB201 = ROOT / "examples" / "nas_bench_201.nas"
DARTS = ROOT / "examples" / "darts.nas"


def nb201_arch() -> dict:
    from nasl.formats.nb201 import from_string
    return from_string(BEST)


def cases():
    nb_arch, nb_geno = nb201_arch(), parse(BEST)
    d_arch = genotype_arch(DARTS_V2)
    return {
        "NB201": dict(nasl=lambda: nasl.compile(nasl.load(NB201), nb_arch),
                      hand=lambda: TinyNetwork(nb_geno), params=1_288_506),
        "DARTS_V2": dict(nasl=lambda: nasl.compile(nasl.load(DARTS, C=36, layers=20), d_arch),
                         hand=lambda: NetworkCIFAR(36, 10, 20, DARTS_V2), params=3_349_342),
    }


def check(name, case):
    a, b = case["nasl"]().eval(), case["hand"]().eval()
    na, nb = (sum(p.numel() for p in m.parameters()) for m in (a, b))
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        sa, sb = tuple(a(x).shape), tuple(b(x).shape)
    assert na == nb == case["params"], (name, na, nb)
    assert sa == sb == (2, 10), (name, sa, sb)
    print(f"{name}: nasl and hand-written have {na:,} params, output {sa}")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench(case, repeats):
    fns = {"nasl": case["nasl"], "hand": case["hand"]}
    names = list(fns)
    for _ in range(2):                                   # warm-up
        for f in fns.values():
            f()
    times = {k: [] for k in fns}
    gc.collect()
    for r in range(repeats):
        for k in names[r % 2:] + names[:r % 2]:          # rotate who goes first
            times[k].append(timed(fns[k]))
    return times


def profile(name, fn, top=25):
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(3):
        fn()
    pr.disable()
    s = io.StringIO()
    pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(top)
    print(f"--- cProfile of nasl load + compile, {name} (3 calls, cumulative) ---")
    print(s.getvalue())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--profile", action="store_true", help="cProfile the nasl path even when it passes")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(machine(), f" torch {torch.__version__}  threads {torch.get_num_threads()}")

    t = time.perf_counter()
    nasl.load(NB201)                                     # the first load also builds lark's parser
    print(f"first nasl.load in the process (includes loading the grammar): {(time.perf_counter() - t) * 1e3:.1f} ms")
    ok = True
    for name, case in cases().items():
        check(name, case)
        times = bench(case, args.repeats)
        med = {k: statistics.median(v) for k, v in times.items()}
        ratio = statistics.median(a / b for a, b in zip(times["nasl"], times["hand"]))
        passed = ratio <= TARGET
        ok &= passed
        print(f"{name} ({args.repeats} rounds, rotating order), ms:  nasl load+compile median {med['nasl'] * 1e3:.2f} "
              f"(min {min(times['nasl']) * 1e3:.2f})   hand-written constructor median {med['hand'] * 1e3:.2f} "
              f"(min {min(times['hand']) * 1e3:.2f})")
        print(f"  nasl / hand-written: median of round ratios {ratio:.3f}, of medians "
              f"{med['nasl'] / med['hand']:.3f}  target <= {TARGET}  {'PASS' if passed else 'FAIL'}")
        if args.profile or not passed:
            profile(name, case["nasl"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
