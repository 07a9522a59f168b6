"""choice(f(...)) where f is a list builtin chooses among the list's elements.

Before, a single call argument was always one inline alternative (as
`choice(conv(k=3))` is), so `choice(range(n))` silently had one value,
labelled "range", and the space's size was wrong.
"""
from __future__ import annotations

import pytest

import nasl

HEAD = "input x: [4, 8, 8]\nnetwork {\n    n = 3\n"


@pytest.mark.parametrize("expr,values", [
    ("range(n)", [0, 1, 2]),
    ("list(range(1, n + 1))", [1, 2, 3]),
    ("select([1, 3, 5, 7], [0, 2])", [1, 5]),
])
def test_a_list_builtin_call_is_expanded(expr, values):
    space = nasl.loads(HEAD + f"    k = choice({expr})\n    return x >> conv(4, k=2 * k + 1)\n}}\n")
    assert space.size() == len(values)
    assert sorted(space.spec["k"].values()) == values


def test_a_single_op_call_is_still_one_inline_alternative():
    space = nasl.loads(HEAD + "    return x >> choice(conv(4, k=3)) as op\n}\n")
    assert space.size() == 1
