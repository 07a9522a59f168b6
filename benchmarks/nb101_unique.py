"""Benchmark: counting the NAS-Bench-101 cell space up to isomorphism.

Compares

* **baseline** -- a re-implementation of the official NAS-Bench-101 graph
  enumeration (``nasbench/scripts/generate_graphs.py``): for every vertex
  count V, every bitmask of the V(V-1)/2 upper-triangular entries becomes a
  numpy matrix, non-"full" DAGs and those with more than 9 edges are dropped,
  and every op labelling is fingerprinted with the iterated-MD5 hash and put
  in a dict.  The official per-collision exhaustive isomorphism check
  (``--verify_isomorphism``) is left out, as in any practical re-run.
* **nasl** -- ``nasl.load("examples/nas_bench_101.nas", V=...).count_unique("graph")``: the
  whole stack, on the 21-edge, 3-op, max-9-edge space (one call gives the total for up to V vertices).

Usage::

    python benchmarks/nb101_unique.py [--max-vertices 7] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import nasl  # noqa: E402
from nasl.ir.dag_unique import nasbench_hash  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "nas_bench_101.nas")

# Running totals of unique cells published with NAS-Bench-101.
KNOWN = {2: 1, 3: 7, 4: 91, 5: 2532, 6: 64542, 7: 423624}
MAX_EDGES = 9
NUM_OPS = 3


# ----------------------------------------------------------------- baseline

def bitmask_matrix(bits: int, vertices: int) -> np.ndarray:
    """Adjacency matrix of a bitmask, built element-wise like the official code.

    Bit ``x + y*(y-1)/2`` encodes edge x->y (column-major over the upper
    triangle), evaluated by a vectorised Python predicate over the grid.
    """
    def edge(x, y):
        return 0 if x >= y else (bits >> (x + y * (y - 1) // 2)) & 1 == 1

    return np.fromfunction(np.vectorize(edge), (vertices, vertices), dtype=np.int8)


def is_full(matrix: np.ndarray) -> bool:
    """No vertex but the output lacks out-edges, none but the input lacks in-edges."""
    dead_rows = np.all(matrix[:-1, :] == 0, axis=1)
    dead_cols = np.all(matrix[:, 1:] == 0, axis=0)
    return not (np.any(dead_rows) or np.any(dead_cols))


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def module_hash(matrix: np.ndarray, labels: list[int]) -> str:
    """Iterated-MD5 fingerprint on a numpy matrix, as the official hash_module."""
    v_count = matrix.shape[0]
    in_deg = np.sum(matrix, axis=0).tolist()
    out_deg = np.sum(matrix, axis=1).tolist()
    h = [md5(str(t)) for t in zip(out_deg, in_deg, labels)]
    for _ in range(v_count):
        nxt = []
        for v in range(v_count):
            srcs = sorted(h[u] for u in range(v_count) if matrix[u, v])
            dsts = sorted(h[w] for w in range(v_count) if matrix[v, w])
            nxt.append(md5("".join(srcs) + "|" + "".join(dsts) + "|" + h[v]))
        h = nxt
    return md5(str(sorted(h)))


def baseline(max_vertices: int) -> tuple[int, list[tuple[int, int, int, float]]]:
    buckets: dict[str, tuple] = {}
    labelled = 0
    rows = []
    start = time.perf_counter()
    for vertices in range(2, max_vertices + 1):
        for bits in range(2 ** (vertices * (vertices - 1) // 2)):
            matrix = bitmask_matrix(bits, vertices)
            if not is_full(matrix) or int(np.sum(matrix)) > MAX_EDGES:
                continue
            for ops in itertools.product(range(NUM_OPS), repeat=vertices - 2):
                labelled += 1
                labels = [-1, *ops, -2]
                key = module_hash(matrix, labels)
                if key not in buckets:
                    buckets[key] = (matrix.tolist(), labels)
        rows.append((vertices, len(buckets), labelled, time.perf_counter() - start))
        print(f"  baseline  up to {vertices} vertices: {len(buckets):>8,} unique / "
              f"{labelled:>9,} labelled  ({rows[-1][3]:8.2f} s cumulative)", flush=True)
    return len(buckets), rows


# --------------------------------------------------------------------- nasl

def nasl_count(vertices: int) -> int:
    """The whole stack: load the .nas space, then count its cells up to isomorphism."""
    space = nasl.load(EXAMPLE, V=vertices, max_edges=MAX_EDGES)
    return space.count_unique("graph")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-vertices", type=int, default=7)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    top = args.max_vertices

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"platform {platform.platform()}  python {platform.python_version()}  "
          f"numpy {np.__version__}")
    print(f"cpu {cpu}  cpu_count {os.cpu_count()}  (single-threaded runs)")

    # The baseline's numpy-matrix hash must agree with nasl's list-based one.
    for bits in range(64):
        m = bitmask_matrix(bits, 4)
        assert module_hash(m, [-1, 0, 2, -2]) == nasbench_hash(m.tolist(), [-1, 0, 2, -2])

    print("nasl load(nas_bench_101.nas, V=...).count_unique('graph') (each call independent):")
    nasl_time = 0.0
    for vertices in range(2, top + 1):
        start = time.perf_counter()
        got = nasl_count(vertices)
        nasl_time = time.perf_counter() - start
        print(f"  nasl      up to {vertices} vertices: {got:>8,} unique  ({nasl_time:8.3f} s)",
              flush=True)
        if vertices in KNOWN:
            assert got == KNOWN[vertices], (vertices, got)

    if args.skip_baseline:
        print(f"nasl {nasl_time:.3f} s for up to {top} vertices (baseline skipped)")
        return 0

    print("baseline (official enumeration re-implemented):")
    base_count, rows = baseline(top)
    assert base_count == got, (base_count, got)
    if top in KNOWN:
        assert base_count == KNOWN[top]
    base_time = rows[-1][3]
    print(f"both give {got:,} unique cells for up to {top} vertices")
    print(f"baseline {base_time:.1f} s  nasl {nasl_time:.3f} s  "
          f"ratio {nasl_time / base_time:.2e} (nasl/baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
