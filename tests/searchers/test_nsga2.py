"""Pareto helpers and NSGA-II."""
from __future__ import annotations

import math
import random

import pytest

from nasl.searchers import Result, create
from nasl.searchers.nsga2 import uniform_crossover
from nasl.searchers.pareto import crowding_distance, dominates, fast_non_dominated_sort, first_front, pareto_front


def test_dominance_and_sorting():
    assert dominates((2, 2), (1, 2)) and not dominates((1, 2), (1, 2)) and not dominates((3, 0), (0, 3))
    pts = [(1, 5), (2, 4), (3, 3), (2, 2), (1, 1), (0, 6), (1, 4)]
    assert fast_non_dominated_sort(pts) == [[0, 1, 2, 5], [3, 6], [4]]


def test_sorting_matches_brute_force():
    rng = random.Random(0)
    pts = [(rng.randint(0, 9), rng.randint(0, 9), rng.randint(0, 9)) for _ in range(60)]
    fronts = fast_non_dominated_sort(pts)
    assert first_front(pts) == fronts[0]
    assert sorted(i for f in fronts for i in f) == list(range(60))
    rest = set(range(60))
    for f in fronts:
        assert f == sorted(i for i in rest if not any(dominates(pts[j], pts[i]) for j in rest))
        rest -= set(f)


def test_crowding_distance():
    pts = [(0.0, 4.0), (1.0, 3.0), (3.0, 1.0), (4.0, 0.0)]
    d = crowding_distance(pts, [0, 1, 2, 3])
    assert d[0] == d[3] == math.inf
    assert d[1] == pytest.approx(3 / 4 + 3 / 4) and d[2] == pytest.approx(3 / 4 + 3 / 4)


def test_pareto_front_of_results_respects_directions_and_failures():
    rs = [("a", Result({"acc": 90, "params": 1}, {"params": "min"})),
          ("b", Result({"acc": 93, "params": 3}, {"params": "min"})),
          ("c", Result({"acc": 92, "params": 4}, {"params": "min"})),
          ("d", Result.failure("oom")),
          ("e", Result({"acc": 93, "params": 2}, {"params": "min"}))]
    assert [k for k, _ in pareto_front(rs)] == ["a", "e"]
    assert [k for k, _ in pareto_front(rs, objectives=["acc"])] == ["b", "e"]
    assert pareto_front([Result.failure("x")]) == []


def test_crossover_respects_conditional_choices():
    from nasl.ir.decision_tree import Block, Choice, ChoiceSpec, Group, Guard
    spec = ChoiceSpec(Block([Choice("a", "choice", ("conv", "pool")),
                             Group(Guard("a", frozenset({"conv"})), Block([Choice("k", "choice", (3, 5))])),
                             Choice("c", "choice", (1, 2, 3))]))
    x, y = {"a": "conv", "k": 5, "c": 1}, {"a": "pool", "c": 3}
    rng = random.Random(0)
    kids = [dict(uniform_crossover(spec, x, y, rng)) for _ in range(200)]
    for kid in kids:
        assert ("k" in kid) == (kid["a"] == "conv")
        assert kid["c"] in (1, 3) and kid.get("k", 5) == 5
    assert len({tuple(sorted(k.items())) for k in kids}) == 4


def test_nsga2_keeps_a_ranked_population(nb201):
    s = create("nsga2", nb201.spec, seed=0, population_size=8)
    for _ in range(40):
        a = s.ask()
        convs = sum(v.startswith("nor_conv") for v in a.values())
        s.tell(a, Result({"acc": convs + 0.1 * sum(v == "nor_conv_3x3" for v in a.values()),
                          "params": convs}, {"params": "min"}))
    assert s.objectives == ["acc", "params"] and len(s.population) == 8
    ranks = [m[2] for m in s.population]
    assert ranks == sorted(ranks)
    first = [m[1] for m in s.population if m[2] == 0]
    assert all(not dominates(p, q) for p in first for q in first)


def test_nsga2_options_are_checked(nb201):
    with pytest.raises(ValueError, match="population_size"):
        create("nsga2", nb201.spec, population_size=1)
    with pytest.raises(ValueError, match="crossover_prob"):
        create("nsga2", nb201.spec, crossover_prob=1.5)
