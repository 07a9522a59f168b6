"""Each learning searcher beats random search on the NAS-Bench-201 table at 200 queries.

The table (CIFAR-10 test accuracy, 200 epochs) is the evaluator, looked up
by the architecture's NAS-Bench-201 string. For each searcher, the mean best
accuracy over a fixed set of seeds must exceed random search's (over 50
seeds) by at least two standard errors of the difference, and by 0.05
points. Seeds are fixed, so the test is deterministic; the margin says the
gap is not a lucky draw of seeds. Options shrink the slow parts (replays,
the controller) to keep each case within a few seconds.
"""
from __future__ import annotations

import csv
import math
import pathlib
import statistics

import pytest

import nasl
from nasl.searchers import create
from tests.searchers.test_nb201_quality import arch_string

ROOT = pathlib.Path(__file__).resolve().parents[2]
# beside the checkout, or beside the folder of worktrees that holds it
CSV = next((p for p in (ROOT.parent / "shared/benchmarks/nb201.csv", ROOT.parents[1] / "shared/benchmarks/nb201.csv")
            if p.exists()), ROOT.parent / "shared/benchmarks/nb201.csv")
QUERIES = 200

pytestmark = pytest.mark.skipif(not CSV.exists(), reason=f"{CSV} is missing")

CASES = {
    # name: (options, seeds)
    "tournament_evolution": ({"population_size": 20}, 50),
    "pairwise_tournament": ({"population_size": 20}, 50),
    "genetic": ({}, 50),
    "mcts": ({}, 40),
    "q_learning": ({"replay": 20}, 30),
    "reinforce": ({"hidden_size": 16}, 10),
}


@pytest.fixture(scope="module")
def table():
    with open(CSV, newline="") as f:
        return {row["ArchitectureString"]: float(row["CIFAR10TestAccuracy200Epochs"]) for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def spec():
    return nasl.load(ROOT / "examples" / "nas_bench_201.nas").spec


def best_of(table, spec, name, seed, **options) -> float:
    s = create(name, spec, seed=seed, **options)
    best = -math.inf
    for _ in range(QUERIES):
        a = s.ask()
        acc = table[arch_string(a)]
        s.tell(a, acc)
        best = max(best, acc)
    return best


def mean_se(xs):
    return statistics.mean(xs), statistics.stdev(xs) / math.sqrt(len(xs))


@pytest.fixture(scope="module")
def random_best(table, spec):
    return mean_se([best_of(table, spec, "random", seed) for seed in range(50)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_learns_more_than_random_search(table, spec, random_best, name):
    options, seeds = CASES[name]
    mean, se = mean_se([best_of(table, spec, name, seed, **options) for seed in range(seeds)])
    rnd, rnd_se = random_best
    assert mean - rnd >= max(2 * math.hypot(se, rnd_se), 0.05), (name, mean, se, rnd, rnd_se)
