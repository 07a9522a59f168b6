"""Path-level transformations on examples/path_level.nas (one block per group, two node levels),
replace_identity's exactness after a ReLU, and weight inheritance for any mutation."""
import random

import pytest
import torch

import nasl
from nasl.ir.errors import NaslError
from nasl.morph import inherit, insert_node, replace_identity, replicate_path, split_path
from nasl.morph.graphs import moved
from tests.morph.conftest import AFTER_RELU, max_diff, trained

X = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(4))


def parent_with(space, fix: dict, seed: int):
    rng = random.Random(seed)
    for _ in range(200):
        try:
            return moved(space, space.sample(rng.randrange(10 ** 6)), next(iter(fix)), next(iter(fix.values())),
                         "test", fix)
        except NaslError:
            pass
    raise AssertionError(fix)


CASES = [
    ({"cell.node": "none"}, replicate_path, "cell"),
    ({"cell.node": "add2", "cell.deeper[0]": True, "cell.child[0].node": "none"}, replicate_path, "cell.child[0]"),
    ({"cell.node": "none", "cell.deeper[0]": False}, split_path, "cell"),
    ({"cell.node": "none", "cell.deeper[0]": True, "cell.child[0].node": "none",
      "cell.child[0].edge[0]": "max_pool_3x3"}, split_path, "cell.child[0]"),
    ({"cell.node": "add2", "cell.deeper[1]": False}, insert_node, "cell.deeper[1]"),
]


@pytest.mark.slow
@pytest.mark.parametrize("fix, fn, where", CASES, ids=lambda c: getattr(c, "__name__", None))
def test_path_level_transformations_preserve_the_function(path_level, fix, fn, where):
    for seed in range(2):
        arch = parent_with(path_level, fix, seed)
        state = trained(path_level, arch, X, seed)
        m = fn(path_level, arch, state, where)
        path_level.validate(m.arch)
        assert m.preserving and max_diff(path_level, arch, state, m, X) < 1e-5


def test_split_refuses_what_would_not_preserve(path_level):
    arch = parent_with(path_level, {"cell.node": "none", "cell.deeper[0]": True}, 0)
    state = nasl.compile(path_level, arch).state_dict()
    with pytest.raises(NaslError, match=r"cell\.deeper\[0\]"):
        split_path(path_level, arch, state, "cell")
    with pytest.raises(NaslError, match=r"'cell\.node' must be 'none'"):
        other = parent_with(path_level, {"cell.node": "add3"}, 0)
        replicate_path(path_level, other, nasl.compile(path_level, other).state_dict(), "cell")


def test_replace_identity_is_exact_after_a_relu():
    space = nasl.loads(AFTER_RELU)
    arch = space.validate({"edge": "identity"})
    x = torch.randn(4, 3, 8, 8)
    state = trained(space, arch, x)
    m = replace_identity(space, arch, state, "edge")
    assert m.arch["edge"] == "conv_1x1" and m.preserving
    assert max_diff(space, arch, state, m, x) < 1e-5


@pytest.mark.slow
def test_replace_identity_in_path_level_is_refused_unless_inexact_is_allowed(path_level):
    arch = parent_with(path_level, {"cell.node": "none", "cell.deeper[0]": True, "cell.child[0].node": "none",
                                    "cell.child[0].edge[0]": "identity"}, 0)
    state = trained(path_level, arch, X)
    # the edge reads a conv's signed output: the BN-ReLU-conv's ReLU would cut it
    with pytest.raises(NaslError, match=r"replace_identity: cell.child\[0\].edge\[0\] = conv_1x1 cannot preserve "
                                        r"the function: its ReLU reads '.*' \(a conv\), whose output can be negative") as e:
        replace_identity(path_level, arch, state, "cell.child[0].edge[0]")
    assert "\n" not in e.value.message
    m = replace_identity(path_level, arch, state, "cell.child[0].edge[0]", allow_inexact=True)
    assert m.arch["cell.child[0].edge[0]"] == "conv_1x1"
    assert m.preserving is False
    assert max_diff(path_level, arch, state, m, X) > 1e-3      # and indeed it does not preserve it


def test_inherit_copies_unchanged_nodes_and_initialises_the_rest(digits):
    parent = digits.validate({**digits.sample(3), "depth": 2, "width": 16})
    state = nasl.compile(digits, parent).state_dict()
    path = "cell.edge[0->1]"
    child = {**parent, path: "nor_conv_3x3" if parent[path] != "nor_conv_3x3" else "nor_conv_1x1"}
    m = inherit(digits, parent, state, child)
    assert 0 < m.inherited < 1 and not m.preserving
    assert torch.equal(m.state_dict["conv.weight"], state["conv.weight"])
    assert torch.equal(m.state_dict["linear.weight"], state["linear.weight"])
    changed = [k for k in m.state_dict if "edge_0_1" in k]
    assert changed and all(k not in state or m.state_dict[k].shape != state[k].shape or
                           not torch.equal(m.state_dict[k], state[k]) for k in changed if "weight" in k)
    same = inherit(digits, parent, state, parent)
    assert same.inherited == 1.0 and same.preserving


def test_inherit_refuses_weights_of_another_architecture(digits):
    parent = digits.validate({**digits.sample(3), "width": 16})
    wrong = nasl.compile(digits, {**parent, "width": 8}).state_dict()
    with pytest.raises(NaslError, match="not those of architecture"):
        inherit(digits, parent, wrong, parent)
    with pytest.raises(NaslError, match="belongs to no layer"):
        inherit(digits, parent, {"nope.weight": torch.zeros(1)}, parent)
