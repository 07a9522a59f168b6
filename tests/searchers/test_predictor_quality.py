"""Issue 18's searchers on the NAS-Bench-201 table (CIFAR-10, 200 queries, 50 seeds): each must beat
random search by at least 2 standard errors. Figures: BENCHMARKS.md, section 28."""
from __future__ import annotations

import math

import pytest

from tests.searchers.nb201_table import best_of, mean_se

SEEDS = range(50)


def _margin(table, spec, name, **options):
    got, se = mean_se([best_of(table, spec, name, 200, seed, **options) for seed in SEEDS])
    rnd, rse = mean_se([best_of(table, spec, "random", 200, seed) for seed in SEEDS])
    return got, rnd, math.hypot(se, rse)


@pytest.mark.slow
def test_mdenas_beats_random_search_at_200(table, spec):
    got, rnd, se = _margin(table, spec, "mdenas")
    assert got - rnd >= 2 * se, (got, rnd, se)


@pytest.mark.slow
def test_pnas_beats_random_search_at_200(table, spec):
    got, rnd, se = _margin(table, spec, "pnas")
    assert got - rnd >= 2 * se, (got, rnd, se)
