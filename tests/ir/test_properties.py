"""Property tests over generated spaces and the example spaces.

The generator builds small programs from the language's constructs (plain,
nested, optional and shared choices, int ranges, subsets, permutations,
depth-as-a-choice, branches on choices, dags). For each: sampling gives valid
architectures that survive a JSON round trip, walking the spec visits
exactly the active choices, and enumeration gives exactly size() distinct
architectures.
"""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nasl
from nasl import Architecture
from tests.conftest import example

SMALL_EXAMPLES = [("nas_bench_201.nas", {}), ("nas_bench_101.nas", {"V": 4}), ("path_level.nas", {"max_depth": 1}),
                  ("rnn_cell.nas", {"depth": 1})]
SMALL_EXAMPLES += [("genetic_cnn.nas", {"K": [3, 4], "widths": [4, 8]}), ("metaqnn.nas", {"max_layers": 2}),
                   ("enas_micro.nas", {"B": 1}), ("zoph_le.nas", {"N": 2})]
ALL_EXAMPLES = SMALL_EXAMPLES + [("darts.nas", {}), ("enas_macro.nas", {}), ("nas_bench_101.nas", {}),
                                 ("path_level.nas", {}), ("rnn_cell.nas", {"depth": 3})]
ALL_EXAMPLES += [("darts.nas", {"nodes": 5, "distinct": False, "concat": "loose"}), ("nasnet.nas", {}),
                 ("enas_micro.nas", {}), ("genetic_cnn.nas", {}), ("metaqnn.nas", {}), ("zoph_le.nas", {})]


def _stmt(draw, depth, k):
    """One statement of a generated network body, using names s{k}."""
    kind = draw(st.sampled_from(["choice", "nested", "optional", "int", "subset", "perm", "repeat", "if",
                                 "shared", "dag"] if depth < 2 else ["choice", "int", "optional", "subset"]))
    n = draw(st.integers(1, 3))
    if kind == "choice":
        vals = ", ".join(str(v) for v in range(n + 1))
        return f"v{k} = choice({vals})\n h = h >> conv(v{k} + 1)\n"
    if kind == "nested":
        inner = ", ".join(f"relu_conv_bn(4, k={2 * i + 1})" for i in range(n))
        return f"h = h >> choice(choice({inner}) as inner{k}, identity, max_pool(k=3)) as outer{k}\n"
    if kind == "optional":
        return f"h = h >> optional(bn) as opt{k}\n"
    if kind == "int":
        return f"w{k} = int_range(1, {n + 2})\n h = h >> conv(w{k})\n"
    if kind == "subset":
        return f"sub{k} = subset([1, 2, 3], k={n})\n h = h >> conv(len(sub{k}))\n"
    if kind == "perm":
        return f"perm{k} = permutation([1, 2, {n + 2}])\n h = h >> conv(perm{k}[0])\n"
    if kind == "repeat":
        body = _stmt(draw, depth + 1, k * 10 + 1)
        return f"d{k} = choice(0, 1, {n + 1})\n repeat d{k} {{ {body} }}\n"
    if kind == "if":
        a = _stmt(draw, depth + 1, k * 10 + 2)
        b = _stmt(draw, depth + 1, k * 10 + 3)
        return f"f{k} = boolean()\n if f{k} {{ {a} }} else {{ {b} }}\n"
    if kind == "shared":
        return f"h = h >> conv(G) >> conv(G)\n"
    return (f"h = dag(nodes={n + 2}) {{ edge i -> j: choice(zero, identity, bn) }}(h) as dag{k}\n")


@st.composite
def programs(draw):
    stmts = "".join(_stmt(draw, 0, k) for k in range(draw(st.integers(1, 4))))
    return f"let G = choice(8, 16)\ninput x: [4, 8, 8]\nnetwork {{\n h = x\n {stmts} return h\n}}\n"


def _check_space(space, rng, samples=20):
    for _ in range(samples):
        arch = space.sample(rng)
        space.validate(arch)
        again = Architecture.from_json(arch.to_json())
        assert again == arch and again.id == arch.id
        # walking the spec with the same answers visits exactly the active choices
        walked = space.spec.walk(lambda c, partial: arch[c.path])
        assert walked == dict(arch)
        assert {c.path for c in space.spec.active_choices(dict(arch))} == set(arch)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.integers(0, 2 ** 32 - 1))
def test_generated_spaces(text, seed):
    space = nasl.loads(text)
    rng = random.Random(seed)
    _check_space(space, rng, samples=5)
    n = space.size()
    if n <= 3000:
        archs = list(space.enumerate())
        assert len(archs) == n
        assert len(set(archs)) == n
        for a in archs[:: max(1, n // 25)]:
            space.validate(a)
            space.realize(a)


@pytest.mark.parametrize("name,params", ALL_EXAMPLES)
def test_example_samples_validate_and_round_trip(name, params):
    space = nasl.load(example(name), **params)
    _check_space(space, random.Random(7), samples=10)


@pytest.mark.parametrize("name,params", SMALL_EXAMPLES)
def test_example_enumeration_matches_size(name, params):
    space = nasl.load(example(name), **params)
    archs = list(space.enumerate())
    assert len(archs) == len(set(archs)) == space.size()


def test_sampling_is_uniform_on_a_conditional_space():
    # the "b" branch holds 9 of the 10 architectures; uniform sampling must see that
    space = nasl.loads("""
        input x: [3, 8, 8]
        network {
            top = choice("a", "b")
            if top == "b" { h = x >> conv(choice(1, 2, 3)) >> conv(choice(1, 2, 3) as w2) } else { h = x }
            return h
        }""")
    assert space.size() == 10
    draws = space.sample(0, n=5000)
    share_a = sum(1 for a in draws if a["top"] == "a") / len(draws)
    assert abs(share_a - 0.1) < 0.02


def test_same_seed_same_samples(nb201):
    assert nb201.sample(3, n=20) == nb201.sample(3, n=20)
    assert nb201.sample(3, n=20) != nb201.sample(4, n=20)


def test_counting_and_sampling_condition_on_enclosing_choices():
    # `se` is decided at the top, but the choice it guards sits inside an alternative
    space = nasl.loads("""
        input x: [3, 8, 8]
        let se = boolean()
        def blk(c)(h) { if se { h = h >> conv(c, k=choice(1, 3, 5) as k) }; return h }
        network { return x >> choice(blk(8), identity, max_pool(k=3)) as op }""")
    assert space.structural
    assert space.size() == 3 + 5 == len(set(space.enumerate()))
    counts = {}
    for a in space.sample(0, n=16000):
        counts[a] = counts.get(a, 0) + 1
    assert len(counts) == 8
    assert all(abs(n - 2000) < 250 for n in counts.values())
