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


def test_a_searcher_that_proposes_nothing_says_why():
    with pytest.raises(nasl.NaslError, match="searcher 'random' proposed no architecture: no architecture met "
                                             "the constraints in 10000 draws"):
        nasl.search(RARE, searcher="random", evaluator=never_called, budget=2, progress=False)


def test_the_command_refuses_it_with_exit_1(tmp_path, capsys):
    f = tmp_path / "none.nas"
    f.write_text(NONE_HOLD)
    code = main(["search", str(f), "--budget", "2", "--study", str(tmp_path / "s.db"), "--no-progress",
                 "--evaluator", "python:tests.study.test_refused_spaces:never_called"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"{f}:6:5: error: no architecture satisfies 'require a + b + c == 5000'")
    assert "no trial completed" not in err
