"""Benchmark: ask+tell overhead of nasl's searchers against PyGlove and Optuna, in the same run.

On the NAS-Bench-201 spec (6 choices x 5 ops), ``--n`` rounds of ask + tell
with precomputed values (so no evaluation is timed), a fresh searcher or
study per repeat, its creation included, median of ``--repeats``:

* nasl ``random`` (with de-duplication) and ``regularized_evolution`` with
  P=10, S=3 (NAS-Bench-201's setting);
* PyGlove's ``pg.evolution.regularized_evolution(population_size=10,
  tournament_size=3)`` on ``pg.Dict`` of six ``pg.oneof`` over the same five
  op names, driven as PyGlove documents it: ``for arch, feedback in
  pg.sample(space, algorithm, num_examples=n): feedback(value)``; and, as a
  lower bound on PyGlove's cost, the bare DNA generator
  (``algorithm.propose()`` / ``algorithm.feedback(dna, value)``, no
  materialisation of the symbolic value);
* Optuna's ``RandomSampler``: ``study.ask()``, six ``suggest_categorical``,
  ``study.tell(trial, value)`` on an in-memory study, logging silenced.

Prints µs per ask+tell and the ratios library / nasl; the goal of issue 4 is
at least 10x for each pair. Needs ``pip install 'nasl[bench]'`` (pyglove)
and optuna.

Usage::

    python benchmarks/searcher_vs_libraries.py [--n 300] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _machine import machine  # noqa: E402
from searcher_overhead import baseline, median_us, nb201_setup, searcher_loop  # noqa: E402
from searcher_overhead_model_based import optuna_native  # noqa: E402

GOAL = 10.0


def pyglove_space(paths, ops):
    import pyglove as pg
    return pg.Dict({p: pg.oneof(ops) for p in paths})


def pyglove_sample_loop(paths, ops, seed, n, values):
    """PyGlove's documented loop: materialised symbolic values and a feedback per example."""
    import pyglove as pg
    algorithm = pg.evolution.regularized_evolution(population_size=10, tournament_size=3, seed=seed)
    for i, (arch, feedback) in enumerate(pg.sample(pyglove_space(paths, ops), algorithm, num_examples=n)):
        feedback(values[i])


def pyglove_dna_loop(paths, ops, seed, n, values):
    """The DNA generator alone: PyGlove's least cost per ask+tell."""
    import pyglove as pg
    algorithm = pg.evolution.regularized_evolution(population_size=10, tournament_size=3, seed=seed)
    algorithm.setup(pg.dna_spec(pyglove_space(paths, ops)))
    for i in range(n):
        dna = algorithm.propose()
        algorithm.feedback(dna, values[i])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    n, repeats = args.n, args.repeats
    import optuna
    import pyglove as pg
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    spec, paths, ops, values = nb201_setup(n)

    print(machine())
    print(f"optuna {optuna.__version__}, pyglove {pg.__version__}")
    print(f"NAS-Bench-201 spec: {len(paths)} choices x {len(ops)} ops; n={n} ask+tell rounds, median of {repeats}")
    rows = {
        "baseline (random.Random, 6 picks)": lambda i: baseline(paths, ops, i, n, values),
        "nasl random": lambda i: searcher_loop(spec, "random", {}, i, n, values),
        "nasl regularized_evolution (P=10, S=3)": lambda i: searcher_loop(
            spec, "regularized_evolution", {"population_size": 10, "sample_size": 3}, i, n, values),
        "PyGlove regularized_evolution, pg.sample": lambda i: pyglove_sample_loop(paths, ops, i, n, values),
        "PyGlove regularized_evolution, DNA only": lambda i: pyglove_dna_loop(paths, ops, i, n, values),
        "Optuna RandomSampler": lambda i: optuna_native(paths, ops, "random", i, n, values),
    }
    us = {}
    for label, fn in rows.items():
        us[label] = median_us(fn, n, repeats)
        print(f"{label:44s} {us[label]:10.2f} µs per ask+tell")
    pairs = [("PyGlove regularized_evolution, pg.sample", "nasl regularized_evolution (P=10, S=3)"),
             ("PyGlove regularized_evolution, DNA only", "nasl regularized_evolution (P=10, S=3)"),
             ("Optuna RandomSampler", "nasl random"),
             ("Optuna RandomSampler", "nasl regularized_evolution (P=10, S=3)")]
    worst = float("inf")
    for lib, ours in pairs:
        ratio = us[lib] / us[ours]
        worst = min(worst, ratio)
        print(f"{lib} / {ours}: {ratio:8.1f}x  {'PASS' if ratio >= GOAL else 'FAIL'} (goal >= {GOAL:.0f}x)")
    print(f"smallest ratio {worst:.1f}x; goal >= {GOAL:.0f}x: {'PASS' if worst >= GOAL else 'FAIL'}")


if __name__ == "__main__":
    main()
