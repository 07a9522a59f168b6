"""nasl search --config study.toml: every option from TOML, the command line winning, recorded in the study."""
from __future__ import annotations

import pytest

from nasl.cli import main
from nasl.study import Study
from tests.study.helpers import COLUMN, NB201

CONFIG = f"""
file = "{NB201}"
evaluator = "nb201"
budget = 5
seed = 4
searcher = "regularized_evolution"
searcher_options = {{ population_size = 3, sample_size = 2 }}
cost = ["params"]
objective = ["{COLUMN}", "params:min"]
study = "from-config.db"
no-progress = true
time_budget = "1h"
"""


def test_config_file_runs_the_search_and_is_recorded(tmp_path, capsys):
    cfg = tmp_path / "study.toml"
    cfg.write_text(CONFIG)
    assert main(["search", "--config", str(cfg)]) == 0
    db = tmp_path / "from-config.db"          # relative to the config file's folder
    study = Study.load(db)
    assert study.counts()["complete"] == 5 and study.config["seed"] == 4
    assert study.config["searcher_options"] == {"population_size": 3, "sample_size": 2}
    assert study.objectives == {COLUMN: "max", "params": "min"}
    recorded = study.storage.meta("config")
    assert recorded["budget"] == 5 and recorded["time_budget"] == "1h" and recorded["cost"] == "params"
    assert recorded["searcher_options"] == {"population_size": 3, "sample_size": 2}
    assert recorded["study"] == str(db)


def test_the_command_line_wins(tmp_path):
    cfg = tmp_path / "study.toml"
    cfg.write_text(CONFIG)
    db = tmp_path / "cli.db"
    assert main(["search", "--config", str(cfg), "--budget", "2", "--study", str(db), "-O", "sample_size=1"]) == 0
    study = Study.load(db)
    assert study.counts()["complete"] == 2
    assert study.config["searcher_options"] == {"population_size": 3, "sample_size": 1}


def test_the_same_study_as_the_command_line(tmp_path):
    cfg = tmp_path / "study.toml"
    cfg.write_text(CONFIG)
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    assert main(["search", "--config", str(cfg), "--study", str(a)]) == 0
    assert main(["search", str(NB201), "--evaluator", "nb201", "--budget", "5", "--seed", "4", "-O",
                 "population_size=3", "-O", "sample_size=2", "--cost", "params", "--objective", COLUMN,
                 "--objective", "params:min", "--study", str(b), "--no-progress"]) == 0
    assert [t.arch for t in Study.load(a).trials] == [t.arch for t in Study.load(b).trials]


@pytest.mark.parametrize("text, message", [
    ("budgte = 3", "unknown option 'budgte'; did you mean 'budget'?"),
    ("budget = '3'", "'budget' must be an integer, not str '3'"),
    ("searcher_options = 3", "'searcher_options' must be a table"),
    ("budget = = 3", "study.toml: Invalid value (at line 1, column 10)"),
    ("objective = [1]", "'objective' must be a string or a list of strings"),
])
def test_bad_config_is_one_line(tmp_path, capsys, text, message):
    cfg = tmp_path / "study.toml"
    cfg.write_text(text)
    assert main(["search", "--config", str(cfg), "--study", str(tmp_path / "x.db"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x.db").exists()


def test_missing_config(tmp_path, capsys):
    assert main(["search", "--config", str(tmp_path / "none.toml")]) == 1
    assert "none.toml" in capsys.readouterr().err
