"""Benchmark: loading every example space in a fresh Python process.

Each ``examples/*.nas`` is loaded in a new interpreter (``sys.executable -c``)
that times, with ``time.perf_counter``:

* **import** -- ``import nasl``;
* **load** -- the first ``nasl.load(path)`` (parser set-up, parse, elaboration);
* **parse** (baseline) -- then ``nasl.dsl.parser.parse`` of the same text in the
  same process, the parser already built: the least a load must do.

Lark keeps its LALR tables in ``tempfile.gettempdir()/.lark_cache_*``; the
**cold** runs delete those files before every process, the **warm** runs keep
them. Each number is the median of ``--runs`` processes. Target: load < 200 ms.

Usage::

    python benchmarks/load_spaces.py [--runs 5]
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 200.0

CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
import nasl
t1 = time.perf_counter()
space = nasl.load(sys.argv[1])
t2 = time.perf_counter()
from nasl.dsl.parser import parse
text = open(sys.argv[1], encoding="utf-8").read()
t3 = time.perf_counter()
parse(text, sys.argv[1])
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "parse": t4 - t3}))
"""




def clear_lark_cache() -> int:
    files = glob.glob(os.path.join(tempfile.gettempdir(), ".lark_cache_*"))
    for f in files:
        try:
            os.remove(f)
        except OSError:
            pass
    return len(files)


def run_once(path: Path, cold: bool) -> dict:
    if cold:
        clear_lark_cache()
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(machine())
    print(f"median of {args.runs} fresh processes per cell; times in ms; target load < {TARGET_MS:.0f} ms")
    files = sorted((ROOT / "examples").glob("*.nas"))
    worst = {}
    for mode in ("cold", "warm"):
        print(f"\n{mode} lark cache:")
        print(f"  {'space':<16}{'import':>8}{'load':>8}{'parse':>8}{'load/parse':>11}  target")
        if mode == "warm":
            run_once(files[0], cold=False)  # make sure the cache file exists
        for f in files:
            runs = [run_once(f, cold=(mode == "cold")) for _ in range(args.runs)]
            med = {k: 1e3 * statistics.median(r[k] for r in runs) for k in runs[0]}
            ok = med["load"] < TARGET_MS
            worst[mode] = max(worst.get(mode, 0.0), med["load"])
            print(f"  {f.stem:<16}{med['import']:8.1f}{med['load']:8.1f}{med['parse']:8.2f}"
                  f"{med['load'] / med['parse']:11.1f}  {'PASS' if ok else 'FAIL'}")
    for mode, w in worst.items():
        print(f"{mode}: slowest load {w:.1f} ms  target {TARGET_MS:.0f} ms  ratio {w / TARGET_MS:.2f} "
              f"(load/target)  {'PASS' if w < TARGET_MS else 'FAIL'}")


if __name__ == "__main__":
    main()
