"""EAS (Cai et al. 2018): the reward, the encoder and actors, the lineage names, resume, the chain
of morphs the evaluator applies, and a digits study whose children inherit."""
from __future__ import annotations

import json
import math
import pathlib

import pytest
import torch

import nasl
from nasl.searchers import Result, create
from nasl.searchers.eas import reward

DIGITS = pathlib.Path(__file__).resolve().parents[2] / "nasl" / "spaces" / "digits.nas"
# a cell with a skip path from input to output whose other edges are convs: Net2Deeper can make it the identity
CELL = {"cell.edge[0->1]": "nor_conv_3x3", "cell.edge[0->2]": "nor_conv_3x3", "cell.edge[1->2]": "nor_conv_3x3",
        "cell.edge[0->3]": "skip_connect", "cell.edge[1->3]": "nor_conv_3x3", "cell.edge[2->3]": "nor_conv_3x3"}
START = {**CELL, "width": 8, "depth": 1}


@pytest.fixture(scope="module")
def spec():
    return nasl.load(DIGITS).spec


def test_reward_is_the_papers_tan():
    assert reward(0.5) == pytest.approx(1.0)                       # tan(pi / 4)
    assert reward(0.9) == pytest.approx(math.tan(0.45 * math.pi))
    assert reward(0.0) == 0.0 and reward(-1) == 0.0
    assert reward(1.0) == pytest.approx(math.tan(0.999 * math.pi / 2))   # capped, finite
    # the transform spreads the top: 0.90 -> 0.95 gains more than 0.50 -> 0.55
    assert reward(0.95) - reward(0.90) > 5 * (reward(0.55) - reward(0.50))


def test_start_widths_depths_and_tokens(spec):
    s = create("eas", spec, seed=0, start=START)
    assert s.widths == ["width"] and s.depths == ["depth"]
    assert s.ask() == START and s.lineage_of(START) is None
    tokens, where = s.tokens({**START, "depth": 3})
    # six edges, the width, and one token per layer of the depth (three)
    assert len(tokens) == 6 + 1 + 3 and list(where) == ["width"]
    assert tokens[where["width"]][0] == s.index["width"]
    default = create("eas", spec, seed=1)
    assert default.start["width"] == 8 and default.start["depth"] == 1      # the smallest


def test_encoder_and_actors_shapes_and_masks(spec):
    s = create("eas", spec, seed=0, start=START)
    tokens, where = s.tokens(START)
    out, (h, c) = s.policy.encode(tokens)
    assert tuple(out.shape) == (len(tokens), 100) and tuple(h.shape) == (1, 100)   # both directions of 50
    p = s.policy.wider_probs(out, [where["width"]])
    assert p.shape == (1,) and 0 < float(p.detach()) < 1
    lp = s.policy.deeper_logp((h, c), [0])
    assert float(lp[0].detach().exp()) == pytest.approx(1.0)
    draws = iter([0.0, 0.999])
    assert s.policy.sample_wider(tokens, [where["width"]], lambda: next(draws)) == [1]
    assert s.policy.sample_wider(tokens, [where["width"]], lambda: next(draws)) == [0]


def test_transformation_strings_and_lineage(spec):
    s = create("eas", spec, seed=2, start=START, batch_size=3, wider_steps=2, deeper_steps=1)
    first = s.ask()
    s.tell(first, 0.6)
    names = set()
    for _ in range(12):
        a = s.ask()
        lin = s.lineage_of(a)
        assert lin is not None
        steps = [] if lin.transformation == "identity" else [x.split() for x in lin.transformation.split("; ")]
        # replay the steps on the parent: they give the child, each step to the next value
        v = dict(lin.parent)
        for kind, path in steps:
            assert kind in ("net2wider", "net2deeper") and path == ("width" if kind == "net2wider" else "depth")
            v = s._grown(v, path)
        assert v == dict(a)
        assert all(a[k] == lin.parent[k] for k in CELL)       # EAS only widens and deepens
        names.add(lin.transformation)
        s.tell(a, 0.5 + a["width"] / 100 + a["depth"] / 20)
    assert "net2wider width; net2deeper depth" in names


def test_each_episode_starts_from_the_best_so_far(spec):
    s = create("eas", spec, seed=3, start=START, batch_size=2, wider_steps=1, deeper_steps=1)
    s.tell(s.ask(), 0.5)
    parents = []
    for _ in range(6):
        a = s.ask()
        parents.append(s.lineage_of(a).parent)
        s.tell(a, 0.5 + a["width"] / 100 + a["depth"] / 20)
    assert parents[0] == parents[1] == START                      # episode 1: the start network
    assert parents[2]["width"] * 10 + parents[2]["depth"] > 81    # episode 2: a grown (better) one
    fixed = create("eas", spec, seed=3, start=START, batch_size=2, wider_steps=1, deeper_steps=1, parent="start")
    fixed.tell(fixed.ask(), 0.5)
    for _ in range(6):
        a = fixed.ask()
        assert fixed.lineage_of(a).parent == START
        fixed.tell(a, 0.9)


