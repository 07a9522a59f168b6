"""Lazy calls with equal arguments share one elaboration, moved to each site (nasl/dsl/lazy.py).

Every test compares a space against the same space elaborated with the memo
withheld (each site runs its body, as before the memo): the choices, their
conditions, the sizes and the sampled architectures must not change.
"""
from __future__ import annotations

import pytest

import nasl
import nasl.dsl.lazy as lazy
from nasl.ir.errors import NaslError
from tests.conftest import example


def _tree(space):
    return [(c.path, c.kind, c.domain, tuple((g.path, g.values) for g in c.condition))
            for c in space.spec.all_choices()]


def _both(monkeypatch, load, ops):
    """``ops(space)`` on a space with the memo and on one without it (withheld for the whole run)."""
    shared = load()
    got = ops(shared)
    with monkeypatch.context() as m:
        m.setattr(lazy, "memo_key", lambda *a: None)
        fresh = load()
        want = ops(fresh)
        assert not _templates(fresh)
    assert got == want
    return shared


def _templates(space):
    """The lazy memo of a space (read from its lazy groups; forces none of them)."""
    stack = [space.spec.root]
    while stack:
        for item in stack.pop().items:
            if getattr(item, "origin", None) is not None:
                return item.origin.interp.lazy_memo
            if getattr(item, "_block", None) is not None:
                stack.append(item._block)
    return {}


def _all(space, seed=7, n=300):
    return _tree(space), space.size(), space.sample(seed, n=n), space.sample(seed + 1, n=n)


@pytest.mark.parametrize("max_layers", [2, 3])
def test_metaqnn_copies_equal_fresh_elaborations(monkeypatch, max_layers):
    shared = _both(monkeypatch, lambda: nasl.load(example("metaqnn.nas"), max_layers=max_layers), _all)
    assert any(isinstance(v, lazy._Template) for v in _templates(shared).values())    # the memo was used


def test_sampling_draws_the_same_architectures(monkeypatch):
    # the second 300 draws come mostly from the templates (TreeSampler._draw_moved)
    shared = _both(monkeypatch, lambda: nasl.load(example("metaqnn.nas"), max_layers=6),
                   lambda s: (s.sample(7, n=200), s.sample(8, n=200)))
    assert all(shared.validate(x) for x in shared.sample(9, n=50))


def test_path_level_samples_unchanged(monkeypatch):
    _both(monkeypatch, lambda: nasl.load(example("path_level.nas"), N=1),
          lambda s: (s.sample(3, n=200), s.size()))


REQUIRE_INSIDE = """
input x: [3, 8, 8]
def grow(d)(h) {
    w = choice(8, 16) as width
    k = choice(1, 3) as kernel
    require w > 8 or k == 3
    out = h >> conv(w, k=k)
    if d < 2 and boolean() as deeper { out = grow(d + 1)(out) as more }
    return out
}
network {
    a = x
    if boolean() as left { a = grow(1)(x) as l }
    if boolean() as right { a = grow(1)(a) as r }
    return a >> global_avg_pool >> linear(10)
}
"""


def test_a_body_with_a_constraint_is_elaborated_at_each_site(monkeypatch):
    shared = _both(monkeypatch, lambda: nasl.loads(REQUIRE_INSIDE), lambda s: _all(s, 1, 10))
    memo = _templates(shared)
    assert memo and all(v is lazy._INVALID for v in memo.values())
    arch = shared.sample(2)
    assert nasl.compile(shared, arch) is not None


GLOBAL_CHOICE = """
input x: [3, 8, 8]
let W = choice(8, 16) as width
def grow(d)(h) {
    out = h >> conv(W, k=3)
    if W == 16 {
        k = choice(1, 3) as k16
        out = out >> conv(8, k=k)
    }
    if d < 4 and boolean() as deeper { out = grow(d + 1)(out) as more }
    return out
}
network {
    a = x
    if boolean() as left { a = grow(1)(x) as l }
    if boolean() as right { a = grow(1)(a) as r }
    return a >> global_avg_pool >> linear(10)
}
"""


def test_a_body_on_a_choice_outside_it_is_not_moved(monkeypatch):
    shared = _both(monkeypatch, lambda: nasl.loads(GLOBAL_CHOICE), lambda s: _all(s, 4, 100))
    memo = _templates(shared)
    assert memo and all(v is lazy._INVALID for v in memo.values())


NO_BASE = """
input x: [3, 8, 8]
def f(c)(h) {
    out = h >> conv(c, k=1)
    if boolean() as again { out = f(c)(out) as more }
    return out
}
network {
    a = x
    if boolean() as go { a = f(8)(x) as g }
    return a >> global_avg_pool >> linear(10)
}
"""


def test_recursion_without_a_base_case_still_reported(monkeypatch):
    def size_error(space):
        with pytest.raises(NaslError) as e:
            space.size()
        return str(e.value)
    _both(monkeypatch, lambda: nasl.loads(NO_BASE), size_error)
    assert "recurses" in size_error(nasl.loads(NO_BASE))
