"""What the evaluator path keeps between children (nasl.morph.memo, lineage's kept weights): kept
realized parents are bounded and keyed right, and a child never writes its parent's kept tensors,
while the transformations stay exactly function-preserving through the caches."""
from __future__ import annotations

import collections
import os

import pytest
import torch

import nasl
from nasl.morph import memo, net2deeper, net2wider
from nasl.morph.graphs import Realized
from nasl.study import lineage
from nasl.study.protocol import TrialRequest
from nasl.study.training import TrainEvaluator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "nasl", "spaces", "digits.nas")
PARENT = {"cell.edge[0->1]": "nor_conv_3x3", "cell.edge[0->2]": "nor_conv_1x1", "cell.edge[1->2]": "nor_conv_3x3",
          "cell.edge[0->3]": "skip_connect", "cell.edge[1->3]": "nor_conv_3x3", "cell.edge[2->3]": "nor_conv_1x1",
          "width": 16, "depth": 2}


@pytest.fixture
def own_memo(monkeypatch):
    """An empty memo and weight store per test (the suite runs in one process)."""
    monkeypatch.setattr(memo, "_KEPT", collections.OrderedDict())
    monkeypatch.setattr(memo, "_nodes", [0])
    monkeypatch.setattr(lineage, "_SAVED", collections.OrderedDict())
    monkeypatch.setattr(lineage, "_kept", [0])


@pytest.fixture(scope="module")
def digits():
    return nasl.load(DIGITS)


def _counting(space, monkeypatch):
    calls = []
    real = space.realize
    monkeypatch.setattr(space, "realize", lambda arch: calls.append(dict(arch)) or real(arch))
    return calls


def test_a_parent_is_realized_once_per_input_shape(digits, own_memo, monkeypatch):
    calls = _counting(digits, monkeypatch)
    a = Realized(digits, PARENT, input_shape=(1, 8, 8))
    b = Realized(digits, dict(PARENT), input_shape=[1, 8, 8])        # the same key, spelled otherwise
    assert len(calls) == 1 and a.graph is b.graph and a.table is b.table
    c = Realized(digits, PARENT, input_shape=(1, 16, 16))           # another input shape: its own shapes
    assert len(calls) == 2 and c.table is not a.table
    assert c.shapes != a.shapes and memo.kept() == 2
    memo.forget(digits, PARENT, (1, 8, 8))
    Realized(digits, PARENT, input_shape=(1, 8, 8))
    assert len(calls) == 3
    memo.forget()
    assert memo.kept() == 0 and memo._nodes[0] == 0


def test_another_space_object_never_shares_an_entry(digits, own_memo):
    other = nasl.load(DIGITS)                   # the same program, another Space: its own entry
    a, b = Realized(digits, PARENT), Realized(other, PARENT)
    assert a.graph is not b.graph and memo.kept() == 2
    key = memo._key(other, PARENT, None)
    entry = memo._KEPT[key]
    entry.space = lambda: None                   # as if `other` were freed and its id reused
    assert Realized(other, PARENT).graph is not b.graph


def test_the_memo_is_bounded_in_entries_and_nodes(digits, own_memo, monkeypatch):
    monkeypatch.setattr(memo, "ENTRIES", 3)
    archs = [{**PARENT, "width": w, "depth": d} for w in (8, 16, 24) for d in (1, 2)]
    for a in archs:
        Realized(digits, a)
    assert memo.kept() == 3
    kept = [k[1] for k in memo._KEPT]
    assert kept == [digits.validate(a) for a in archs[-3:]]          # least recently used dropped first
    Realized(digits, archs[3])                   # a hit moves it last
    assert list(memo._KEPT)[-1][1] == digits.validate(archs[3])
    assert memo._nodes[0] == sum(e.size for e in memo._KEPT.values())
    one = next(iter(memo._KEPT.values())).size
    monkeypatch.setattr(memo, "NODES", one * 2)
    Realized(digits, archs[0])
    assert memo._nodes[0] <= one * 2 and memo.kept() <= 2
    monkeypatch.setattr(memo, "NODES", one - 1)  # larger than the bound: used, never kept
    memo.forget()
    r = Realized(digits, archs[1])
    assert memo.kept() == 0 and r.table.ops


def _request(space, arch, folder, transformation):
    with open(DIGITS) as f:
        source = f.read()
    return TrialRequest(trial_id=7, number=7, arch=dict(arch), budget=None, seed=0, space_source=source,
                        space_file=DIGITS, artifact_dir=folder,
                        lineage={"parent": 0, "parent_id": 0, "parent_arch": dict(PARENT),
                                 "transformation": transformation})


