"""Evaluator specs, the table and cost evaluators, objectives and the Pareto front."""
from __future__ import annotations

import csv
import gzip
import hashlib
import pathlib
import pickle

import pytest

import nasl
from nasl.data import NB201_COLUMNS, NB201_TABLE, nb201_rows
from nasl.study.cost_evaluator import Constrained, CostEvaluator
from nasl.study.evaluators import FunctionEvaluator, check_metrics, parse_evaluator, TrialFailed
from nasl.study.protocol import TrialRequest
from nasl.study.study import pareto_front
from nasl.study.table import TableEvaluator
from tests.study.helpers import COLUMN, CSV, NB201, TABLE

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"


def request(arch, number=0):
    return TrialRequest(trial_id=number + 1, number=number, arch=dict(arch), budget=None, seed=0,
                        space_source=NB201.read_text(), space_file=str(NB201))


@pytest.fixture(scope="module")
def best_arch():
    from nasl.formats.nb201 import from_string
    return from_string(BEST)


def test_table_looks_up_nb201_strings(best_arch):
    ev = parse_evaluator(TABLE)
    assert isinstance(ev, TableEvaluator) and ev.directions == {COLUMN: "max"}
    got = ev(request(best_arch))       # the table's best CIFAR-10 accuracy, 94.37 (REFERENCE.md)
    assert got[COLUMN] == pytest.approx(94.37333333333333)
    assert set(got) == {COLUMN, "CIFAR100TestAccuracy200Epochs", "ImageNetTestAccuracy200Epochs"}
    assert parse_evaluator(f"table:{CSV}").column == COLUMN
    assert pickle.loads(pickle.dumps(ev))(request(best_arch)) == ev(request(best_arch))


@pytest.mark.parametrize("spec, column, value", [
    ("nb201", COLUMN, 94.37333333333333),
    ("nb201:cifar10", COLUMN, 94.37333333333333),
    ("nb201:cifar100", "CIFAR100TestAccuracy200Epochs", 73.09333321533204),
    ("nb201:ImageNet16", "ImageNetTestAccuracy200Epochs", 46.333333245171445),
])
def test_nb201_evaluator_reads_the_bundled_table(best_arch, spec, column, value):
    ev = parse_evaluator(spec)
    assert ev.path == NB201_TABLE and ev.directions == {column: "max"}
    assert ev(request(best_arch))[column] == value          # every digit kept by the compression


def test_bundled_nb201_table_is_the_source_table_exactly():
    with gzip.open(NB201_TABLE, "rb") as f:
        data = f.read()
    # the digest of ../shared/benchmarks/nb201.csv, recorded in nasl/data/NB201_README.md
    assert hashlib.sha256(data).hexdigest() == "cb5d777ec3368be83c8f9b3aa4d520696051cb0eb8d94b8f85b519f9ea4afa3e"
    rows = nb201_rows()
    assert len(rows) == 15625 and len({r["UniqueString"] for r in rows}) == 6466
    assert list(rows[0]) == list(NB201_COLUMNS.values()) + ["ArchitectureString", "UniqueString"]
    readme = pathlib.Path(NB201_TABLE).with_name("NB201_README.md").read_text()
    assert hashlib.sha256(data).hexdigest() in readme and "MIT" in readme


def test_table_in_arch_json_format(tmp_path, best_arch):
    path = tmp_path / "t.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "loss"])
        w.writerow([nasl.Architecture(best_arch).to_json(), "0.25"])
    ev = TableEvaluator(path, format="arch_json", direction="min")
    assert ev.directions == {"loss": "min"} and ev(request(best_arch)) == {"loss": 0.25}
    with pytest.raises(KeyError, match="is not in the table t.csv"):
        ev(request(dict(best_arch, **{"cell.edge[0->1]": "none"})))


