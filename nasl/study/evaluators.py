"""Evaluators by spec string, and the checks every trial's metrics pass.

The spec strings are shared by :func:`nasl.search` and ``nasl search
--evaluator``:

- ``digits``: train the compiled model on scikit-learn's digits
  (:class:`nasl.study.training.TrainEvaluator`);
- ``nb201[:cifar10|cifar100|imagenet16]``: NAS-Bench-201's 200-epoch test
  accuracy on that dataset (default cifar10), from the table bundled with
  nasl (:mod:`nasl.data`);
- ``table:PATH[:COLUMN]``: look results up in a benchmark CSV
  (:class:`nasl.study.table.TableEvaluator`, NAS-Bench-201 format);
- ``cost[:METRIC,...]``: params, FLOPs, MACs or latency, minimised
  (:class:`nasl.study.cost.CostEvaluator`);
- ``python:MODULE:FUNC``: a function or evaluator object from a module (a
  dotted name, or a ``.py`` path).
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import os
import sys
import time

from nasl.ir.errors import NaslError
from nasl.study import inline_timeout
from nasl.study.protocol import TrialPruned

SPEC_FORMS = "digits, table:PATH[:COLUMN], nb201[:cifar10|cifar100|imagenet16], cost[:params,flops,...] or python:MODULE:FUNC"


class TrialFailed(Exception):
    """An evaluation outcome that is a failure with a reason (not a crash of nasl)."""


def parse_evaluator(spec: str, **options):
    """The evaluator that a spec string names; NaslError for a bad one.

    ``options`` go to the evaluator's constructor (e.g. ``epochs`` for digits,
    ``format`` for tables).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise NaslError(f"an evaluator spec is a non-empty string: {SPEC_FORMS}")
    kind, _, rest = spec.strip().partition(":")
    if kind == "digits" and not rest:
        try:
            from nasl.study.training import TrainEvaluator
        except ImportError as e:
            raise NaslError(f"the 'digits' evaluator needs torch and scikit-learn ({e})") from None
        ev = TrainEvaluator(**options)
    elif kind == "nb201":
        from nasl.data import NB201_COLUMNS, NB201_TABLE
        from nasl.study.table import TableEvaluator
        dataset = rest.strip().lower() or "cifar10"
        if dataset not in NB201_COLUMNS:
            raise NaslError(f"unknown NAS-Bench-201 dataset '{rest}' in '{spec}'; "
                            f"expected one of {', '.join(NB201_COLUMNS)}")
        ev = TableEvaluator(NB201_TABLE, NB201_COLUMNS[dataset], **options)
    elif kind == "table" and rest:
        from nasl.study.table import TableEvaluator
        path, column = _split_path_column(rest)
        ev = TableEvaluator(path, column, **options)
    elif kind == "cost":
        from nasl.study.cost import CostEvaluator
        metrics = [m.strip() for m in rest.split(",") if m.strip()] or ["params"]
        ev = CostEvaluator(metrics, **options)
    elif kind == "python" and rest.count(":") >= 1:
        module, _, func = rest.rpartition(":")
        ev = FunctionEvaluator(module, func, **options)
    else:
        raise NaslError(f"unknown evaluator '{spec}'; expected {SPEC_FORMS}")
    try:
        ev.spec = spec
    except AttributeError:
        pass
    return ev


def _split_path_column(rest: str) -> tuple[str, str | None]:
    # A Windows drive letter ("C:\...") is not a column separator.
    if os.path.exists(rest):
        return rest, None
    path, sep, column = rest.rpartition(":")
    if sep and path and not path.endswith(("\\", "/")) and len(path) > 1:
        return path, column or None
    return rest, None


def load_object(module: str, name: str):
    """``module.name``, where module is a dotted name or a path to a .py file."""
    try:
        if module.endswith(".py") or os.sep in module:
            mod_name = os.path.splitext(os.path.basename(module))[0]
            mod = sys.modules.get(mod_name)
            if mod is None or os.path.abspath(getattr(mod, "__file__", "") or "") != os.path.abspath(module):
                spec = importlib.util.spec_from_file_location(mod_name, module)
                if spec is None or spec.loader is None:
                    raise ImportError(f"no Python file at '{module}'")
                mod = importlib.util.module_from_spec(spec)
                sys.modules[mod_name] = mod
                spec.loader.exec_module(mod)
        else:
            mod = importlib.import_module(module)
    except (ImportError, OSError, SyntaxError) as e:
        raise NaslError(f"cannot import evaluator module '{module}': {e}") from None
    try:
        return getattr(mod, name)
    except AttributeError:
        raise NaslError(f"module '{module}' has no evaluator '{name}'") from None


