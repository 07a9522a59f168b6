"""N2N (Ashok et al. 2018): the reward, the two stages, the lineage names, learning, and a digits study."""
from __future__ import annotations

import json
import pathlib
import statistics

import pytest

import nasl
from nasl.searchers import Result, create
from nasl.searchers.n2n import reward

DIGITS = pathlib.Path(__file__).resolve().parents[2] / "nasl" / "spaces" / "digits.nas"
CELL = {f"cell.edge[{i}->{j}]": "nor_conv_3x3" for j in range(1, 4) for i in range(j)}
TEACHER = {**CELL, "width": 24, "depth": 3}


@pytest.fixture(scope="module")
def spec():
    return nasl.load(DIGITS).spec


def fake_params(arch) -> float:
    """A parameter count that grows with depth and with width squared, as the convs' do."""
    return 100 + arch["depth"] * arch["width"] ** 2 * 9


def test_reward_is_the_papers():
    # R = C (2 - C) * A / A_teacher with C = 1 - params / teacher params
    assert reward(0.9, 0.9, 100, 100) == 0.0                       # no compression
    assert reward(0.9, 0.9, 50, 100) == pytest.approx(0.75)       # C = 0.5
    assert reward(0.45, 0.9, 50, 100) == pytest.approx(0.375)     # half the accuracy halves it
    assert reward(0.9, 0.9, 10, 100) == pytest.approx(0.9 * 1.1)  # C = 0.9
    assert reward(0.9, 0.9, 200, 100) == pytest.approx(-3.0)      # a larger student is punished
    # C (2 - C) rises with compression but flattens near C = 1
    cs = [reward(1, 1, 100 * (1 - c), 100) for c in (0.2, 0.5, 0.8, 0.95)]
    assert cs == sorted(cs) and cs[-1] - cs[-2] < cs[1] - cs[0]


def test_the_teacher_comes_first_and_is_the_largest(spec):
    s = create("n2n", spec, seed=0)
    t = s.ask()
    assert t["width"] == 24 and t["depth"] == 3 and s.lineage_of(t) is None
    given = create("n2n", spec, seed=0, teacher=TEACHER).ask()
    assert dict(given) == TEACHER
    assert s.removal == ["depth"] and s.shrinkage == ["width"]


def test_two_stages_and_their_lineage_names(spec):
    s = create("n2n", spec, seed=1, teacher=TEACHER, removal_rollouts=8, batch_size=2)
    teacher = s.ask()
    s.tell(teacher, {"val_accuracy": 0.95, "params": fake_params(teacher)})
    removal, shrinkage = [], []
    for i in range(16):
        stage = s.stage
        a = s.ask()
        lin = s.lineage_of(a)
        (removal if stage == "removal" else shrinkage).append((a, lin))
        s.tell(a, {"val_accuracy": 0.9, "params": fake_params(a)})
    assert len(removal) == 8 and len(shrinkage) == 8
    for a, lin in removal:        # stage 1: only the depth moves, down, from the teacher
        assert lin.parent == teacher and a["width"] == 24 and a["depth"] <= 3
        assert lin.transformation == ("remove_layer depth" if a["depth"] < 3 else "identity")
    base = shrinkage[0][1].parent     # stage 2: from the best removal student, only the width moves
    best = max(removal, key=lambda p: reward(0.9, 0.95, fake_params(p[0]), fake_params(teacher)))[0]
    assert base == best
    for a, lin in shrinkage:
        assert lin.parent == base and a["depth"] == base["depth"] and a["width"] <= base["width"]
        assert lin.transformation == ("shrink width" if a["width"] < base["width"] else "identity")
    assert [st for st, _ in s.history] == ["removal"] * 8 + ["shrinkage"] * 8


def test_several_changed_choices_are_plain_inheritance(spec):
    s = create("n2n", spec, seed=3, teacher=TEACHER, removal_rollouts=0, shrinkage=["width", "depth"])
    s.ask()
    names = set()
    for _ in range(30):
        a = s.ask()
        names.add(s.lineage_of(a).transformation)
    assert "inherit" in names and names <= {"inherit", "shrink width", "shrink depth", "identity"}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_policies_learn_to_compress(spec, seed):
    """Accuracy that does not depend on size: both policies learn to cut, and the reward rises
    (measured, seeds 0-3: removal 0.67-0.80 -> 0.78-0.87 of a best 0.886; shrinkage -> 0.99)."""
    from nasl.searchers.n2n import _softmax
    s = create("n2n", spec, seed=seed, teacher=TEACHER, removal_rollouts=60, batch_size=5)
    t = s.ask()
    s.tell(t, {"val_accuracy": 0.9, "params": fake_params(t)})
    for _ in range(120):
        a = s.ask()
        s.tell(a, {"val_accuracy": 0.9, "params": fake_params(a)})
    rem = [r for st, r in s.history if st == "removal"]
    shr = [r for st, r in s.history if st == "shrinkage"]
    assert statistics.mean(rem[-20:]) > statistics.mean(rem[:20]) + 0.03, (rem[:20], rem[-20:])
    assert statistics.mean(shr[-20:]) > statistics.mean(shr[:20]), (shr[:20], shr[-20:])
    assert statistics.mean(_softmax(s.logits[f"remove depth[{i}]"])[1] for i in range(3)) > 0.5
    assert _softmax(s.logits["shrink width"])[0] > 0.8          # the narrowest width


