"""A space where no architecture can be drawn is refused before the study starts, with the reason."""
from __future__ import annotations

import pytest

import nasl
from nasl.cli import main

NONE_HOLD = ("input x: [3, 8, 8]\nnetwork {\n    a = int_range(1, 1000)\n    b = int_range(1, 1000)\n"
             "    c = int_range(1, 1000)\n    require a + b + c == 5000\n    return x >> conv(4)\n}\n")
# satisfiable, and the space draws it exactly, but a searcher's rejection sampling never meets it
RARE = ("input x: [3, 8, 8]\nnetwork {\n    a = int_range(1, 1000000)\n    b = int_range(1, 1000000)\n"
        "    require a == 777 and b == 333\n    return x >> conv(4)\n}\n")


def never_called(request):
    raise AssertionError("no trial may run")


never_called.directions = {"acc": "max"}


def test_an_unsatisfiable_space_is_refused_naming_the_constraint():
    with pytest.raises(nasl.UnsatisfiableError) as e:
        nasl.search(NONE_HOLD, evaluator=never_called, budget=2, progress=False)
    assert e.value.span.line == 6 and e.value.span.col == 5
    assert "no architecture satisfies 'require a + b + c == 5000'" in e.value.message


# one free choice besides the rare pair, so there is more than one architecture to find
RARE_WITH_FREE = RARE.replace("    require", "    c = choice(1, 2, 3, 4)\n    require")


def fixed(request):
    return {"acc": float(request.arch["c"])}


fixed.directions = {"acc": "max"}


@pytest.mark.parametrize("searcher", ["random", "regularized_evolution", "genetic", "q_learning", "mcts",
                                      "mdenas", "pnas", "tournament_evolution", "hyperband"])
def test_searchers_meet_a_rare_but_satisfiable_constraint(searcher):
    # the searchers draw through the shared sampler, which draws exactly counted constraints apart; a policy
    # whose own draws never meet the constraint hands over to it (before: "proposed no architecture")
    study = nasl.search(RARE_WITH_FREE, searcher=searcher, evaluator=fixed, budget=4, progress=False)
    archs = [t.arch for t in study.trials]
    assert len(archs) == 4 and len({a.id for a in archs}) == 4
    assert all(a["a"] == 777 and a["b"] == 333 for a in archs)


def test_a_searcher_that_cannot_meet_it_names_the_constraint():
    pytest.importorskip("optuna")
    with pytest.raises(nasl.NaslError, match="searcher 'optuna' proposed no architecture: optuna: no architecture "
                                             "met 'require a == 777 and b == 333' in 100 Optuna trials in a row"):
        nasl.search(RARE, searcher="optuna", evaluator=never_called, budget=2, progress=False)


def test_grid_search_stops_naming_the_constraint_instead_of_scanning_for_hours():
    with pytest.raises(nasl.NaslError, match="searcher 'grid' proposed no architecture: grid search skipped "
                                             "100,000 architectures in a row that break 'require a == 777 and "
                                             "b == 333'"):
        nasl.search(RARE, searcher="grid", evaluator=never_called, budget=2, progress=False)


def test_the_shared_sampler_names_a_constraint_it_cannot_meet():
    from nasl.searchers.walks import NoValidArchitecture, sample
    import random
    # a product is not a linear comparison and its 10^12 combinations are too many to list: rejection only
    space = nasl.loads(RARE.replace("a == 777 and b == 333", "a * b == 777333"), "r.nas")
    with pytest.raises(NoValidArchitecture, match="no architecture met 'require a \\* b == 777333' in 10,000 "
                                                  "uniform draws$"):
        sample(space.spec, random.Random(0))


def test_the_command_refuses_it_with_exit_1(tmp_path, capsys):
    f = tmp_path / "none.nas"
    f.write_text(NONE_HOLD)
    code = main(["search", str(f), "--budget", "2", "--study", str(tmp_path / "s.db"), "--no-progress",
                 "--evaluator", "python:tests.study.test_refused_spaces:never_called"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"{f}:6:5: error: no architecture satisfies 'require a + b + c == 5000'")
    assert "no trial completed" not in err