def test_the_controller_learns_to_widen_when_width_pays(spec):
    """Accuracy that rises with width only: the Net2Wider actor's widening probability rises."""
    s = create("eas", spec, seed=4, start=START, batch_size=4, wider_steps=1, deeper_steps=0,
               parent="start", learning_rate=0.05)
    tokens, where = s.tokens(START)
    before = float(s.policy.wider_probs(s.policy.encode(tokens)[0], [where["width"]]).detach())
    s.tell(s.ask(), 0.5)
    for _ in range(40):
        a = s.ask()
        s.tell(a, 0.5 + (a["width"] - 8) / 40)
    after = float(s.policy.wider_probs(s.policy.encode(tokens)[0], [where["width"]]).detach())
    assert after > before + 0.2, (before, after)


def test_a_refused_deeper_is_not_proposed_again_for_that_cell(spec):
    s = create("eas", spec, seed=5, start=START, batch_size=2, wider_steps=0, deeper_steps=1)
    s.tell(s.ask(), 0.5)
    a = s.ask()
    assert s.lineage_of(a).transformation == "net2deeper depth"
    s.tell(a, Result.failure("net2deeper: the layers that 'depth' = 2 adds (conv) cannot be initialised to the identity"))
    assert s.known[a.id] == 0.0 and len(s.refused) == 1
    for _ in range(3):
        b = s.ask()
        assert s.lineage_of(b).transformation == "identity" and b == START
        s.tell(b, 0.5)


def test_a_space_without_widths_or_depths_trains_the_start_on():
    sp = nasl.load(DIGITS.parents[2] / "examples" / "nas_bench_201.nas")
    s = create("eas", sp.spec, seed=0)
    assert s.widths == [] and s.depths == []
    first = s.ask()
    s.tell(first, 0.5)
    for _ in range(3):
        a = s.ask()
        assert a == first and s.lineage_of(a).transformation == "identity"
        s.tell(a, 0.5)
    with pytest.raises(ValueError, match="not a numeric choice"):
        create("eas", sp.spec, widths=["cell.edge[0->1]"])
    with pytest.raises(ValueError, match="parent"):
        create("eas", sp.spec, parent="worst")


def test_state_round_trip_and_recover_continue_exactly(spec):
    def run(s, n, events=None):
        out = []
        for i in range(n):
            a = s.ask()
            r = Result.failure("x") if i % 6 == 5 else Result({"val_accuracy": 0.4 + a["width"] / 100 + a["depth"] / 30})
            s.tell(a, r)
            out.append(a)
            if events is not None:
                events.append((a, r))
        return out
    opts = dict(start=START, batch_size=3, wider_steps=2, deeper_steps=1)
    s, events = create("eas", spec, seed=9, **opts), []
    run(s, 11, events)
    fresh = create("eas", spec, seed=9, **opts)
    fresh.load_state_dict(json.loads(json.dumps(s.state_dict())))
    replay = create("eas", spec, seed=9, **opts)
    replay.recover(events)
    assert json.dumps(replay.state_dict()) == json.dumps(s.state_dict())
    want = run(s, 9)
    assert run(fresh, 9) == want and run(replay, 9) == want


def test_the_chain_preserves_the_function_and_names_its_steps(spec):
    from nasl.morph.chain import apply_chain, parse_chain
    from nasl.ir.errors import NaslError
    space = nasl.load(DIGITS)
    arch = space.validate(START)
    torch.manual_seed(0)
    model = nasl.compile(space, arch).eval()
    m = apply_chain(space, arch, model.state_dict(), "net2wider width; net2wider width; net2deeper depth")
    assert m.arch["width"] == 24 and m.arch["depth"] == 2 and m.preserving
    assert 0 < m.inherited < 1
    child = nasl.compile(space, m.arch).eval()
    child.load_state_dict(m.state_dict)
    x = torch.randn(4, 1, 8, 8)
    assert torch.allclose(model(x), child(x), atol=1e-5)
    assert parse_chain("net2wider width; net2deeper depth") == [("net2wider", "width"), ("net2deeper", "depth")]
    with pytest.raises(NaslError, match="is not a step"):
        parse_chain("net2wider width; mutate depth")


@pytest.mark.slow
def test_a_digits_study_stores_lineage_and_its_children_inherit(tmp_path):
    study = nasl.search(DIGITS, "eas", "digits", budget=5, seed=0, storage=str(tmp_path / "eas.db"),
                        evaluator_options={"epochs": 1}, progress=False,
                        searcher_options={"start": START, "batch_size": 2, "wider_steps": 1, "deeper_steps": 1})
    trials = study.trials
    assert all(t.state == "complete" for t in trials), [t.error for t in trials]
    assert trials[0].parent is None and dict(trials[0].arch) == START
    children = trials[1:]
    assert all(t.parent is not None and t.metrics["parent_trial"] == t.parent for t in children)
    assert all(t.transformation.split()[0] in ("net2wider", "net2deeper", "identity") for t in children)
    assert all(t.metrics["inherited"] > 0 for t in children)
    assert any(";" in t.transformation for t in children) or any(t.transformation != "identity" for t in children)
