"""The Optuna adapter: define-by-run over the ChoiceSpec, samplers, objectives, resume."""
from __future__ import annotations

import subprocess
import sys

import pytest

from nasl.ir.decision_tree import Block, Choice, ChoiceSpec, Group, Guard
from nasl.searchers import Result, create

optuna = pytest.importorskip("optuna")


def _spec():
    inner = Block([Choice("conv.k", "choice", (3, 5, 7)), Choice("conv.lr", "float", (1e-4, 1e-1), log=True)])
    return ChoiceSpec(Block([Choice("op", "choice", ("conv", "pool")), Group(Guard("op", frozenset({"conv"})), inner),
                             Choice("width", "int", range(16, 257), log=True), Choice("drop", "bool", (False, True)),
                             Choice("order", "permutation", ("a", "b", "c")),
                             Choice("big", "permutation", tuple("abcdefg"))]))


def test_define_by_run_parameters_are_the_active_paths():
    s = create("optuna", _spec(), seed=0, sampler="random")
    for _ in range(20):
        a = s.ask()
        trial = s.study.trials[-1]
        keys = set(trial.params)
        assert {k for k in keys if not k.startswith("big[")} == set(a) - {"big"}
        assert sum(k.startswith("big[") for k in keys) == 7          # 5040 orders: random keys
        assert ("conv.k" in a) == (a["op"] == "conv")
        s.tell(a, float(a["width"]))
    dists = s.study.trials[0].distributions
    assert isinstance(dists["width"], optuna.distributions.IntDistribution) and dists["width"].log
    assert dists["op"].choices == ("conv", "pool")
    assert dists["order"].choices == tuple(range(6))                    # an index over the 6 orders


def test_tpe_beats_its_random_start_and_is_deterministic(nb201):
    def run(seed):
        s = create("optuna", nb201.spec, seed=seed, sampler="tpe")
        out = []
        for _ in range(40):
            a = s.ask()
            v = sum(x == "nor_conv_3x3" for x in a.values())
            s.tell(a, v)
            out.append(v)
        return out
    first = run(0)
    assert first == run(0)
    assert sum(first[20:]) > sum(first[:20])


def test_multi_objective_and_failures(nb201):
    s = create("optuna", nb201.spec, seed=0, sampler="nsga2", objectives=["acc", "params"])
    assert len(s.study.directions) == 2
    for i in range(30):
        a = s.ask()
        n3 = sum(x == "nor_conv_3x3" for x in a.values())
        s.tell(a, Result.failure("x") if i % 7 == 0 else Result({"acc": n3, "params": n3}, {"params": "min"}))
    states = [t.state.name for t in s.study.trials]
    assert states.count("FAIL") == 5 and states.count("COMPLETE") == 25
    assert s.study.trials[1].values[1] <= 0        # params told signed: larger is better


def test_a_result_for_an_architecture_never_asked_is_added(nb201):
    s = create("optuna", nb201.spec, seed=0)
    arch = nb201.sample(5)
    s.tell(arch, 93.0)
    t = s.study.trials[0]
    assert t.state.name == "COMPLETE" and t.value == 93.0 and t.params == dict(arch)


@pytest.mark.parametrize("sampler", ["random", "nsga2", pytest.param("gp", marks=pytest.mark.slow)])
def test_samplers(nb201, sampler):
    # GP imports torch and fits a GP per ask: one model-based ask is enough here
    s = create("optuna", nb201.spec, seed=0, sampler=sampler,
               sampler_options={"n_startup_trials": 3} if sampler == "gp" else None)
    for _ in range(4):
        a = s.ask()
        nb201.validate(a)
        s.tell(a, sum(x == "nor_conv_3x3" for x in a.values()))


def test_cmaes_runs_or_names_its_package(nb201):
    try:
        import cmaes  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="cmaes"):
            create("optuna", nb201.spec, seed=0, sampler="cmaes")
        return
    s = create("optuna", nb201.spec, seed=0, sampler="cmaes")
    assert s.ordinal
    for _ in range(5):
        a = s.ask()
        s.tell(a, 1.0)


def _fake(a):
    return sum(x == "nor_conv_3x3" for x in a.values()) + int(a.id, 16) % 97 / 100


def _drive_batches(s, rounds, out, width=3, scores=None):
    # asks ``width`` at a time and tells them newest first, as parallel workers would; a fixed fake score
    for _ in range(rounds):
        asks = [s.ask() for _ in range(width)]
        for a in reversed(asks):
            s.tell(a, _fake(a))
            out.append(a.id)
            if scores is not None:
                scores.append(_fake(a))
    return out


def test_max_history_bounds_the_study_and_keeps_the_recent_and_the_best(nb201):
    import json
    s = create("optuna", nb201.spec, seed=3, sampler="tpe", max_history=40)
    told, sizes, scores = [], [], []
    for _ in range(30):
        _drive_batches(s, 1, told, scores=scores)
        sizes.append(len(s.study.trials))
    assert max(sizes) <= 40 and s._generation >= 2       # rebuilt, never past the bound
    assert min(sizes[5:]) >= 10                           # never below the recent quarter it keeps
    kept = [t for t in s.study.trials if t.state.name == "COMPLETE"]
    assert max(t.value for t in kept) == max(scores)      # the best ever found survives every rebuild
    state = json.loads(json.dumps(s.state_dict()))
    assert state["state"]["log"][0][0] == "rebuild"       # the log starts again at the last rebuild
    r = create("optuna", nb201.spec, seed=3, sampler="tpe", max_history=40)
    r.load_state_dict(state)
    assert _drive_batches(r, 12, []) == _drive_batches(s, 12, [])


def test_max_history_is_deterministic_and_resumes_with_pending_asks(nb201):
    import json
    runs = []
    for _ in range(2):
        s = create("optuna", nb201.spec, seed=5, max_history=16)
        runs.append(_drive_batches(s, 12, []))
    assert runs[0] == runs[1] and s._generation >= 2
    pending = [s.ask() for _ in range(2)]                 # asked before a snapshot, told after the resume
    state = json.loads(json.dumps(s.state_dict()))
    r = create("optuna", nb201.spec, seed=5, max_history=16)
    r.load_state_dict(state)
    for a in pending:
        s.tell(a, 1.0)
        r.tell(a, 1.0)
    assert _drive_batches(r, 10, []) == _drive_batches(s, 10, [])
    assert len(r.study.trials) <= 16


def test_below_max_history_nothing_changes(nb201):
    a = _drive_batches(create("optuna", nb201.spec, seed=2, max_history=1000), 10, [])
    b = _drive_batches(create("optuna", nb201.spec, seed=2, max_history=None), 10, [])
    assert a == b


def test_bad_options():
    for bad in (0, 7, 2.5, True, "1000"):
        with pytest.raises(ValueError, match="max_history must be an integer of at least 8"):
            create("optuna", _spec(), max_history=bad)
    with pytest.raises(ValueError, match="unknown Optuna sampler 'bo'"):
        create("optuna", _spec(), sampler="bo")
    with pytest.raises(ValueError, match="sampler_options"):
        create("optuna", _spec(), sampler="tpe", sampler_options={"nope": 1})


def test_missing_optuna_is_a_clear_error_and_import_is_lazy():
    code = ("import sys; sys.modules['optuna'] = None\n"
            "import nasl, nasl.searchers\n"
            "assert 'torch' not in sys.modules\n"
            "from nasl.searchers import create\n"
            "try:\n"
            "    create('optuna', nasl.load('examples/nas_bench_201.nas').spec)\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "pip install 'nasl[optuna]'" in out.stdout
