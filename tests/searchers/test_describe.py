"""nasl list searchers: every registered searcher with its options and defaults, from the registry."""
from __future__ import annotations

import inspect

from nasl.cli import main
from nasl.searchers import create, list_searchers
from nasl.searchers.describe import options


def test_every_searcher_is_listed_with_its_defaults(capsys):
    assert main(["list", "searchers"]) == 0
    out = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in out if not line.startswith(" ")]
    assert names == list_searchers()
    at = out.index(next(line for line in out if line.startswith("regularized_evolution ")))
    assert "population_size=100, sample_size=25" in out[at + 1]
    assert "dedup=True, max_retries=100" in out[out.index(next(x for x in out if x.startswith("random "))) + 1]


def test_listed_defaults_are_the_constructors():
    import nasl
    from tests.study.helpers import NB201
    space = nasl.load(str(NB201))
    for name in list_searchers():
        opts = dict(options(name))
        # every listed option is accepted by create() (with its listed default)
        plain = {k: v for k, v in opts.items() if isinstance(v, (int, float, str, bool))}
        if name == "optuna":
            continue                         # optional dependency
        create(name, space.spec, seed=0, **plain)
        cls = type(create(name, space.spec, seed=0))
        own = inspect.signature(cls.__init__).parameters
        for k, p in own.items():
            if p.kind is p.KEYWORD_ONLY and p.default is not p.empty:
                assert opts[k] == p.default


def test_pattern(capsys):
    assert main(["list", "searchers", "succ*"]) == 0
    assert capsys.readouterr().out.startswith("successive_halving  Successive halving")
    assert main(["list", "searchers", "nope*"]) == 1
    assert "no searcher matches 'nope*'" in capsys.readouterr().err