@pytest.mark.parametrize("child, transformation", [
    ({**PARENT, "cell.edge[1->2]": "avg_pool_3x3"}, "mutate cell.edge[1->2]"),
    ({**PARENT, "width": 24}, "net2wider width"),
    ({**PARENT, "depth": 3}, "net2deeper depth"),
    ({**PARENT, "width": 24, "depth": 3}, "net2wider width; net2deeper depth"),
])
def test_children_never_write_the_kept_parent_and_preserve_exactly(tmp_path, own_memo, child, transformation):
    ev = TrainEvaluator("digits")
    space = _request(None, PARENT, str(tmp_path), None).load_space()
    torch.manual_seed(0)
    parent_model = nasl.compile(space, PARENT, (1, 8, 8))
    with torch.no_grad():                        # weights and BN statistics that are not the identity
        for t in parent_model.state_dict().values():
            if t.is_floating_point():
                t.add_(0.3 * torch.randn_like(t)).abs_()
    state = {k: v.detach().clone() for k, v in parent_model.state_dict().items()}
    path = lineage.weights_path(str(tmp_path), 0)
    torch.save(state, path)
    lineage.remember_weights(path, state)
    kept = lineage._SAVED[os.path.abspath(path)][1]
    before = {k: (v.clone(), v._version, v.data_ptr()) for k, v in kept.items()}
    x = torch.rand(5, 1, 8, 8)
    parent_model.eval()
    for round_ in range(2):                      # the second child finds its parent kept and realized
        _, model = ev.build(_request(space, child, str(tmp_path), transformation))
        if "mutate" not in transformation:
            model.eval()
            with torch.no_grad():
                assert torch.allclose(model(x), parent_model(x), atol=1e-5), (transformation, round_)
        for k, (value, version, ptr) in before.items():
            t = kept[k]
            assert t._version == version and t.data_ptr() == ptr and torch.equal(t, value), k
        own = {v.data_ptr() for v in model.state_dict().values()}
        assert not own & {p for _, _, p in before.values()}          # the child holds copies
    assert memo.kept() >= 1


def test_a_transformation_into_a_state_writes_it_not_the_parent(digits, own_memo):
    parent = digits.validate(PARENT)
    state = {k: v.clone() for k, v in nasl.compile(digits, parent).state_dict().items()}
    versions = {k: v._version for k, v in state.items()}
    for fn, arg in ((net2wider, "width"), (net2deeper, "depth")):
        m = fn(digits, parent, state, arg)
        assert all(state[k]._version == versions[k] for k in state)
        assert not {v.data_ptr() for v in m.state_dict.values()} & {v.data_ptr() for v in state.values()}


def test_tensors_of_is_the_state_dict(digits):
    from nasl.study.lineage import tensors_of
    for seed in range(3):
        model = nasl.compile(digits, digits.sample(seed))
        fast, sd = tensors_of(model), model.state_dict()
        assert list(fast) == list(sd) and all(fast[k].data_ptr() == sd[k].data_ptr() for k in sd)
        assert not any(t.requires_grad for t in fast.values())
    hooked = torch.nn.Sequential(torch.nn.Linear(2, 2))
    hooked.register_buffer("scratch", torch.zeros(1), persistent=False)
    hooked[0]._register_state_dict_hook(lambda m, sd, prefix, local: sd.update({prefix + "x": torch.ones(1)}))
    assert list(tensors_of(hooked)) == list(hooked.state_dict()) == ["0.weight", "0.bias", "0.x"]


def test_tensors_of_follows_the_state_dict_for_shared_empty_and_custom_modules():
    from nasl.study.lineage import tensors_of
    shared = torch.nn.Linear(2, 2)
    net = torch.nn.Sequential(shared, torch.nn.BatchNorm1d(2), shared)
    net.register_module("nothing", None)
    fast, sd = tensors_of(net), net.state_dict()
    assert list(fast) == list(sd) and all(fast[k].data_ptr() == sd[k].data_ptr() for k in sd)

    class Extra(torch.nn.Linear):
        def get_extra_state(self):
            return {"note": 1}
    custom = torch.nn.Sequential(Extra(2, 2))
    assert list(tensors_of(custom)) == list(custom.state_dict()) == ["0.weight", "0.bias", "0._extra_state"]
