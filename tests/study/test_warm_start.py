"""--warm-start OTHER.db: the searcher is told another study's results before it asks; resume keeps them."""
from __future__ import annotations

import pytest

import nasl
from nasl.cli import main
from nasl.ir.errors import NaslError
from nasl.study import Study
from tests.study.helpers import COLUMN, NB201
from tests.study.workflow_helpers import TINY_SPACE

OPTS = ["-O", "population_size=5", "-O", "sample_size=5"]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("warm") / "src.db"
    nasl.search(str(NB201), evaluator="nb201", budget=8, seed=3, storage=path, progress=False)
    return path


def test_warm_start_changes_what_is_asked(source, tmp_path, capsys):
    cold, warm = tmp_path / "cold.db", tmp_path / "warm.db"
    base = ["search", str(NB201), "--evaluator", "nb201", "--budget", "4", *OPTS]
    assert main(base + ["--study", str(cold), "--no-progress"]) == 0
    assert main(base + ["--study", str(warm), "--warm-start", str(source)]) == 0
    assert "warm start: told the searcher 8 results" in capsys.readouterr().err
    cold_s, warm_s, src = Study.load(cold), Study.load(warm), Study.load(source)
    # the warm study has only its own trials; with a full population (5 <= 8 told) evolution mutates the best
    # from the first ask, where the cold one samples at random
    assert warm_s.counts()["complete"] == 4
    assert [t.arch for t in warm_s.trials] != [t.arch for t in cold_s.trials]
    first = warm_s.trials[0].arch.canonical()
    assert any(_differs_in_one(first, t.arch.canonical()) for t in src.completed())     # a mutated parent
    assert not any(_differs_in_one(cold_s.trials[0].arch.canonical(), t.arch.canonical()) for t in src.completed())
    assert warm_s.storage.meta("warm_start")["trials"] == 8


def _differs_in_one(a: dict, b: dict) -> bool:
    return sum(a[k] != b.get(k) for k in a) == 1


def test_resume_replays_the_warm_start(source, tmp_path):
    once, twice = tmp_path / "once.db", tmp_path / "twice.db"
    args = dict(evaluator="nb201", searcher_options={"population_size": 5, "sample_size": 5}, warm_start=source,
                progress=False)
    nasl.search(str(NB201), budget=6, storage=once, **args)
    nasl.search(str(NB201), budget=3, storage=twice, **args)
    # resume without the other file: the snapshot holds what it told
    nasl.search(storage=twice, resume=True, budget=6, progress=False)
    assert [t.arch for t in Study.load(once).trials] == [t.arch for t in Study.load(twice).trials]


def test_warm_start_errors(source, tmp_path):
    with pytest.raises(NaslError, match="no study to warm-start from"):
        nasl.search(str(NB201), evaluator="nb201", budget=1, storage=tmp_path / "a.db", warm_start=tmp_path / "x.db")
    with pytest.raises(NaslError, match=r"has no objective 'params'"):
        nasl.search(str(NB201), evaluator="nb201", cost=["params"], budget=1, storage=tmp_path / "b.db",
                    warm_start=source)
    space = tmp_path / "tiny.nas"
    space.write_text(TINY_SPACE)
    with pytest.raises(NaslError, match="none of its 8 complete trials is an architecture of this space"):
        nasl.search(str(space), evaluator="python:tests.study.helpers:lookup", budget=1,
                    storage=tmp_path / "c.db", objectives={COLUMN: "max"}, warm_start=source)
    assert not any((tmp_path / n).exists() for n in ("a.db", "b.db", "c.db"))
    nasl.search(str(NB201), evaluator="nb201", budget=1, storage=tmp_path / "d.db", progress=False)
    with pytest.raises(NaslError, match="applies to a new study"):
        nasl.search(storage=tmp_path / "d.db", resume=True, budget=2, warm_start=source)
