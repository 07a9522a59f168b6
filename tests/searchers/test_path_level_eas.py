"""Path-level EAS (Cai et al. 2018): the tree read from the choice paths, the tree-LSTM and its
actors, the chains its children name (they apply, give the child and preserve the function), the
baseline, learning, the fallback on a space without tree cells, resume, and a study."""
from __future__ import annotations

import json
import math
import pathlib

import pytest
import torch

import nasl
from nasl.ir.errors import NaslError
from nasl.morph.chain import apply_chain, parse_chain
from nasl.searchers import Result, create
from nasl.searchers.eas import reward
from nasl.searchers.path_tree import Trees
from tests.morph.conftest import max_diff, trained

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAIN = {"cell.node": "none", "cell.deeper[0]": False}
X = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(4))


@pytest.fixture(scope="module")
def space():
    return nasl.load(ROOT / "examples" / "path_level.nas", N=1, alpha=12, max_depth=2)


@pytest.fixture(scope="module")
def deep():
    return nasl.load(ROOT / "examples" / "path_level.nas", N=1, alpha=12, max_depth=3)


def test_the_tree_is_read_from_the_choice_paths(deep):
    t = Trees(deep.spec)
    assert t.roots == ["cell"] and t.node_values == ["none", "add2", "add3", "concat2"]
    assert len(t.edge_values) == 7 and "identity" in t.edge_values
    arch = {"cell.node": "add2", "cell.deeper[0]": True, "cell.deeper[1]": False,
            "cell.child[0].node": "none", "cell.child[0].edge[0]": "identity", "cell.child[0].deeper[0]": False}
    v = t.vertices(deep.validate(arch))
    # root, its two fixed edges, the child node below edge 0 and the child's one edge, in pre-order
    assert [(k, w) for k, w, _, _ in v] == [("node", "cell"), ("edge", ["cell", 0]), ("node", "cell.child[0]"),
                                            ("edge", ["cell.child[0]", 0]), ("edge", ["cell", 1])]
    assert [p for *_, p in v] == [-1, 0, 1, 2, 0]
    assert v[1][2] == t.tokens[("edge", "<fixed>")] and v[3][2] == t.tokens[("edge", "identity")]
    # merges: a multi-branch node has none; a branch with a child node cannot be split; nor a conv edge
    assert t.merges(arch, "cell") == [] and t.merges(arch, "cell.child[0]") == ["none", "add2", "add3", "concat2"]
    assert t.merges(PLAIN, "cell") == ["none", "add2", "add3", "concat2"]
    assert "concat2" not in t.merges({"cell.node": "none", "cell.deeper[0]": True}, "cell")
    assert "concat2" not in t.merges({**arch, "cell.child[0].edge[0]": "sep_conv_3x3"}, "cell.child[0]")


def test_value_steps_match_the_morphs(space):
    """The searcher's own bookkeeping of each step gives the architecture nasl.morph gives."""
    t = Trees(space.spec)
    arch = space.validate(PLAIN)
    state = nasl.compile(space, arch).state_dict()
    values, steps = dict(arch), []
    for fn in (lambda v: t.replicate(v, "cell", 3), lambda v: t.insert(v, "cell", 1),
               lambda v: t.split(v, "cell.child[1]"), lambda v: t.replace(v, "cell.child[1].edge[0]", "conv_1x1")):
        values, step = fn(values)
        steps.append(step)
    chain = "; ".join(steps)
    assert chain == ("replicate_path cell 3; insert_node cell.deeper[1]; split_path cell.child[1]; "
                     "replace_identity cell.child[1].edge[0] conv_1x1")
    m = apply_chain(space, arch, state, chain, allow_inexact=True)
    assert dict(m.arch) == values and space.validate(values) == values
    assert not m.preserving            # the replacement's ReLU reads a conv's signed output


