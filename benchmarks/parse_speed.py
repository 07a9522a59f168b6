"""Benchmark: ``nasl.load`` of an N-layer file against Python's ``compile()``.

For N in 100, 300, 1,000 and 3,000 layers a ``.nas`` file is generated (one
``h = h >> linear(choice(units) as wI) >> relu`` line per layer) with the
equivalent Python source (one ``h = relu(linear(h, choice(units, "wI")))``
line per layer inside a function). Each is timed ``--runs`` times and the
median reported: ``nasl.load`` (parse plus elaborate), parse only
(``nasl.dsl.parse``), the rest (elaborate), ``compile()`` and the ratio
load / compile (target at 1,000 layers: <= 5x). The last two columns time
lark's path alone (``parse_with_lark``: the tree plus the transformer, which
every file took before the descent parser and errors still take) and the
ratio a load through it would have.

Usage::

    python benchmarks/parse_speed.py [--runs 7]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402


def nas_source(n: int) -> str:
    lines = ["param units = [16, 32, 64, 128]", "input x: [8]", "network {", "    h = x"]
    lines += [f"    h = h >> linear(choice(units) as w{i}) >> relu" for i in range(n)]
    lines += ["    return h", "}", ""]
    return "\n".join(lines)


def py_source(n: int) -> str:
    lines = ["units = [16, 32, 64, 128]", "def network(x):", "    h = x"]
    lines += [f"    h = relu(linear(h, choice(units, 'w{i}')))" for i in range(n)]
    lines += ["    return h", ""]
    return "\n".join(lines)


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.process_time()        # CPU time: the machine is shared
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    import nasl
    from nasl.dsl import parse
    from nasl.dsl.parser import parse_with_lark
    print(machine())
    print(f"{'layers':>6} {'bytes':>7} {'load ms':>8} {'parse ms':>9} {'elab ms':>8} "
          f"{'compile ms':>10} {'ratio':>6} {'us/byte':>7} {'lark ms':>8} {'lark ratio':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (100, 300, 1000, 3000):
            src, py = nas_source(n), py_source(n)
            path = os.path.join(tmp, f"chain{n}.nas")
            with open(path, "w") as f:
                f.write(src)
            nasl.load(path)                   # warm: tables loaded, modules imported
            load = median_time(lambda: nasl.load(path), args.runs)
            parse_t = median_time(lambda: parse(src, path), args.runs)
            comp = median_time(lambda: compile(py, "<chain>", "exec"), args.runs)
            slow = median_time(lambda: parse_with_lark(src, path), args.runs)
            print(f"{n:>6} {len(src):>7} {load * 1e3:>8.1f} {parse_t * 1e3:>9.1f} "
                  f"{(load - parse_t) * 1e3:>8.1f} {comp * 1e3:>10.2f} {load / comp:>6.1f} "
                  f"{load / len(src) * 1e6:>7.2f} {slow * 1e3:>8.1f} {(load - parse_t + slow) / comp:>10.1f}")


if __name__ == "__main__":
    main()