@pytest.mark.parametrize("spec, message", [
    ("nope", "unknown evaluator 'nope'; expected digits, table:PATH"),
    ("table:/no/such.csv", "cannot read the table '/no/such.csv'"),
    ("nb201:svhn", "unknown NAS-Bench-201 dataset 'svhn' in 'nb201:svhn'; expected one of cifar10, cifar100, "
                   "imagenet16"),
    (f"table:{CSV}:Accuracy", "has no column 'Accuracy'; its columns: CIFAR10TestAccuracy200Epochs"),
    ("python:tests.study.helpers:missing", "module 'tests.study.helpers' has no evaluator 'missing'"),
    ("python:no_such_module_xyz:f", "cannot import evaluator module 'no_such_module_xyz'"),
    ("cost:watts", "unknown cost metric 'watts'; known: params, flops, macs, latency_ms"),
])
def test_bad_specs_are_clear_errors(spec, message):
    with pytest.raises(nasl.NaslError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_evaluator(spec)


def test_python_evaluators_pickle_by_name(best_arch):
    ev = parse_evaluator("python:tests.study.helpers:lookup")
    assert isinstance(ev, FunctionEvaluator) and ev.directions == {COLUMN: "max"}
    clone = pickle.loads(pickle.dumps(ev))
    assert clone(request(best_arch)) == ev(request(best_arch))


def test_metrics_are_checked():
    assert check_metrics({"a": 1, "note": "x", "b": float("nan"), "curve": [{"epoch": 1, "a": 0.5}]}, ["a"]) == (
        {"a": 1.0, "note": "x", "b": "nan"}, [{"epoch": 1.0, "a": 0.5}])
    for bad, reason in [({"a": float("nan")}, "objective 'a' is nan"), ({"a": "high"}, "is 'high', not a number"),
                        (3.0, "returned float, not a dict")]:
        with pytest.raises(TrialFailed, match=reason):
            check_metrics(bad, ["a"])


def test_cost_evaluator_matches_nasl_cost(best_arch):
    space = nasl.load(NB201)
    expected = nasl.cost(space, best_arch)
    ev = parse_evaluator("cost:params,flops")
    assert ev.directions == {"params": "min", "flops": "min"}
    assert ev(request(best_arch)) == {"params": expected.params, "flops": expected.flops}
    small = CostEvaluator(["params"], max_params=expected.params - 1)
    with pytest.raises(TrialFailed, match=f"constraint violated: params {expected.params:,} > max_params"):
        small(request(best_arch))


def test_a_two_objective_study_has_a_pareto_front():
    ev = Constrained(TableEvaluator(CSV, COLUMN, extra=[]), objectives=["params"], max_params=1_000_000)
    study = nasl.search(NB201, evaluator=ev, budget=30, seed=2, searcher="random", progress=False)
    assert study.objectives == {COLUMN: "max", "params": "min"}
    done = study.completed()
    assert all(t.metrics["params"] <= 1_000_000 for t in done)
    assert all(t.error.startswith("constraint violated: params") for t in study.trials if t.state == "failed")
    front = study.pareto_front()
    assert front and front[0] == study.best()
    for t in front:         # nothing beats a front member in both objectives
        assert not any(o.metrics[COLUMN] >= t.metrics[COLUMN] and o.metrics["params"] <= t.metrics["params"]
                       and o.metrics != t.metrics for o in done)
    assert study.best("params").metrics["params"] == min(t.metrics["params"] for t in done)


def test_pareto_front_helper():
    assert pareto_front([(1, 3), (2, 4), (0, 6), (1, 4), (2, 4)], ["max", "min"]) == [0, 1]
    assert pareto_front([], ["max"]) == []


def test_objectives_select_and_order():
    study = nasl.search(NB201, evaluator=f"table:{CSV}", budget=5, seed=1, searcher="random", progress=False,
                        objectives={"ImageNetTestAccuracy200Epochs": "max", COLUMN: "max"})
    assert list(study.objectives) == ["ImageNetTestAccuracy200Epochs", COLUMN]
    assert study.best().metrics["ImageNetTestAccuracy200Epochs"] == max(
        t.metrics["ImageNetTestAccuracy200Epochs"] for t in study.trials)
    with pytest.raises(nasl.NaslError, match="has no objective 'acc'"):
        nasl.search(NB201, evaluator=TABLE, budget=5, objectives=["acc"], progress=False)


def test_latency_is_measured_on_the_built_model(best_arch):
    pytest.importorskip("torch")
    ev = CostEvaluator(["latency_ms", "params"])
    got = ev(request(best_arch))
    assert got["latency_ms"] > 0 and got["params"] == nasl.cost(nasl.load(NB201), best_arch).params
