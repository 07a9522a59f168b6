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

import math

import pytest

from tests.searchers import nb201_table
from tests.searchers.nb201_table import mean_se

QUERIES = 200


CASES = {
    # name: (options, seeds)
    "tournament_evolution": ({"population_size": 20}, 50),
    "pairwise_tournament": ({"population_size": 20}, 50),
    "genetic": ({}, 50),
    "mcts": ({}, 40),
    "q_learning": ({"replay": 20}, 30),
    "reinforce": ({"hidden_size": 16}, 10),
}


def best_of(table, spec, name, seed, **options) -> float:
    return nb201_table.best_of(table, spec, name, QUERIES, seed, **options)


@pytest.fixture(scope="module")
def random_best(table, spec):
    return mean_se([best_of(table, spec, "random", seed) for seed in range(50)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_learns_more_than_random_search(table, spec, random_best, name):
    options, seeds = CASES[name]
    mean, se = mean_se([best_of(table, spec, name, seed, **options) for seed in range(seeds)])
    rnd, rnd_se = random_best
    assert mean - rnd >= max(2 * math.hypot(se, rnd_se), 0.05), (name, mean, se, rnd, rnd_se)
