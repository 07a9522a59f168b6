"""Counting and sampling stay exact and bounded under rare constraints.

Constraints over a few always-active int or choice values are counted by a
dynamic program over partial sums (or by listing small products) and drawn
from the combinations that hold; everything else gives up within seconds
with an error that names the constraint and says what was tried.
"""
from __future__ import annotations

import itertools
import time
from collections import Counter

import pytest

import nasl
from nasl.ir import counting, exact, space as space_mod


def load(body: str, **params):
    return nasl.loads("input x: [3, 8, 8]\nnetwork {\n" + body + "\n    return x >> conv(4)\n}\n", "f.nas", **params)


def cpu():
    return time.process_time()


def test_two_huge_ranges_with_equalities_count_and_sample_exactly():
    t = cpu()
    s = load("    a = int_range(1, 1000000)\n    b = int_range(1, 1000000)\n    require a == 777 and b == 333")
    assert s.size() == 1
    assert [dict(a) for a in s.sample(0, n=3)] == [{"a": 777, "b": 333}] * 3
    assert cpu() - t < 5


def test_a_sum_that_no_combination_reaches_is_zero_and_refused_at_the_constraint():
    t = cpu()
    s = load("    a = int_range(1, 1000)\n    b = int_range(1, 1000)\n    c = int_range(1, 1000)\n"
             "    require a + b + c == 5000")
    assert s.size() == 0
    with pytest.raises(nasl.UnsatisfiableError) as e:
        s.sample(0)
    assert e.value.span.line == 6 and e.value.span.col == 5
    assert "no architecture satisfies 'require a + b + c == 5000': it holds for none of the 1,000,000,000 " \
           "combinations of a, b, c (counted exactly)" in e.value.message
    assert cpu() - t < 5


def test_a_satisfiable_sum_over_three_ranges():
    s = load("    a = int_range(1, 1000)\n    b = int_range(1, 1000)\n    c = int_range(1, 1000)\n"
             "    require a + b + c == 2500")
    # c = 2500 - a - b must lie in 1..1000
    assert s.size() == sum(1 for a in range(1, 1001) for b in range(1, 1001) if 1 <= 2500 - a - b <= 1000)
    for arch in s.sample(1, n=50):
        assert arch["a"] + arch["b"] + arch["c"] == 2500


SMALL = [
    ("a = int_range(1, 12)", "b = int_range(1, 12)", "c = int_range(1, 12)", "require a + b + c == 20"),
    ("a = int_range(1, 12)", "b = int_range(0, 30, step=3)", "c = choice(2, 4, 6)", "require 2 * a - b <= c + 3"),
    ("a = int_range(-5, 5)", "b = int_range(1, 12)", "c = int_range(1, 3)", "forbid a + b + c > 9"),
    ("a = int_range(1, 12)", "b = int_range(1, 12)", "c = int_range(1, 12)", "require a - b != 3 - c"),
    ("a = int_range(1, 12)", "b = int_range(1, 12)", "c = int_range(1, 12)", "require -a + 3 * b > c * 2"),
    ("a = int_range(1, 12)", "b = int_range(1, 12)", "c = int_range(1, 12)", "require a * b == 12 and c >= 10"),
]


def brute(lines, domains):
    expr = lines[-1].split(" ", 1)[1]
    keep = lines[-1].startswith("require")
    py = expr.replace("-a", "(-a)")
    return [dict(zip("abc", v)) for v in itertools.product(*domains)
            if bool(eval(py, {}, dict(zip("abc", v)))) == keep]


DOMAINS = {"int_range(1, 12)": range(1, 13), "int_range(0, 30, step=3)": range(0, 31, 3),
           "choice(2, 4, 6)": (2, 4, 6), "int_range(-5, 5)": range(-5, 6), "int_range(1, 3)": range(1, 4)}


@pytest.mark.parametrize("lines", SMALL, ids=[s[-1] for s in SMALL])
def test_counts_and_draws_match_brute_force(lines):
    s = load("\n".join("    " + line for line in lines))
    domains = [DOMAINS[line.split(" = ")[1]] for line in lines[:3]]
    valid = brute(lines, domains)
    assert s.size() == len(valid)
    assert s._clusters()[1], "counted exactly, not by the walker"
    n = 40 * len(valid) if len(valid) <= 100 else 2000
    draws = Counter(tuple(sorted(a.items())) for a in s.sample(2, n=n))
    assert set(draws) <= {tuple(sorted(v.items())) for v in valid}
    if len(valid) <= 100:
        # uniform: every valid combination turns up (40 times on average), none more than 3x its share
        assert len(draws) == len(valid) and max(draws.values()) < 120


def test_the_rest_of_the_space_multiplies_the_exact_share():
    s = load("    a = int_range(1, 100000)\n    b = int_range(1, 100000)\n    require a + b == 100001\n"
             "    h = x\n    deep = boolean()\n    if deep { h = h >> conv(8) }\n    k = choice(1, 3, 5)\n"
             "    forbid k == 3 and deep")
    assert s.size() == 100000 * (2 * 3 - 1)
    seen = Counter()
    for arch in s.sample(3, n=300):
        s.validate(arch)
        seen[(arch["deep"], arch["k"])] += 1
    assert (True, 3) not in seen and len(seen) == 5


