"""The factories of nasl's own evaluator specs (``digits``, ``table``, ``nb201``, ``cost``, ``supernet``,
``python``): ``factory(rest, **options) -> evaluator``.

:mod:`nasl.study.evaluators` registers them as lazy ``"module:attr"`` entries, with their help text and
options, so that the registry imports none of the evaluators; this module is imported the first time a
spec is parsed.
"""
from __future__ import annotations

import os

from nasl.ir.errors import NaslError
from nasl.study.evaluators import FunctionEvaluator, bad_spec


def digits(rest, **options):
    if rest:
        raise bad_spec("digits:" + rest)
    try:
        from nasl.study.training import TrainEvaluator
    except ImportError as e:
        raise NaslError(f"the 'digits' evaluator needs torch and scikit-learn ({e})") from None
    inherit = options.pop("inherit", None)
    if inherit:       # trials without a searcher-given parent start from the nearest saved trial (nasl.morph)
        from nasl.study.inheriting import InheritingEvaluator
        return InheritingEvaluator(**options)
    if "max_distance" in options:
        raise NaslError("the evaluator option 'max_distance' needs 'inherit': true")
    ev = TrainEvaluator(**options)
    ev.lineage = inherit is None            # inherit: false trains every child from scratch
    return ev


def table(rest, **options):
    if not rest:
        raise bad_spec("table")
    from nasl.study.table import TableEvaluator
    path, column = _split_path_column(rest)
    return TableEvaluator(path, column, **options)


def nb201(rest, **options):
    from nasl.data import NB201_COLUMNS, NB201_TABLE
    from nasl.study.table import TableEvaluator
    dataset = rest.strip().lower() or "cifar10"
    if dataset not in NB201_COLUMNS:
        raise NaslError(f"unknown NAS-Bench-201 dataset '{rest}' in 'nb201:{rest}'; "
                        f"expected one of {', '.join(NB201_COLUMNS)}")
    return TableEvaluator(NB201_TABLE, NB201_COLUMNS[dataset], **options)


def cost(rest, **options):
    from nasl.study.cost_evaluator import CostEvaluator
    metrics = [m.strip() for m in rest.split(",") if m.strip()] or ["params"]
    return CostEvaluator(metrics, **options)


def supernet(rest, **options):
    if not rest:
        raise bad_spec("supernet")
    try:
        from nasl.study.supernet_eval import SupernetStudyEvaluator
    except ImportError as e:
        raise NaslError(f"the 'supernet' evaluator needs torch and scikit-learn ({e})") from None
    return SupernetStudyEvaluator(rest, **options)


def python(rest, **options):
    if rest.count(":") < 1:
        raise bad_spec("python:" + rest)
    module, _, func = rest.rpartition(":")
    return FunctionEvaluator(module, func, **options)


def _split_path_column(rest: str) -> tuple[str, str | None]:
    # A Windows drive letter ("C:\...") is not a column separator.
    if os.path.exists(rest):
        return rest, None
    path, sep, column = rest.rpartition(":")
    if sep and path and not path.endswith(("\\", "/")) and len(path) > 1:
        return path, column or None
    return rest, None
