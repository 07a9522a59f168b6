"""large_scale_evolution's parts one at a time: each mutation type does what its name says (grow and
shrink step a numeric choice to the neighbouring value, alter moves a choice to another value of its
domain, identity and reset keep the architecture), and the pairwise tournament kills the loser."""
from __future__ import annotations

import random

import pytest

import nasl
from nasl.searchers import create
from nasl.searchers.pairwise import pairwise_select
from nasl.searchers.walks import numeric_values

SPACE = nasl.load("nasl/spaces/digits.nas")


def _children(kind, n=40, seed=0, population=4):
    """``n`` children of a searcher restricted to the mutation ``kind``, with their lineage."""
    s = create("large_scale_evolution", SPACE.spec, seed=seed, population_size=population,
               mutations=[kind])
    for i in range(population):
        s.tell(s.ask(), float(i))
    out = []
    for i in range(n):
        a = s.ask()
        out.append((a, s.lineage_of(a)))
        s.tell(a, float(i % 5))
    return out


def _mutated_path(lin):
    """``mutate PATH: OLD -> NEW (kind)`` -> PATH."""
    return lin.transformation.split()[1].rstrip(":")


@pytest.mark.parametrize("kind, step", [("grow", 1), ("shrink", -1)])
def test_grow_and_shrink_step_a_numeric_choice_to_its_neighbour(kind, step):
    choices = {c.path: c for c in SPACE.spec.all_choices()}
    seen = set()
    fallbacks = 0
    for a, lin in _children(kind, n=60, population=12):
        if lin.transformation == "identity":      # the parent allows no such step: it trains on as it is
            can = [c for c in choices.values() if c.path in lin.parent and numeric_values(c)
                   and (lin.parent[c.path] != numeric_values(c)[-1 if step > 0 else 0])]
            assert not can and a == lin.parent
            fallbacks += 1
            continue
        assert lin.transformation.startswith("mutate ") and lin.transformation.endswith(f"({kind})")
        path = _mutated_path(lin)
        values = list(numeric_values(choices[path]))
        assert values, f"{path} is not numeric"
        old, new = lin.parent[path], a[path]
        assert values.index(new) == values.index(old) + step       # the neighbouring value, no jump
        # no other choice the parent had changes (newly active ones are drawn fresh)
        assert all(a[p] == lin.parent[p] for p in lin.parent if p in a and p != path)
        SPACE.validate(a)
        seen.add(path)
    assert {"width", "depth"} <= seen           # a grow-only population ends at the largest sizes: identity then


def test_alter_moves_one_choice_to_another_value_of_its_domain():
    choices = {c.path: c for c in SPACE.spec.all_choices()}
    paths = set()
    for a, lin in _children("alter", n=60):
        path = _mutated_path(lin)
        assert a[path] != lin.parent[path] and a[path] in choices[path].value_table()
        assert [p for p in lin.parent if p in a and a[p] != lin.parent[p]] == [path]
        paths.add(path)
    assert any(p.startswith("cell.") for p in paths)               # ops, not only sizes


@pytest.mark.parametrize("kind", ["identity", "reset"])
def test_identity_and_reset_keep_the_architecture(kind):
    for a, lin in _children(kind, n=10):
        assert a == lin.parent and lin.transformation == kind


def test_the_tournament_kills_the_loser_and_keeps_the_winner():
    rng = random.Random(0)
    pop = [({"a": i}, float(i)) for i in range(10)]
    for _ in range(9):
        before = list(pop)
        parent = pairwise_select(pop, rng)
        assert len(pop) == len(before) - 1
        (killed,) = [m for m in before if m not in pop]
        winner = next(m for m in before if m[0] is parent)
        assert winner in pop and winner[1] >= killed[1]
    assert pop == [({"a": 9}, 9.0)]                                 # the best member never loses


def test_a_worse_member_is_never_a_parent_of_a_better_pair():
    """Through the searcher: after the initial population, each parent was the better of two."""
    s = create("large_scale_evolution", SPACE.spec, seed=3, population_size=6)
    scores = {}
    for i in range(6):
        a = s.ask()
        scores[a] = float(i)
        s.tell(a, float(i))
    first = s.ask()
    assert scores[s.lineage_of(first).parent] > 0.0                 # the worst member (0.0) loses any pair