def test_a_split_constraint_goes_back_whole_when_one_part_is_not_exact(monkeypatch):
    monkeypatch.setattr(exact, "PRODUCT_LIMIT", 10)         # a * b over 10 x 10 is then out of reach
    s = load("    a = int_range(1, 10)\n    b = int_range(1, 10)\n    c = int_range(1, 5)\n"
             "    require a * b == 6 and c == 3")
    assert s._clusters() == ([], frozenset())
    assert s.size() == 4
    assert {(a["a"], a["b"], a["c"]) for a in s.sample(0, n=60)} == {(1, 6, 3), (2, 3, 3), (3, 2, 3), (6, 1, 3)}


RARE = "    a = int_range(1, 1000000)\n    b = int_range(1, 1000000)\n    require a * b == 777333"


@pytest.fixture()
def quick(monkeypatch):
    monkeypatch.setattr(counting, "GRACE_S", 0.2)
    monkeypatch.setattr(space_mod, "REJECTION_S", 0.2)


def test_counting_without_an_exact_method_gives_up_naming_the_constraint(quick):
    t = cpu()
    with pytest.raises(nasl.NaslError) as e:
        load(RARE).size()
    assert e.value.span.line == 5
    msg = e.value.message
    assert msg.startswith("cannot count 'require a * b == 777333' exactly: enumerating its choices for 0.")
    assert "found 0 valid combinations and projects about" in msg
    assert cpu() - t < 3


def test_sampling_without_an_exact_method_gives_up_saying_what_it_tried(quick):
    t = cpu()
    with pytest.raises(nasl.UnsatisfiableError) as e:
        load(RARE).sample(0)
    msg = e.value.render()
    assert msg.startswith("f.nas:5:5: error: no architecture satisfies 'require a * b == 777333' in ")
    assert "random draws (0." in msg and "counting them gave up" in msg
    assert "\n" not in e.value.message
    assert cpu() - t < 3


def test_enumeration_gives_up_when_nothing_turns_up(quick):
    with pytest.raises(nasl.NaslError, match="cannot enumerate under 'require a \\* b == 777333'"):
        next(load(RARE).enumerate())


def test_a_slow_but_feasible_walk_is_not_given_up(quick, monkeypatch):
    # 48^3 combinations through the walker, which decides the constraint only at the leaves
    monkeypatch.setattr(exact, "PRODUCT_LIMIT", 0)
    s = load("    a = int_range(1, 48)\n    b = int_range(1, 48)\n    c = int_range(1, 48)\n"
             "    require a * b * c % 7 == 1")
    want = sum(1 for a in range(1, 49) for b in range(1, 49) for c in range(1, 49) if a * b * c % 7 == 1)
    assert s.size() == want


def test_listing_the_rest_draws_the_exact_clusters_apart():
    # the guarded constraint defeats rejection (1 draw in 100,000 holds), so the rest is listed;
    # the always-active pair is drawn apart from the list
    s = load("    a = int_range(1, 100000)\n    b = int_range(1, 100000)\n    require a + b == 100001\n"
             "    d = boolean()\n    require d\n    if d {\n        m = int_range(1, 50000)\n        require m == 7\n    }")
    assert s.size() == 100000
    archs = s.sample(4, n=20)
    for arch in archs:
        s.validate(arch)
        assert arch["d"] is True and arch["m"] == 7 and arch["a"] + arch["b"] == 100001
    assert len({arch["a"] for arch in archs}) > 15
    assert s._valid == [{"a": 1, "b": 1, "d": True, "m": 7}]     # the pair is pinned in the list


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
@pytest.mark.parametrize("kw", ["require", "forbid"])
@pytest.mark.parametrize("expr", ["3 * a - 2 * b", "a - 2 * b", "-4 * b + a"])
def test_wide_ranges_are_counted_by_arithmetic_like_brute_force(op, kw, expr):
    # ranges over 64 values: the widest choice is counted by division, not by listing its values
    s = load(f"    a = int_range(1, 100)\n    b = int_range(-51, 150, step=3)\n    {kw} {expr} {op} 17")
    ok = [(a, b) for a in range(1, 101) for b in range(-51, 151, 3)
          if eval(f"{expr} {op} 17", {}, {"a": a, "b": b}) == (kw == "require")]
    assert s._clusters()[1]
    assert s.size() == len(ok)
    if ok:
        got = {(arch["a"], arch["b"]) for arch in s.sample(5, n=50)}
        assert got <= set(ok)


def test_two_million_wide_ranges_with_a_sum():
    s = load("    a = int_range(1, 1000000)\n    b = int_range(1, 1000000)\n    require a + b == 1000001")
    assert s.size() == 1000000
    assert all(arch["a"] + arch["b"] == 1000001 for arch in s.sample(0, n=20))


def test_rejection_is_bounded_in_time_when_each_draw_builds_the_graph(quick):
    s = nasl.loads("input x: [3, 8, 8]\nnetwork {\n    a = int_range(1, 100000)\n    b = int_range(1, 10)\n"
                   "    require nodes() <= 2\n    h = x\n    repeat 3 { h = h >> conv(a % 7 + b) }\n    return h\n}\n",
                   "g.nas")
    t = time.monotonic()
    with pytest.raises(nasl.UnsatisfiableError) as e:
        s.sample(0)
    assert time.monotonic() - t < 10
    assert e.value.message.startswith("no architecture satisfies 'require nodes() <= 2' in ")
    assert "counting them gave up (cannot count exactly" in e.value.message
