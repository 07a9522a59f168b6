"""Language bugs found by writing spaces from papers as a new user would (issue 14)."""
from __future__ import annotations

import json

import pytest

import nasl
from nasl.ir.errors import NaslError

HEAD = "param CH = [8, 16, 32]\ninput x: [3, 8, 8]\nnetwork {\n"


def _load(body: str, **params):
    return nasl.loads(HEAD + body + "}\n", "t.nas", **params)


# bug 6: a negative index from a choice wrapped around silently -------------------------------------------------

@pytest.mark.parametrize("index", ["choice(-1, 0, 1)", "int_range(-1, 1)", "-1"])
def test_a_negative_index_is_an_error_at_load(index):
    with pytest.raises(NaslError, match=r"index -1 is negative: nasl does not count from the end") as e:
        _load(f"  return x >> conv(CH[{index}])\n")
    assert (e.value.span.line, e.value.span.col) == (4, 20)


def test_a_negative_index_computed_from_a_choice_is_an_error_where_it_is_drawn():
    space = _load("  i = choice(0, 1, 2) as i\n  return x >> conv(CH[i - 2])\n")
    space.realize({"i": 2})
    with pytest.raises(NaslError, match=r"index -2 is negative") as e:
        space.realize({"i": 0})
    assert e.value.span.line == 5


def test_non_negative_choice_indices_still_work():
    space = _load("  return x >> conv(CH[choice(0, 1, 2)])\n")
    assert space.size() == 3
