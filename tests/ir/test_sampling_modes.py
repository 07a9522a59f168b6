"""Sampling modes (issue 14): uniform over architectures, or uniform per choice, top-down.

In a depth-varying space nearly every architecture is a deep one, so uniform-architecture sampling
almost always picks the deepest network; uniform-choice gives each depth the same chance.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

import nasl
from nasl.cli import main
from nasl.searchers.registry import create

DEPTH = """input x: [3, 8, 8]
network {
    h = x
    depth = choice(1, 2, 3, 4) as depth
    repeat depth { h = h >> conv(choice(8, 16, 24, 32)) >> relu }
    return h
}
"""
N = 4000


def _depths(archs):
    c = Counter(a["depth"] for a in archs)
    return [c[d] / len(archs) for d in (1, 2, 3, 4)]


def _close(observed, expected, n=N):
    # 5 standard deviations of a binomial share: fails by chance about once in 10^6 runs
    return all(abs(o - e) <= 5 * (e * (1 - e) / n) ** 0.5 for o, e in zip(observed, expected))


def test_uniform_architecture_is_the_default_and_weights_depth_by_its_architectures():
    space = nasl.loads(DEPTH)
    assert space.size() == 4 + 16 + 64 + 256
    expected = [4 / 340, 16 / 340, 64 / 340, 256 / 340]
    assert _close(_depths(space.sample(1, n=N)), expected)
    assert space.sample(7, n=5) == space.sample(7, n=5, mode="uniform-architecture")


def test_uniform_choice_gives_each_depth_a_quarter():
    space = nasl.loads(DEPTH)
    archs = space.sample(1, n=N, mode="uniform-choice")
    assert _close(_depths(archs), [0.25] * 4)
    for a in archs[:50]:               # only the active choices, each from its domain
        assert sorted(a) == sorted(["depth"] + [f"choice[{i}]" for i in range(a["depth"])])
        space.validate(a)


def test_uniform_choice_meets_constraints_by_rejection():
    space = nasl.loads(DEPTH.replace("    return h", "    require depth != 4\n    return h"))
    assert _close(_depths(space.sample(2, n=3000, mode="uniform-choice")), [1 / 3, 1 / 3, 1 / 3, 0], 3000)


def test_uniform_choice_says_which_constraint_fails():
    space = nasl.loads(DEPTH.replace("    return h", "    require depth > 9\n    return h"), "d.nas")
    # known to be empty by counting, after a few draws, instead of seconds of rejection
    with pytest.raises(nasl.UnsatisfiableError,
                       match=r"no architecture satisfies the constraints "
                             r"\(the first constraint is 'require depth > 9'\)"):
        space.sample(0, mode="uniform-choice")


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown sampling mode 'uniform'"):
        nasl.loads(DEPTH).sample(0, mode="uniform")


def test_nasl_sample_mode(tmp_path, capsys):
    f = tmp_path / "d.nas"
    f.write_text(DEPTH)
    assert main(["sample", str(f), "-n", "2000", "--seed", "3", "--mode", "uniform-choice"]) == 0
    archs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _close(_depths(archs), [0.25] * 4, 2000)
    assert main(["sample", str(f), "-n", "3", "--seed", "3"]) == 0
    assert [json.loads(x) for x in capsys.readouterr().out.splitlines()] == \
        [dict(a) for a in nasl.loads(DEPTH).sample(3, n=3)]


@pytest.mark.parametrize("mode, expected", [("uniform-choice", [0.25] * 4),
                                            ("uniform-architecture", [4 / 340, 16 / 340, 64 / 340, 256 / 340])])
def test_the_random_searcher_samples_in_either_mode(mode, expected):
    spec = nasl.loads(DEPTH).spec
    searcher = create("random", spec, seed=5, dedup=False, mode=mode)
    archs = [searcher.ask() for _ in range(2000)]
    assert _close(_depths(archs), expected, 2000)


def test_the_random_searcher_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="unknown sampling mode"):
        create("random", nasl.loads(DEPTH).spec, seed=0, mode="deep")
