"""Studies: the search loop, SQLite storage, executors and evaluators.

>>> import nasl
>>> study = nasl.search("examples/nas_bench_201.nas", evaluator="table:nb201.csv",
...                     budget=100, storage="nb201.db")          # doctest: +SKIP
>>> study.best().arch                                            # doctest: +SKIP
"""
from typing import TYPE_CHECKING

if TYPE_CHECKING:       # loaded on first use: the command line imports nasl.study.cli_study to start
    from nasl.study.api import search  # noqa: F401
    from nasl.study.callbacks import StopSearch  # noqa: F401
    from nasl.study.digits import default_space_path  # noqa: F401  (the bundled digits space)
    from nasl.study.loop import SearchInterrupted  # noqa: F401
    from nasl.study.study import Study, Trial, pareto_front  # noqa: F401
    from nasl.study.oneshot_study import oneshot_search  # noqa: F401  (docs/oneshot.md)

__all__ = ["search", "Study", "Trial", "SearchInterrupted", "StopSearch", "pareto_front", "default_space_path",
           "oneshot_search"]

_WHERE = {"search": "api", "StopSearch": "callbacks", "default_space_path": "digits", "SearchInterrupted": "loop",
          "Study": "study", "Trial": "study", "pareto_front": "study", "oneshot_search": "oneshot_study"}


def __getattr__(name):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'nasl.study' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"nasl.study.{where}"), name)
    globals()[name] = value
    return value