def test_policy_shapes_and_masks(space):
    s = create("path_level_eas", space.spec, seed=0)
    v = s.trees.vertices({"cell.node": "add2", "cell.deeper[0]": True, "cell.deeper[1]": False,
                          "cell.child[0].node": "none", "cell.child[0].edge[0]": "identity"})
    enc = s.policy.encode(v)
    assert tuple(enc.shape) == (len(v), 200)          # 100 units per direction (official code)
    assert s.policy.embed.embedding_dim == 10 and s.policy.merge[0].out_features == 500
    out = [t.detach() for t in s.policy.actors(enc)]
    assert [tuple(t.shape) for t in out] == [(len(v), 4), (len(v),), (len(v), 7)]
    merge = s.policy.logp(out, "merge", 2, [0, 3])
    assert merge.shape == (4,) and merge[1] == -math.inf and float(merge[[0, 3]].exp().sum()) == pytest.approx(1)
    ins = s.policy.logp(out, "insert", 4, ())
    assert ins.shape == (2,) and float(ins.exp().sum()) == pytest.approx(1)
    rep = s.policy.logp(out, "replace", 3, range(7))
    assert rep.shape == (7,) and float(rep.exp().sum()) == pytest.approx(1)
    assert s.policy.sample(out, "insert", 4, (), lambda: 0.0) == 0
    assert s.policy.sample(out, "insert", 4, (), lambda: 0.9999999) == 1
    assert s.policy.sample(out, "merge", 2, [0, 3], lambda: 0.9999999) == 3
    # the bottom-up pass sees the subtree: the root's encoding changes with a leaf's layer
    other = [list(x) for x in v]
    other[3][2] = s.trees.tokens[("edge", "sep_conv_3x3")]
    assert not torch.allclose(enc[0], s.policy.encode(other)[0])


def _children(s, n, score=lambda a: 0.5):
    s.tell(s.ask(), 0.5)
    out = []
    for _ in range(n):
        a = s.ask()
        out.append((a, s.lineage_of(a)))
        s.tell(a, score(a))
    return out


@pytest.mark.parametrize("replace_ops", [["identity"], None], ids=["exact", "with_replace"])
def test_children_are_valid_and_their_chains_apply(space, replace_ops):
    s = create("path_level_eas", space.spec, seed=1, batch_size=3, passes=2, replace_ops=replace_ops)
    assert s.start == PLAIN
    children = _children(s, 9, lambda a: 0.4 + len(a) / 100)     # bigger trees score higher: they grow
    checked = 0
    for i, (a, lin) in enumerate(children):
        assert space.validate(a) == a and lin is not None
        if lin.transformation == "identity":
            assert a == lin.parent
            continue
        if checked >= 3:
            continue
        state = trained(space, lin.parent, X, i)
        m = apply_chain(space, lin.parent, state, lin.transformation, allow_inexact=True)
        assert dict(m.arch) == dict(a)
        replaced = "replace_identity" in lin.transformation
        assert m.preserving == (not replaced)
        if not replaced:
            assert max_diff(space, lin.parent, state, m, X) < 1e-5       # eval mode, BN on running stats
        checked += 1
    assert checked == 3


def test_baseline_starts_at_the_start_networks_reward(space):
    s = create("path_level_eas", space.spec, seed=2, batch_size=2, parent="start")
    s.tell(s.ask(), 0.5)
    assert s.baseline == pytest.approx(reward(0.5))
    rewards = []
    for acc in (0.6, 0.7):
        a = s.ask()
        s.tell(a, acc)
        rewards.append(reward(acc))
    b = reward(0.5)
    assert s.baseline == pytest.approx(b + 0.95 * (sum(rewards) / 2 - b))
    assert s.batch == [] and list(s.rewards) == pytest.approx(rewards)


def test_the_controller_learns_to_replicate_when_it_pays(space):
    """A reward for an add3 root only: the merge actor's add3 probability at the start rises."""
    s = create("path_level_eas", space.spec, seed=4, batch_size=5, parent="start")
    v = s.trees.vertices(PLAIN)

    def p_add3():
        return float(s.policy.logp(s.policy.actors(s.policy.encode(v)), "merge", 0, range(4))[2].exp().detach())
    before = p_add3()
    s.tell(s.ask(), 0.5)
    for _ in range(30):
        a = s.ask()
        s.tell(a, 0.9 if a["cell.node"] == "add3" else 0.5)
    assert before < 0.3 and p_add3() > 0.8, (before, p_add3())      # from about 1/4


