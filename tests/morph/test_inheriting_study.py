"""Weight inheritance in studies: InheritingEvaluator starts a trial from the nearest saved trial,
and on digits children that inherit beat the same children trained from scratch after 1 epoch."""
import dataclasses
import json
import os
import random
import statistics

import pytest

import nasl
from nasl.study.protocol import TrialRequest

SRC = open(os.path.join(os.path.dirname(__file__), "..", "..", "nasl", "spaces", "digits.nas")).read()
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = ["cell.edge[0->1]", "cell.edge[0->2]", "cell.edge[1->2]", "cell.edge[1->3]", "cell.edge[2->3]"]


def request(tid, arch, budget, folder):
    return TrialRequest(trial_id=tid, number=tid, arch=dict(arch), budget=budget, seed=tid, space_source=SRC,
                        space_file="digits.nas", artifact_dir=folder)


@pytest.mark.slow
def test_inheritance_pays_after_one_epoch(tmp_path):
    from nasl.study.inheriting import InheritingEvaluator
    from nasl.study.training import TrainEvaluator
    space = nasl.loads(SRC)
    inheriting, scratch = InheritingEvaluator(epochs=5), TrainEvaluator(epochs=5)
    rng = random.Random(0)
    got, base = [], []
    for i in range(4):
        parent = space.validate({**space.sample(100 + i), "cell.edge[0->3]": "nor_conv_3x3"})
        inheriting(request(2 * i, parent, 5, str(tmp_path)))
        edge = rng.choice(EDGES)
        child = space.validate({**parent, edge: rng.choice([o for o in OPS if o != parent[edge]])})
        r = inheriting(request(2 * i + 1, child, 1, str(tmp_path)))
        assert r["parent_trial"] == 2 * i and 0 < r["inherited"] <= 1
        got.append(r["val_accuracy"])
        base.append(scratch(request(2 * i + 1, child, 1, None))["val_accuracy"])
    print(f"inheriting {statistics.mean(got):.3f} against scratch {statistics.mean(base):.3f}")
    assert statistics.mean(got) > statistics.mean(base) + 0.1


def test_no_parent_without_saved_weights(tmp_path):
    from nasl.study.inheriting import InheritingEvaluator
    space = nasl.loads(SRC)
    ev = InheritingEvaluator(epochs=1)
    arch = space.sample(0)
    (tmp_path / "trial_3.json").write_text(json.dumps({"number": 3, "arch": dict(arch)}))   # no .pt
    assert ev.parent_of(request(4, arch, 1, str(tmp_path))) is None
    (tmp_path / "trial_3.pt").write_bytes(b"not a state dict")
    from nasl.ir.errors import NaslError
    with pytest.raises(NaslError, match="parent trial 3 cannot be read"):
        ev.build(request(4, arch, 1, str(tmp_path)))


@pytest.mark.slow
def test_a_large_scale_evolution_study_records_parents(tmp_path):
    # Large-Scale Evolution (Real et al. 2017): pairwise tournaments, children inherit weights
    study = nasl.search("nasl/spaces/digits.nas", "pairwise_tournament", "digits", budget=6,
                        storage=str(tmp_path / "s.db"), evaluator_options={"epochs": 1, "inherit": True},
                        searcher_options={"population_size": 3}, progress=False)
    trials = [t for t in study.trials if t.state == "complete"]
    assert len(trials) == 6
    assert all("parent_trial" in t.metrics for t in trials)
    assert any(t.metrics["parent_trial"] >= 0 for t in trials[3:])


@pytest.mark.slow
def test_children_a_searcher_names_inherit_and_beat_scratch_after_one_epoch(tmp_path):
    """The lineage path (a searcher's parent, TrialRequest.lineage): each parent trains 5 epochs, then
    its child (a mutated edge, Net2Wider, Net2Deeper) trains 1 epoch from the parent's
    weights, and the same child 1 epoch from scratch."""
    from nasl.study.training import TrainEvaluator
    space = nasl.loads(SRC)
    ev, scratch = TrainEvaluator(epochs=5), TrainEvaluator(epochs=5)
    rng = random.Random(1)
    got, base = [], []
    for i in range(6):
        kind = ["mutate", "net2wider width", "net2deeper depth"][i % 3]
        parent = _parent(space, 200 + i, deeper=kind.startswith("net2deeper"))
        ev(request(2 * i, parent, 5, str(tmp_path)))
        if kind == "mutate":
            edge = rng.choice(EDGES)
            child = space.validate({**parent, edge: rng.choice([o for o in OPS if o != parent[edge]])})
            kind = f"mutate {edge}"
        else:
            child = space.validate({**parent, **({"width": 16} if kind.startswith("net2wider") else {"depth": 2})})
        req = dataclasses.replace(request(2 * i + 1, child, 1, str(tmp_path)), lineage={
            "parent": 2 * i, "parent_id": 2 * i, "parent_arch": dict(parent), "transformation": kind})
        r = ev(req)
        assert 0 < r["inherited"] <= 1 and r["parent_trial"] == 2 * i
        got.append(r["val_accuracy"])
        base.append(scratch(request(2 * i + 1, child, 1, None))["val_accuracy"])
    print(f"inheriting {statistics.mean(got):.3f} against scratch {statistics.mean(base):.3f}")
    assert statistics.mean(got) > statistics.mean(base) + 0.1


def _parent(space, seed, deeper):
    """A width-8, depth-1 parent; for Net2Deeper one whose cell can be the identity (a skip from the
    input to the output, no pool on another path), drawn again until it is."""
    from nasl.morph import net2deeper
    while True:
        arch = space.validate({**space.sample(seed), "width": 8, "depth": 1,
                               "cell.edge[0->3]": "skip_connect" if deeper else "nor_conv_3x3"})
        if not deeper:
            return arch
        try:
            net2deeper(space, arch, nasl.compile(space, arch).state_dict(), "depth")
            return arch
        except nasl.NaslError:
            seed += 1000
