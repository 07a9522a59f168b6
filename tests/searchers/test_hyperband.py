"""Successive halving and Hyperband: brackets, rungs, budgets, asynchrony."""
from __future__ import annotations

import pytest

from nasl.searchers import Exhausted, Result, create


def value(arch) -> float:
    """A deterministic objective: more 3x3 convs is better, ties broken by the hash."""
    return sum(v == "nor_conv_3x3" for v in arch.values()) + int(arch.id[:4], 16) / 2 ** 17


def test_hyperband_brackets_match_li_et_al_table(nb201):
    # Li et al. (JMLR 2018), Table 1: R = 81, eta = 3
    hb = create("hyperband", nb201.spec, seed=0, min_budget=1, max_budget=81, eta=3)
    assert hb.s_max == 4
    plans = [hb.bracket_plan(i) for i in range(5)]
    assert [c for _, c in plans] == [[81, 27, 9, 3, 1], [34, 11, 3, 1], [15, 5, 1], [8, 2], [5]]
    assert [b for b, _ in plans] == [[1, 3, 9, 27, 81], [3, 9, 27, 81], [9, 27, 81], [27, 81], [81]]
    assert hb.bracket_plan(5) == plans[0]          # and round again


def test_successive_halving_promotes_the_best_third(nb201):
    sh = create("successive_halving", nb201.spec, seed=1, min_budget=1, max_budget=9, eta=3)
    rung0 = [sh.ask_with_budget() for _ in range(9)]
    assert {b for _, b in rung0} == {1} and len({a for a, _ in rung0}) == 9
    for a, b in rung0:
        sh.tell(a, value(a), b)
    rung1 = [sh.ask_with_budget() for _ in range(3)]
    best3 = sorted((a for a, _ in rung0), key=value, reverse=True)[:3]
    assert [a for a, _ in rung1] == best3 and {b for _, b in rung1} == {3}
    for a, b in reversed(rung1):                   # out of order
        sh.tell(a, value(a), b)
    top, budget = sh.ask_with_budget()
    assert (top, budget) == (best3[0], 9)
    sh.tell(top, value(top), 9)
    assert sh.base.num_told == 9                   # every architecture went back to the base searcher
    a, b = sh.ask_with_budget()                    # a new bracket
    assert b == 1 and a not in {x for x, _ in rung0}


def test_asks_while_a_rung_waits_open_the_next_bracket(nb201):
    sh = create("successive_halving", nb201.spec, seed=2, min_budget=1, max_budget=9, eta=3)
    got = [sh.ask_with_budget() for _ in range(20)]       # nothing told: never blocks
    assert [b for _, b in got] == [1] * 20
    assert len(sh.brackets) == 3 and len(sh.pending) == 20


def test_failures_never_advance_and_plain_ask_tell_works(nb201):
    sh = create("successive_halving", nb201.spec, seed=3, min_budget=1, max_budget=9, eta=3)
    archs = [sh.ask() for _ in range(9)]               # ask() returns the arch; the budget is recorded
    for i, a in enumerate(archs):
        sh.tell(a, Result.failure("oom") if i < 8 else value(a))   # no budget: the pending one
    a, b = sh.ask_with_budget()
    assert (a, b) == (archs[8], 3)                     # the only success goes on, alone


def test_wrapping_another_searcher(nb201):
    sh = create("hyperband", nb201.spec, seed=4, base="regularized_evolution",
                base_options={"population_size": 5, "sample_size": 2}, min_budget=1, max_budget=9)
    assert sh.base.name == "regularized_evolution" and sh.base.population_size == 5
    for _ in range(60):
        a, b = sh.ask_with_budget()
        sh.tell(a, value(a) + b, b)
    assert sh.base.num_told > 20 and len(sh.base.population) == 5


def test_bad_options_are_clear(nb201):
    with pytest.raises(ValueError, match="min_budget"):
        create("successive_halving", nb201.spec, min_budget=10, max_budget=1)
    with pytest.raises(ValueError, match="eta"):
        create("hyperband", nb201.spec, eta=1)
    with pytest.raises(ValueError, match="num_configs"):
        create("hyperband", nb201.spec, num_configs=5)
    with pytest.raises(KeyError, match="no searcher named"):
        create("hyperband", nb201.spec, base="nope")
    with pytest.raises(ValueError, match="cannot wrap"):
        create("hyperband", nb201.spec, base="successive_halving")


def test_exhausted_base_says_what_is_pending():
    from nasl.ir.decision_tree import Block, Choice, ChoiceSpec
    spec = ChoiceSpec(Block([Choice("a", "choice", (1, 2))]))
    sh = create("successive_halving", spec, seed=0, min_budget=1, max_budget=4, eta=2)
    a, b = sh.ask_with_budget(), sh.ask_with_budget()
    with pytest.raises(Exhausted, match="2 evaluation\\(s\\) are still pending"):
        sh.ask_with_budget()
    sh.tell(a[0], 1.0, a[1])
    sh.tell(b[0], 2.0, b[1])
    assert sh.ask_with_budget() == (b[0], 2)       # the shrunk bracket still promotes
    with pytest.raises(Exhausted):                 # the other one did not go on
        sh.ask_with_budget()
