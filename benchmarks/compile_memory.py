"""Benchmark: peak memory of ``nasl.load`` plus ``compile`` against the hand-written DARTS network.

Each measurement runs in a fresh subprocess, so that one network's memory is
never counted in another's. Three floors:

* warm (default) -- after importing torch, nasl, the compiler and the
  hand-written network and building a 3-layer network of the same kind once,
  so that lazily imported modules and first-call caches are in the floor;
* ``--cold`` -- after importing every module that a build of that kind
  imports (listed by a probe process that builds one 1-layer network), but
  building nothing: one-time caches filled by the first build (none of
  nasl's own, lark being off the load path since section 40) count as the
  build's, importing code does not -- a hand-written network's imports
  (torch) are in its floor too;
* ``--bare`` -- right after ``import torch, nasl, nasl.compiler``: nasl's
  lazily imported modules (nasl.dsl, nasl.ir, networkx: ~12.5 MiB of Python
  objects) count as the build's.

Then:

* **nasl** -- ``compile(nasl.load(examples/darts.nas, C=36, layers=L), DARTS_V2)``;
* **hand-written** -- ``NetworkCIFAR(36, 10, L, DARTS_V2)`` of ``handwritten_darts.py``.

Two figures per case, both above the floor:

* ``rss`` -- the peak resident set size (``ru_maxrss``) minus the RSS at the
  floor: everything, parameter tensors included;
* ``py`` -- ``tracemalloc``'s peak of Python allocations (torch's tensor
  storage is not traced) and what is still held once the network is built
  (``kept``; the network itself and whatever it keeps alive).

The ratio is nasl / hand-written of the RSS peaks. Target (issue 19): <= 1.3
at every size.

Usage::

    python benchmarks/compile_memory.py [--layers 8,20,50,100] [--no-tracemalloc] [--cold | --bare]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = 1.3


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _peak_mib() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build_modules(kind: str) -> list:
    """Modules a first build of ``kind`` imports, from a probe process (nothing built here)."""
    res = subprocess.run([sys.executable, __file__, "--child", kind, "1", "--no-tracemalloc", "--probe"],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def child(kind: str, layers: int, trace: bool, floor: str):
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, HERE)
    import gc
    import tracemalloc

    import torch
    import nasl
    from nasl.compiler import compile
    from handwritten_darts import DARTS_V2, NetworkCIFAR, genotype_arch

    darts = ROOT / "examples" / "darts.nas"
    arch = genotype_arch(DARTS_V2)
    torch.manual_seed(0)

    def build(n):
        if kind == "nasl":
            return compile(nasl.load(darts, C=36, layers=n), arch)
        return NetworkCIFAR(36, 10, n, DARTS_V2)

    if floor == "probe":        # what a first build imports, for the cold floor
        before = set(sys.modules)
        build(layers)
        return sorted(set(sys.modules) - before)
    if floor == "cold":
        import importlib
        for name in _build_modules(kind):
            importlib.import_module(name)
        gc.collect()
    # Warm: first-call imports and caches belong to the floor.
    if floor == "warm":
        del_me = build(3)
        del del_me
        gc.collect()
    floor_rss, floor_peak = _rss_mib(), _peak_mib()
    if trace:
        tracemalloc.start()
    net = build(layers)
    gc.collect()
    out = {"kind": kind, "layers": layers,
           "params": sum(p.numel() for p in net.parameters()),
           # ru_maxrss is a high-water mark: the floor's own peak may exceed the RSS at the floor
           "rss_peak": max(_peak_mib(), floor_rss) - floor_rss,
           "rss_kept": _rss_mib() - floor_rss, "floor_peak_gap": floor_peak - floor_rss}
    if trace:
        kept, peak = tracemalloc.get_traced_memory()
        out.update(py_peak=peak / 2**20, py_kept=kept / 2**20)
        tracemalloc.stop()
    return out


def measure(kind: str, layers: int, trace: bool, floor: str) -> dict:
    cmd = ([sys.executable, __file__, "--child", kind, str(layers)] + ([] if trace else ["--no-tracemalloc"])
           + ({"warm": [], "cold": ["--cold"], "bare": ["--bare"]}[floor]))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", default="8,20,50,100")
    ap.add_argument("--no-tracemalloc", action="store_true",
                    help="RSS only (tracemalloc slows the build and adds its own memory to the RSS)")
    ap.add_argument("--cold", action="store_true",
                    help="floor after importing what a build imports: first-call caches count as the build's")
    ap.add_argument("--bare", action="store_true",
                    help="floor right after import torch, nasl, nasl.compiler: lazy imports count too")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    trace = not args.no_tracemalloc
    floor = "probe" if args.probe else "bare" if args.bare else "cold" if args.cold else "warm"
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), trace, floor)))
        return 0
    sys.path.insert(0, HERE)
    from _machine import machine
    print(machine())
    print("floor:", {"warm": "after the imports and one 3-layer build (warm)",
                     "cold": "after importing what a build imports, nothing built (cold)",
                     "bare": "right after import torch, nasl, nasl.compiler (bare)"}[floor])
    print(f"{'layers':>6} {'params':>10} | {'nasl rss':>9} {'hand rss':>9} {'ratio':>6} |"
          f" {'nasl py peak/kept':>18} {'hand py peak/kept':>18}  (MiB above the floor)")
    worst = 0.0
    for layers in (int(x) for x in args.layers.split(",")):
        n, h = measure("nasl", layers, trace, floor), measure("hand", layers, trace, floor)
        assert n["params"] == h["params"], (n["params"], h["params"])
        ratio = n["rss_peak"] / h["rss_peak"]
        worst = max(worst, ratio)
        py = (lambda r: f"{r['py_peak']:8.1f}/{r['py_kept']:<8.1f}" if trace else f"{'-':>17}")
        print(f"{layers:>6} {n['params']:>10,} | {n['rss_peak']:>9.1f} {h['rss_peak']:>9.1f} {ratio:>6.2f} |"
              f" {py(n):>18} {py(h):>18}")
    print(f"worst ratio {worst:.2f} (target <= {TARGET})  {'ok' if worst <= TARGET else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
