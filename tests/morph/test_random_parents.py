"""Issue 17's function preservation, per transformation on 20 random parents: each path-level
transformation at a random place where it applies in a random path_level.nas parent (each choice
uniform), and
replace_identity on random parents of a space where its ReLU reads a non-negative value.
(Net2Wider and Net2Deeper have theirs in test_wider_deeper.py.)"""
import random

import pytest
import torch

from nasl.ir.errors import NaslError
from nasl.morph import insert_node, replace_identity, replicate_path, split_path
from tests.morph.conftest import max_diff, trained

import nasl

X = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(5))
PARENTS = 20


def _nodes(arch) -> list:
    """The tree nodes of the cell that are active in ``arch`` ("cell", "cell.child[1]", ...)."""
    return sorted(p[:-len(".node")] for p in arch if p.endswith(".node"))


def _places(arch, fn) -> list:
    if fn is insert_node:
        return sorted(p for p, v in arch.items() if ".deeper[" in p and v is False)
    return [n for n in _nodes(arch) if arch[f"{n}.node"] == "none"]


@pytest.mark.slow
@pytest.mark.parametrize("fn", [replicate_path, split_path, insert_node], ids=lambda f: f.__name__)
def test_each_path_level_transformation_preserves_20_random_parents(path_level, fn):
    rng, done, refused, where = random.Random(17), 0, 0, set()
    for seed in range(400):
        arch = path_level.sample(seed, mode="uniform-choice")      # uniform-architecture: nearly always add3
        places = _places(arch, fn)
        if not places:
            continue
        place = rng.choice(places)
        state = trained(path_level, arch, X, seed)
        try:
            m = fn(path_level, arch, state, place)
        except NaslError as e:      # split_path refuses a path whose layers mix channels
            assert fn is split_path and "\n" not in e.message and "does not preserve" in e.message
            refused += 1
            continue
        path_level.validate(m.arch)
        assert m.preserving, (seed, place)
        assert max_diff(path_level, arch, state, m, X) < 1e-5, (seed, place)
        done += 1
        where.add(place.count(".child["))          # 0: at the root, 1: a node below it
        if done == PARENTS:
            break
    assert done == PARENTS
    # with two node levels, only the root's branches have a 'deeper' choice to insert a node at
    assert where == ({0} if fn is insert_node else {0, 1}), where


POST_RELU = """
input x: [3, 8, 8]
network {
    h = x >> conv(8, k=3) >> bn >> relu
    for i in range(3) {
        h = h >> choice(identity, (bn >> relu >> conv(8, k=1)) as conv_1x1, max_pool(k=3, padding=1) as pool) as edge
        h = h >> relu
    }
    return h >> global_avg_pool >> linear(4)
}
"""


@pytest.mark.slow
def test_replace_identity_preserves_20_random_parents_after_a_relu():
    space = nasl.loads(POST_RELU)
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(6))
    rng, done = random.Random(18), 0
    for seed in range(200):
        arch = space.sample(seed)
        edges = sorted(p for p, v in arch.items() if v == "identity")
        if not edges:
            continue
        edge = rng.choice(edges)
        state = trained(space, arch, x, seed)
        m = replace_identity(space, arch, state, edge)
        assert m.preserving and m.arch[edge] == "conv_1x1"
        assert max_diff(space, arch, state, m, x) < 1e-5, (seed, edge)
        done += 1
        if done == PARENTS:
            break
    assert done == PARENTS
