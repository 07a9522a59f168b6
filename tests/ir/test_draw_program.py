"""The tree sampler's programs (nasl/ir/draw_program.py) draw what the step-by-step walk draws.

The walk is the sampler as it was before the programs: each block's plan
stepped through one call per block, every guard tested in turn
(``fold`` withheld). Same seed: the same architectures, with their values in
the same order.
"""
from __future__ import annotations

import random

import pytest

import nasl
import nasl.ir.sampling as sampling
from nasl.ir.draw_program import Programs
from tests.conftest import example
from tests.dsl.test_lazy_memo import GLOBAL_CHOICE, REQUIRE_INSIDE

NESTED = """
input x: [3, 8, 8]
network {
    h = x >> conv(8, k=1)
    a = choice(1, 2, 3) as a
    if a > 1 {
        if boolean() as b { h = h >> conv(choice(8, 16) as w, k=3) }
    }
    s = subset(["p", "q", "r"], k=2) as s
    if "q" in s { h = h >> conv(choice(4, 8) as wq, k=1) }
    return h >> global_avg_pool >> linear(10)
}
"""

SPACES = {
    "metaqnn": lambda: nasl.load(example("metaqnn.nas"), max_layers=5),
    "path_level": lambda: nasl.load(example("path_level.nas"), N=1),
    "nas_bench_201": lambda: nasl.load(example("nas_bench_201.nas")),
    "darts": lambda: nasl.load(example("darts.nas")),
    "rnn_cell": lambda: nasl.load(example("rnn_cell.nas")),
    "hierarchical": lambda: nasl.load(example("hierarchical.nas")),
    "require_inside": lambda: nasl.loads(REQUIRE_INSIDE),
    "global_choice": lambda: nasl.loads(GLOBAL_CHOICE),
    "nested": lambda: nasl.loads(NESTED),
}


def _draws(space, seed, n):
    return [list(a.items()) for a in space.sample(seed, n=n)]


@pytest.mark.parametrize("name", sorted(SPACES))
def test_programs_draw_what_the_walk_draws(monkeypatch, name):
    fast = SPACES[name]()
    got = _draws(fast, 3, 150) + _draws(fast, 4, 150)
    if fast._sampler is not None:               # a tree-shaped space (else drawn from the enumeration)
        assert fast._sampler.programs._progs    # the programs ran
    with monkeypatch.context() as m:
        m.setattr(sampling, "fold", lambda steps: steps)
        m.setattr(Programs, "draw", lambda self, *a: False)
        slow = SPACES[name]()
        want = _draws(slow, 3, 150) + _draws(slow, 4, 150)
        assert slow._sampler is None or not slow._sampler.programs._progs
    assert got == want
    assert all(fast.validate(a) for a in fast.sample(5, n=20))


def test_a_guard_table_enters_only_the_groups_of_the_value():
    space = SPACES["metaqnn"]()
    space.sample(0, n=50)
    progs = space._sampler.programs._progs
    # the first layer: one weighted choice whose groups (one per layer type) became a table by value
    (layer,) = [p for p in progs.values() if p and [(op[0], op[2]) for op in p] == [(18, "net.layer")]]
    vals, _cum, total, entries = layer[0][3]
    assert sorted(vals) == ["conv", "gap", "softmax"] and total == space.size()
    by_value = dict(zip(vals, entries))
    assert not by_value["softmax"] and not by_value["gap"]        # groups without choices: nothing to enter
    conv = by_value["conv"]                                        # the branch's block, inlined
    assert [(op[0], op[2]) for op in conv] == [(2, "net.kernel"), (2, "net.filters"), (15, None)]


def test_a_subclass_of_random_with_its_own_draws_keeps_its_stream():
    class Counting(random.Random):
        calls = 0

        def random(self):
            Counting.calls += 1
            return super().random()

    space = SPACES["metaqnn"]()
    a = space.sample(Counting(7), n=30)
    b = SPACES["metaqnn"]().sample(Counting(7), n=30)
    assert a == b and Counting.calls > 0
