"""Studies: the search loop, SQLite storage, executors and evaluators.

>>> import nasl
>>> study = nasl.search("examples/nas_bench_201.nas", evaluator="table:nb201.csv",
...                     budget=100, storage="nb201.db")          # doctest: +SKIP
>>> study.best().arch                                            # doctest: +SKIP
"""
from nasl.study.api import search
from nasl.study.callbacks import StopSearch
from nasl.study.digits import default_space_path  # noqa: F401  (the bundled digits space)
from nasl.study.loop import SearchInterrupted
from nasl.study.study import Study, Trial, pareto_front

__all__ = ["search", "Study", "Trial", "SearchInterrupted", "StopSearch", "pareto_front", "default_space_path"]
