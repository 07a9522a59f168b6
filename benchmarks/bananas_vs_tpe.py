"""Benchmark: ``bananas`` ask+tell against Optuna's TPE in the same run, at 100 to 800 trials.

Each run is a fresh searcher (seed = the repeat's number) for ``n`` rounds on
the NAS-Bench-201 spec, told the CIFAR-10 accuracy of the bundled table (a
lookup, so the scores have the table's structure, as in a real study). The
figure is the run's time per ask+tell, model fits included, amortised: the
median over ``--repeats`` runs. Rows, all in the same run:

* ``bananas`` with its defaults (warm-started fits: 200 Adam steps for the
  first fit, then ``warm_epochs=40`` from the last fit's weights);
* ``bananas`` with ``warm_epochs=0`` (every fit from random weights, 200
  steps: the searcher before warm starts, draw for draw);
* Optuna alone with ``TPESampler``: ``study.ask()``, six
  ``suggest_categorical``, ``study.tell()`` on an in-memory study (no adapter,
  so the stricter baseline);

and the ratio of each bananas row to TPE (below 1: faster than TPE).

Usage::

    python benchmarks/bananas_vs_tpe.py [--trials 100 200 400 800] [--repeats 3] [--no-cold]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import nasl  # noqa: E402
from nasl.formats.nb201 import to_string  # noqa: E402
from nasl.searchers import create  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402


def load_table() -> dict:
    import csv

    from nasl.data import NB201_TABLE, open_text
    with open_text(NB201_TABLE) as f:
        return {r["ArchitectureString"]: float(r["CIFAR10TestAccuracy200Epochs"]) for r in csv.DictReader(f)}


def bananas(spec, table, seed, n, **options):
    s = create("bananas", spec, seed=seed, **options)
    for _ in range(n):
        a = s.ask()
        s.tell(a, table[to_string(a)])


def tpe(spec, table, seed, n):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    paths = [c.path for c in spec.top_level()]
    ops = list(spec.top_level()[0].domain)
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage(),
                                sampler=optuna.samplers.TPESampler(seed=seed), direction="maximize")
    for _ in range(n):
        t = study.ask()
        arch = {p: t.suggest_categorical(p, ops) for p in paths}
        study.tell(t, table[to_string(arch)])


def ms_per_round(fn, n, repeats) -> float:
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t)
    return statistics.median(times) / n * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, nargs="+", default=[100, 200, 400, 800])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-cold", action="store_true", help="leave out the warm_epochs=0 row (slow at 800)")
    args = ap.parse_args()
    spec = nasl.load(ROOT / "examples" / "nas_bench_201.nas").spec
    table = load_table()
    print(machine())
    print(f"NAS-Bench-201 spec, CIFAR-10 table scores; ms per ask+tell, median of {args.repeats} runs")
    print(f"{'trials':>6} {'bananas':>9} {'(warm=0)':>9} {'TPE':>9} {'bananas/TPE':>12} {'(warm=0)/TPE':>13}")
    for n in args.trials:
        warm = ms_per_round(lambda i: bananas(spec, table, i, n), n, args.repeats)
        cold = None if args.no_cold else \
            ms_per_round(lambda i: bananas(spec, table, i, n, warm_epochs=0), n, args.repeats)
        base = ms_per_round(lambda i: tpe(spec, table, i, n), n, args.repeats)
        cold_s = "" if cold is None else f"{cold:9.2f}"
        cold_r = "" if cold is None else f"{cold / base:13.2f}"
        print(f"{n:6d} {warm:9.2f} {cold_s:>9} {base:9.2f} {warm / base:12.2f} {cold_r:>13}", flush=True)


if __name__ == "__main__":
    main()