def test_failed_students_score_minus_one_and_early_students_wait_for_the_teacher(spec):
    s = create("n2n", spec, seed=2, teacher=TEACHER, removal_rollouts=4, batch_size=10)
    t, a, b = s.ask(), s.ask(), s.ask()
    s.tell(a, Result.failure("oom"))
    s.tell(b, {"val_accuracy": 0.9, "params": fake_params(b)})
    assert s.history == [] and len(s.waiting) == 2            # no teacher accuracy yet
    s.tell(t, {"val_accuracy": 0.9, "params": fake_params(t)})
    assert s.history[0] == ["removal", -1.0]
    assert s.history[1][1] == pytest.approx(reward(0.9, 0.9, fake_params(b), fake_params(t)))


def test_state_round_trip_continues_exactly_on_digits(spec):
    def run(s, n):
        out = []
        for _ in range(n):
            a = s.ask()
            s.tell(a, {"val_accuracy": 0.8 + a["depth"] / 100, "params": fake_params(a)})
            out.append(a)
        return out
    s = create("n2n", spec, seed=9, removal_rollouts=7, batch_size=3)
    run(s, 10)
    fresh = create("n2n", spec, seed=9, removal_rollouts=7, batch_size=3)
    fresh.load_state_dict(json.loads(json.dumps(s.state_dict())))
    assert run(fresh, 12) == run(s, 12)


def test_bad_options_are_named(spec):
    with pytest.raises(ValueError, match="'cell.edge\\[0->1\\]' is not a numeric choice"):
        create("n2n", spec, removal=["cell.edge[0->1]"])
    with pytest.raises(ValueError, match="batch_size"):
        create("n2n", spec, batch_size=0)


@pytest.mark.slow
def test_a_digits_study_compresses_the_teacher_and_inherits(tmp_path):
    study = nasl.search(DIGITS, "n2n", "digits", budget=9, seed=0, storage=str(tmp_path / "n2n.db"),
                        evaluator_options={"epochs": 2}, cost=["params"], progress=False,
                        searcher_options={"teacher": TEACHER, "removal_rollouts": 4, "batch_size": 2})
    trials = study.trials
    assert all(t.state == "complete" for t in trials), [t.error for t in trials]
    teacher, students = trials[0], trials[1:]
    assert teacher.parent is None
    assert all(t.parent is not None for t in students)
    assert all(t.transformation.split()[0] in ("remove_layer", "shrink", "identity", "inherit") for t in students)
    assert all(t.metrics["parent_trial"] == t.parent for t in students)
    # every student starts from its parent's weights, and is no larger than the teacher
    assert all(t.metrics["inherited"] > 0 for t in students if t.transformation != "identity")
    assert all(t.metrics["params"] <= teacher.metrics["params"] for t in students)
    assert min(t.metrics["params"] for t in students) < teacher.metrics["params"] / 2


def test_without_sizes_the_proxy_is_used_for_teacher_and_student_alike(spec):
    s = create("n2n", spec, seed=4, teacher=TEACHER, removal_rollouts=3)
    t, a = s.ask(), s.ask()
    s.tell(t, 0.9)                                  # a bare score: no params objective, no cost
    s.tell(a, 0.9)
    proxy = a["depth"] / 3
    assert s.history[0][1] == pytest.approx(reward(0.9, 0.9, proxy, 1.0))
    with_cost = create("n2n", spec, seed=4, teacher=TEACHER, removal_rollouts=3, cost=fake_params)
    t, a = with_cost.ask(), with_cost.ask()
    with_cost.tell(t, 0.9)
    with_cost.tell(a, 0.9)
    assert with_cost.history[0][1] == pytest.approx(reward(0.9, 0.9, fake_params(a), fake_params(t)))


def test_recover_replays_a_history_on_digits(spec):
    s = create("n2n", spec, seed=6, removal_rollouts=5, batch_size=2)
    events = []
    for i in range(14):
        a = s.ask()
        r = Result.failure("x") if i % 5 == 4 else Result({"val_accuracy": 0.9, "params": fake_params(a)})
        s.tell(a, r)
        events.append((a, r))
    fresh = create("n2n", spec, seed=6, removal_rollouts=5, batch_size=2)
    fresh.recover(events)
    assert json.dumps(fresh.state_dict()) == json.dumps(s.state_dict())
    assert [fresh.ask() for _ in range(4)] == [s.ask() for _ in range(4)]


def _n2n_study(db, budget=8):
    return nasl.search(str(DIGITS), "n2n", "digits", budget=budget, seed=2, storage=str(db),
                       evaluator_options={"epochs": 0.5}, cost=["params"], progress=False,
                       searcher_options={"teacher": TEACHER, "removal_rollouts": 3, "batch_size": 2})


@pytest.mark.slow
def test_a_digits_study_resumes_after_sigkill_with_the_same_students(tmp_path):
    from tests.morph.kill_helper import search_then_kill
    from tests.morph.test_lineage import _lineage, _rows
    root = str(DIGITS.parents[2])
    reference = _n2n_study(tmp_path / "ref.db")
    db = tmp_path / "killed.db"
    code = (f"import nasl; nasl.search({str(DIGITS)!r}, 'n2n', 'digits', budget=8, seed=2, storage={str(db)!r}, "
            f"evaluator_options={{'epochs': 0.5}}, cost=['params'], progress=False, "
            f"searcher_options={{'teacher': {TEACHER!r}, 'removal_rollouts': 3, 'batch_size': 2}})")
    search_then_kill(code, db, root, children=2, budget=8)
    resumed = nasl.search(None, storage=str(db), resume=True, progress=False)
    assert _rows(resumed) == _rows(reference)
    assert _lineage(resumed) == _lineage(reference)