class FunctionEvaluator:
    """``python:MODULE:FUNC``: a callable loaded by name, so it pickles as its name.

    The callable takes the :class:`~nasl.study.protocol.TrialRequest` and
    returns a dict of metrics or a number (the metric ``objective``). If it
    has a ``directions`` attribute that names the objectives; otherwise
    ``directions`` (default ``{"objective": "max"}``) does. A class or a
    factory is not called: name the evaluator object itself.
    """

    def __init__(self, module: str, func: str, directions=None):
        self.module = os.path.abspath(module) if module.endswith(".py") else module
        self.func = func
        self._fn = None
        fn = self._load()
        self.directions = dict(directions or getattr(fn, "directions", None) or {"objective": "max"})

    def _load(self):
        if self._fn is None:
            fn = load_object(self.module, self.func)
            if not callable(fn):
                raise NaslError(f"'{self.module}:{self.func}' is not callable")
            self._fn = fn
        return self._fn

    def __call__(self, request):
        value = self._load()(request)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = {next(iter(self.directions)): float(value)}
        return value

    @property
    def model_inputs(self):
        """The named object's ``model_inputs`` (a ``TrainEvaluator`` on one's own data has them), so a
        study records the input shape and class count for its exports; None for a plain function."""
        inputs = getattr(self._load(), "model_inputs", None)
        return inputs if isinstance(inputs, dict) else None

    def __getstate__(self):
        return {"module": self.module, "func": self.func, "directions": self.directions,
                "spec": getattr(self, "spec", None), "_fn": None}

    def __repr__(self) -> str:
        return f"FunctionEvaluator('{self.module}:{self.func}')"


def check_metrics(metrics, objectives) -> tuple[dict, list | None]:
    """Validate what an evaluator returned: ``(metrics, curve)``.

    Raises :class:`TrialFailed` for a missing, non-numeric, NaN or infinite
    objective. Other metrics are kept when they are JSON numbers, strings or
    booleans.
    """
    if not hasattr(metrics, "items"):
        raise TrialFailed(f"the evaluator returned {type(metrics).__name__}, not a dict of metrics")
    metrics = dict(metrics)
    curve = metrics.pop("curve", None)
    out = {}
    for name in objectives:
        if name not in metrics:
            raise TrialFailed(f"the evaluator returned no objective '{name}' (it returned {sorted(metrics)})")
        try:
            v = float(metrics[name])
        except (TypeError, ValueError):
            raise TrialFailed(f"objective '{name}' is {metrics[name]!r}, not a number") from None
        if not math.isfinite(v):
            raise TrialFailed(f"objective '{name}' is {v}")
        out[name] = v
    for k, v in metrics.items():
        if k in out:
            continue
        if isinstance(v, (bool, str)) or v is None:
            out[k] = v
        else:
            try:
                f = float(v)
                out[k] = f if math.isfinite(f) else str(f)
            except (TypeError, ValueError):
                out[k] = repr(v)
    if curve is not None:
        curve = [{k: (float(x) if isinstance(x, (int, float)) else x) for k, x in dict(row).items()}
                 for row in curve]
    return out, curve


def failure_text(e: Exception) -> str:
    """A failed trial's reason: the type and message of the exception; a NaslError is already worded as
    nasl's errors are (``error: ...``, with a position), so its class name is not put before it."""
    return str(e) if isinstance(e, NaslError) else f"{type(e).__name__}: {e}"


def run_trial(evaluator, request, objectives) -> dict:
    """Evaluate one request where it runs (inline or in a worker): the outcome as plain data.

    Returns ``{"state", "metrics", "curve", "error", "duration", "worker"}``.
    An exception is a failed trial with its type and message, and so is
    ``sys.exit()`` (inline it would stop nasl, and stop every resume again);
    KeyboardInterrupt propagates (Ctrl-C stops the study), and so does the
    inline timeout's :class:`~nasl.study.inline_timeout.TrialTimeout`, which
    may interrupt the evaluator call alone, never this bookkeeping.
    """
    start = time.perf_counter()
    out = {"state": "complete", "metrics": None, "curve": None, "error": None,
           "worker": f"pid {os.getpid()}"}
    try:
        with inline_timeout.interruptible():
            metrics = evaluator(request)
        out["metrics"], out["curve"] = check_metrics(metrics, objectives)
    except TrialFailed as e:
        out["state"], out["error"] = "failed", str(e)
    except TrialPruned as e:
        out["state"], out["error"] = "pruned", str(e)
        try:
            out["curve"] = check_metrics({"curve": e.curve}, ())[1]
        except Exception:  # noqa: BLE001 - a curve that is not a list of dicts is left out, the state stays
            out["curve"] = None
    except Exception as e:  # noqa: BLE001 - any error of the user's evaluator fails its trial only
        out["state"], out["error"] = "failed", failure_text(e)
    except SystemExit as e:
        out["state"], out["error"] = "failed", f"SystemExit: the evaluator called sys.exit({e.code!r})"
    out["duration"] = time.perf_counter() - start
    return out
