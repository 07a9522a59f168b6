"""Benchmark: ``Space.size()`` of the ENAS macro space (6**12 * 2**66 ~ 1.6e29).

Each repeat loads ``examples/enas_macro.nas`` afresh (so no count is cached on
the space) and times, with ``time.perf_counter``:

* **nasl** -- ``space.size()``, the exact count;
* **baseline** -- a naive product over the choice spec,
  ``math.prod(c.cardinality() for c in space.spec)`` (right here only because
  the ENAS space has no conditions or constraints).

Both must equal ``6**12 * 2**66``. Prints medians, the ratio nasl/baseline and
the check against the target: size() < 50 ms.

Usage::

    python benchmarks/size_enas.py [--repeats 9]
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

import nasl  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402

SPACE = ROOT / "examples" / "enas_macro.nas"
EXPECTED = 6 ** 12 * 2 ** 66
TARGET_S = 0.050




def timed(fn):
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()
    print(machine())
    nasl_t, base_t = [], []
    for _ in range(args.repeats):
        t, n = timed(nasl.load(SPACE).size)
        assert n == EXPECTED, n
        nasl_t.append(t)
        space = nasl.load(SPACE)
        t, n = timed(lambda: math.prod(c.cardinality() for c in space.spec))
        assert n == EXPECTED, n
        base_t.append(t)
    t_nasl, t_base = statistics.median(nasl_t), statistics.median(base_t)
    print(f"size = {EXPECTED} = 6**12 * 2**66 ({EXPECTED:.3e}), both methods agree")
    print(f"median of {args.repeats} fresh loads:")
    print(f"  nasl     space.size()                   {t_nasl * 1e3:9.3f} ms")
    print(f"  baseline math.prod(cardinality() ...)   {t_base * 1e3:9.3f} ms")
    print(f"ratio {t_nasl / t_base:.2f} (nasl/baseline)")
    print(f"target size() < {TARGET_S * 1e3:.0f} ms: measured {t_nasl * 1e3:.3f} ms, ratio "
          f"{t_nasl / TARGET_S:.2e} (measured/target)  {'PASS' if t_nasl < TARGET_S else 'FAIL'}")


if __name__ == "__main__":
    main()
