"""Benchmark: ask+tell overhead of the model-based, multi-fidelity and multi-objective searchers.

Mirrors ``searcher_overhead.py`` (NAS-Bench-201 spec, precomputed values,
median of ``--repeats`` with a fresh searcher each) for ``nsga2``,
``successive_halving`` and ``hyperband`` (wrapping ``random``; tells pass the
budget back), ``bananas`` (model fits included, amortised over the asks) and
the ``optuna`` adapter (TPE and random samplers). Baselines measured in the
same run:

* the least a searcher must do (one ``random.Random``, 6 picks into a dict);
* ``random`` (this package's random search);
* Optuna itself, without the adapter: ``study.ask()``, six
  ``suggest_categorical`` calls, ``study.tell()`` on an in-memory study with
  the same sampler, so the adapter's own cost is the difference.

Model-based searchers grow more expensive with the history, so each row
states its number of rounds ``n``.

Usage::

    python benchmarks/searcher_overhead_model_based.py [--n 2000] [--n-model 200] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from nasl.searchers import create  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402
from searcher_overhead import median_us, nb201_setup  # noqa: E402


def baseline(paths, ops, seed, n, values):
    r = random.Random(seed).random
    k = len(ops)
    return [({p: ops[int(r() * k)] for p in paths}, values[i]) for i in range(n)]


def searcher_loop(spec, name, options, seed, n, values, two_objectives=False):
    s = create(name, spec, seed=seed, **options)
    for i in range(n):
        a, budget = s.ask_with_budget()
        s.tell(a, {"acc": values[i], "params": float(i % 7)} if two_objectives else values[i], budget)
    return s


def optuna_native(paths, ops, sampler, seed, n, values):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage(), sampler=samplers[sampler](seed=seed),
                                direction="maximize")
    for i in range(n):
        t = study.ask()
        for p in paths:
            t.suggest_categorical(p, ops)
        study.tell(t, values[i])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="rounds for the cheap searchers")
    ap.add_argument("--n-model", type=int, default=200, help="rounds for bananas and optuna")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    n, nm, repeats = args.n, args.n_model, args.repeats

    spec, paths, ops, values = nb201_setup(max(n, nm))

    print(machine())
    print(f"NAS-Bench-201 spec: {len(paths)} choices x {len(ops)} ops; median of {repeats}")
    base = median_us(lambda i: baseline(paths, ops, i, n, values), n, repeats)
    print(f"{'baseline (random.Random, 6 picks)':48s} n={n:5d} {base:10.2f} µs")
    rows = [
        ("random", {}, n, False),
        ("nsga2", {"population_size": 20}, n, True),
        ("successive_halving", {"min_budget": 1, "max_budget": 81, "eta": 3}, n, False),
        ("hyperband", {"min_budget": 1, "max_budget": 81, "eta": 3}, n, False),
        ("bananas", {}, nm, False),
        ("optuna", {"sampler": "random"}, nm, False),
        ("optuna", {"sampler": "tpe"}, nm, False),
    ]
    for name, options, rounds, two in rows:
        us = median_us(lambda i: searcher_loop(spec, name, options, i, rounds, values, two), rounds, repeats)
        label = name + (f" ({options['sampler']})" if "sampler" in options else "")
        print(f"{label:48s} n={rounds:5d} {us:10.2f} µs  ratio {us / base:8.1f}x baseline")
    for sampler in ("random", "tpe"):
        us = median_us(lambda i: optuna_native(paths, ops, sampler, i, nm, values), nm, repeats)
        print(f"{'Optuna alone, ' + sampler + ' sampler':48s} n={nm:5d} {us:10.2f} µs  ratio "
              f"{us / base:8.1f}x baseline")


if __name__ == "__main__":
    main()
