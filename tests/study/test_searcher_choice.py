"""Which searcher a study runs (issue 20): a searcher object is recorded by name, options and seed;
regularized evolution's defaults scale with the budget, so a short study really evolves."""
from __future__ import annotations

import pytest

import nasl
from nasl.ir.errors import NaslError
from nasl.searchers import create
from nasl.searchers.base import Searcher
from nasl.searchers.evolution import RegularizedEvolution
from nasl.searchers.random_search import RandomSearch

SPACE = """
input x: [4]
network { return x >> linear(choice(8, 16, 32) as w1) >> relu >> linear(choice(2, 4, 6, 8) as w2) }
"""


def _ev(request):
    a = request.arch
    return {"score": a["w1"] / 32 + a["w2"] / 8}


_ev.directions = {"score": "max"}


def _search(**kw):
    kw.setdefault("budget", 12)
    return nasl.search(SPACE, evaluator=_ev, progress=False, **kw)


def _arch_ids(study):
    return [t.arch_id for t in study.trials]


def test_a_searcher_object_is_recorded_and_runs_as_its_name(tmp_path):
    space = nasl.loads(SPACE)
    obj = RegularizedEvolution(space.spec, seed=3, population_size=5, sample_size=2)
    study = _search(searcher=obj, storage=tmp_path / "obj.db")
    assert study.config["searcher"] == "regularized_evolution"
    assert study.config["seed"] == 3
    assert study.config["searcher_options"]["population_size"] == 5
    assert study.config["searcher_options"]["sample_size"] == 2
    by_name = _search(searcher="regularized_evolution", seed=3, storage=tmp_path / "name.db",
                      searcher_options={"population_size": 5, "sample_size": 2})
    assert _arch_ids(study) == _arch_ids(by_name)
    # it resumes without the object, from what was recorded, and with it
    study.close()
    more = nasl.search(storage=tmp_path / "obj.db", resume=True, budget=14, evaluator=_ev, progress=False)
    assert more.counts()["complete"] == 14
    more.close()
    again = RegularizedEvolution(space.spec, seed=3, population_size=5, sample_size=2)
    nasl.search(storage=tmp_path / "obj.db", resume=True, budget=15, evaluator=_ev, progress=False,
                searcher=again).close()


def test_other_searcher_objects(tmp_path):
    space = nasl.loads(SPACE)
    study = _search(searcher=RandomSearch(space.spec, seed=1, dedup=False), storage=tmp_path / "r.db")
    assert study.config["searcher"] == "random"
    assert study.config["searcher_options"]["dedup"] is False


class _Unregistered(Searcher):
    def _propose(self):
        raise AssertionError


@pytest.mark.parametrize("make,message", [
    (lambda s: _Unregistered(s.spec, seed=0), "is not registered"),
    (lambda s: RegularizedEvolution, "not the class RegularizedEvolution"),
    (lambda s: 42, "or a Searcher object, not a int"),
    (lambda s: _used(RegularizedEvolution(s.spec, seed=0)), "has already been used"),
    (lambda s: create("regularized_evolution", s.spec, seed=5), "seed 5 differs from seed=1"),
])
def test_what_is_not_a_searcher_says_what_is_expected(make, message, tmp_path):
    with pytest.raises(NaslError, match=message):
        _search(searcher=make(nasl.loads(SPACE)), seed=1, storage=tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()


def _used(searcher):
    searcher.ask()
    return searcher


@pytest.mark.parametrize("budget,population,sample", [(10, 4, 2), (30, 10, 3), (90, 30, 8), (1000, 100, 25),
                                                      (1, 4, 2)])
def test_evolution_defaults_scale_with_the_budget(budget, population, sample):
    options, warnings = RegularizedEvolution.options_for_budget(budget, {})
    assert options == {"population_size": population, "sample_size": sample}
    assert warnings == []                      # a default is not warned about, even where the budget is tiny
    _, warnings = RegularizedEvolution.options_for_budget(budget, {"population_size": population})
    assert bool(warnings) == (population >= budget)


def test_a_short_study_evolves(tmp_path):
    study = _search(budget=12, storage=tmp_path / "evo.db")
    assert study.config["searcher_options"] == {"population_size": 4, "sample_size": 2}
    # after the 4 random ones, each trial is a mutation of a member: it differs in exactly one choice
    archs = [dict(t.arch.canonical()) for t in study.trials]
    for i in range(4, len(archs)):
        assert any(sum(archs[i][k] != m[k] for k in archs[i]) == 1 for m in archs[:i])


def test_resume_keeps_the_recorded_population(tmp_path):
    _search(budget=6, storage=tmp_path / "r.db").close()
    # a larger budget on resume does not rescale the population: the replay must draw what was drawn
    study = nasl.search(storage=tmp_path / "r.db", resume=True, budget=30, evaluator=_ev, progress=False)
    assert study.config["searcher_options"] == {"population_size": 4, "sample_size": 2}
    assert study.counts()["complete"] == 30


def test_an_explicit_population_the_budget_cannot_fill_warns(tmp_path, capsys):
    _search(budget=5, storage=tmp_path / "w.db", searcher_options={"population_size": 10}).close()
    err = capsys.readouterr().err
    assert "warning: regularized_evolution's population_size=10 is not below the budget of 5" in err
    # the given option and the filled-in one are recorded; giving the same one again on resume is accepted
    study = nasl.search(storage=tmp_path / "w.db", resume=True, budget=6, evaluator=_ev, progress=False,
                        searcher_options={"population_size": 10})
    assert study.config["searcher_options"] == {"population_size": 10, "sample_size": 3}


def test_the_objective_hint_is_what_the_cli_and_python_take(tmp_path, capsys):
    from nasl.cli import main
    with pytest.raises(NaslError) as info:
        nasl.search(SPACE, evaluator="cost", objectives=["val_accuracy"], budget=1, progress=False)
    assert "--objective val_accuracy:max on the command line, objectives=['val_accuracy:max']" in str(info.value)
    hint = main(["search", "--budget", "1", "--objective", "params", "--study", str(tmp_path / "h.db"),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert hint == 1 and "--objective params:min" in err and "'max'" not in err    # params are minimised
    # the form the hint gives is taken, from Python and from the command line
    assert main(["search", "--budget", "1", "--evaluator", "cost", "--objective", "params:max",
                 "--study", str(tmp_path / "o.db"), "--no-progress", _space_file(tmp_path)]) == 0
    assert nasl.study.Study.load(tmp_path / "o.db").objectives == {"params": "max"}


def _space_file(tmp_path):
    path = tmp_path / "space.nas"
    path.write_text(SPACE)
    return str(path)


def _raises_nasl_error(request):
    raise NaslError("the evaluator refuses this one")


_raises_nasl_error.directions = {"score": "max"}


def test_a_nasl_error_in_a_trial_reads_error_once(tmp_path):
    study = nasl.search(SPACE, evaluator=_raises_nasl_error, budget=1, progress=False)
    assert study.trials[0].error == "error: the evaluator refuses this one"
