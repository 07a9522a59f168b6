"""pick(k, replace=true) and subset(..., replace=true): k picks with repetition."""
from __future__ import annotations

import random
from collections import Counter

import pytest

import nasl
from nasl.ir.choice import Choice


@pytest.mark.parametrize("ordered,count", [(False, 6), (True, 9)])
def test_choice_values_cardinality_and_uniform_sampling(ordered, count):
    c = Choice("x", "subset", (0, 1, 2), k=2, ordered=ordered, replace=True)
    values = list(c.values())
    assert len(values) == len(set(values)) == c.cardinality() == count
    assert (1, 1) in values and c.contains((2, 2)) and c.contains([0, 0])
    assert c.contains((2, 1)) == ordered
    assert not c.contains((0, 1, 2)) and not c.contains((0, 3))
    rng = random.Random(1)
    draws = Counter(c.sample(rng) for _ in range(9000))
    assert set(draws) == set(values)
    assert max(draws.values()) - min(draws.values()) < 0.3 * 9000 / count
    assert c.to_dict()["replace"] is True
    assert c.describe().endswith("replace=true)")


def test_dag_node_may_read_one_input_twice():
    space = nasl.loads("""
        input x: [4, 8, 8]
        def cell(c) = dag(inputs=2, nodes=4, output="loose") {
            node j: inputs = pick(2, ordered=true, replace=true), edge = choice(conv(c, k=1), max_pool(k=3))
        }
        network { return cell(4)(x, x) }""")
    # node 2: 2^2 ordered pairs, node 3: 3^2; 2 ops per pick
    assert space.size() == (4 * 4) * (9 * 4)
    arch = space.validate({"cell.node[2].inputs": (1, 1), "cell.node[2].edge[0]": "conv",
                           "cell.node[2].edge[1]": "max_pool", "cell.node[3].inputs": (2, 0),
                           "cell.node[3].edge[0]": "conv", "cell.node[3].edge[1]": "conv"})
    g = space.realize(arch)
    assert g.op_counts() == {"conv": 3, "max_pool": 1, "sum": 2}
    assert len(set(space.enumerate())) == space.size()


def test_distinct_picks_are_unchanged():
    space = nasl.loads("""
        input x: [4, 8, 8]
        def cell(c) = dag(inputs=2, nodes=4) { node j: inputs = pick(2), edge = conv(c, k=1) }
        network { return cell(4)(x, x) }""")
    assert space.size() == 1 * 3
    with pytest.raises(nasl.InvalidArchitecture, match="is not in subset"):
        space.validate({"cell.node[2].inputs": (1, 1), "cell.node[3].inputs": (0, 1)})


def test_subset_with_replacement_needs_k():
    with pytest.raises(nasl.NaslError, match="replace=true needs k"):
        nasl.loads("""
            input x: [4, 8, 8]
            network { a = subset([1, 2], replace=true)
                      return x }""")
    space = nasl.loads("""
        input x: [4, 8, 8]
        network { a = subset([1, 2, 3], k=4, replace=true)
                  return x >> conv(a[0]) }""")
    assert space.size() == 15       # multisets of 4 over 3 items: C(6, 4)