def test_a_space_without_tree_cells_falls_back_to_mutation():
    sp = nasl.load(ROOT / "examples" / "nas_bench_201.nas")
    s = create("path_level_eas", sp.spec, seed=0, batch_size=2)
    assert not s.trees and s.policy is None
    first = s.ask()
    s.tell(first, 0.5)
    for _ in range(4):
        a = s.ask()
        lin = s.lineage_of(a)
        kind, _, path = lin.transformation.partition(" ")
        assert kind == "mutate" and [p for p in a if a[p] != lin.parent[p]] == [path]
        s.tell(a, 0.4)
    with pytest.raises(ValueError, match="parent"):
        create("path_level_eas", sp.spec, parent="worst")


def test_bad_options_are_named(space):
    with pytest.raises(ValueError, match=r"replace_ops \['conv_9x9'\] are not edge layers"):
        create("path_level_eas", space.spec, replace_ops=["conv_9x9"])
    with pytest.raises(ValueError, match="passes"):
        create("path_level_eas", space.spec, passes=0)


def test_chain_steps_with_values_parse_and_refuse_in_one_line():
    assert parse_chain("replicate_path cell 3; split_path cell.child[0]; replace_identity e sep_conv_3x3") == [
        ("replicate_path", "cell", 3), ("split_path", "cell.child[0]"), ("replace_identity", "e", "sep_conv_3x3")]
    for bad in ("split_path cell 2", "insert_node", "replicate_path cell 3 4", "net2wider width;"):
        with pytest.raises(NaslError, match="is not a step") as e:
            parse_chain(bad)
        assert "\n" not in e.value.message
    with pytest.raises(NaslError, match="'x3' is not a number"):
        parse_chain("replicate_path cell x3")


def test_state_round_trip_and_recover_continue_exactly(space):
    def run(s, n, events=None):
        out = []
        for i in range(n):
            a = s.ask()
            r = Result.failure("x") if i % 5 == 4 else Result({"val_accuracy": 0.4 + len(a) / 100})
            s.tell(a, r)
            out.append(a)
            if events is not None:
                events.append((a, r))
        return out
    opts = dict(batch_size=3, passes=2)
    s, events = create("path_level_eas", space.spec, seed=9, **opts), []
    run(s, 8, events)
    fresh = create("path_level_eas", space.spec, seed=9, **opts)
    fresh.load_state_dict(json.loads(json.dumps(s.state_dict())))
    replay = create("path_level_eas", space.spec, seed=9, **opts)
    replay.recover(events)
    assert json.dumps(replay.state_dict()) == json.dumps(s.state_dict())
    want = run(s, 7)
    assert run(fresh, 7) == want and run(replay, 7) == want


@pytest.mark.slow
def test_a_path_level_study_on_digits_stores_lineage_and_its_children_inherit(tmp_path):
    study = nasl.search(ROOT / "examples" / "path_level.nas", "path_level_eas", "digits", budget=4, seed=0,
                        storage=str(tmp_path / "pl.db"), params={"N": 1, "alpha": 12, "max_depth": 2},
                        evaluator_options={"epochs": 1}, progress=False, searcher_options={"batch_size": 2})
    trials = study.trials
    assert all(t.state == "complete" for t in trials), [t.error for t in trials]
    assert trials[0].parent is None and dict(trials[0].arch) == PLAIN
    children = trials[1:]
    assert all(t.parent is not None and t.metrics["parent_trial"] == t.parent for t in children)
    kinds = {step.split()[0] for t in children for step in t.transformation.split("; ")}
    assert kinds <= {"replicate_path", "split_path", "insert_node", "replace_identity", "identity"} and kinds
    assert all(t.metrics["inherited"] > 0 for t in children)
