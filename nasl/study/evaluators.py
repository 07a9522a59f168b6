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
  (:class:`nasl.study.cost_evaluator.CostEvaluator`);
- ``python:MODULE:FUNC``: a function or evaluator object from a module (a
  dotted name, or a ``.py`` path);
- ``supernet:PATH``: inherited weights of a trained supernet checkpoint
  (``sn.save(PATH)``), BatchNorm recalibrated, on the digits
  (:class:`nasl.study.supernet_eval.SupernetStudyEvaluator`).
"""
from __future__ import annotations

import math
import os
import time

from nasl.ir.errors import NaslError
from nasl.study import inline_timeout
from nasl.study.protocol import TrialFailed, TrialPruned

from nasl.registry import Registry

# spec kind (the part before the first ':') -> factory(rest, **options) -> evaluator; a plug-in adds
# one through the entry-point group ``nasl.evaluators`` (its module calls register_evaluator)
EVALUATORS = Registry("evaluator", "nasl.evaluators")


def register_evaluator(name: str, make=None, *, form: str | None = None, options=None, doc: str = "",
                       example: str | None = None, replace: bool = False):
    """Make ``make(rest, **options) -> evaluator`` the evaluator of specs ``name[:rest]``.

    ``form`` is how the spec is written in help text (default ``name``);
    ``options`` is the class (or ``"module:Class"``) whose constructor's
    keywords are the evaluator's options (``-E NAME=VALUE``; default: those
    of ``make``); ``example`` is a spec the contract test
    (``tests/test_registries.py``) evaluates one architecture with. Without
    ``make`` this is a decorator. ``make`` may be a ``"module:attr"`` string:
    the module is imported when the evaluator is first asked for. A bad
    ``rest`` is a :class:`NaslError`.
    """
    if make is None:
        return lambda fn: register_evaluator(name, fn, form=form, options=options, doc=doc, example=example,
                                             replace=replace)
    if not callable(make) and not (isinstance(make, str) and ":" in make):
        raise TypeError(f"register_evaluator({name!r}): make must be callable or a 'module:attr' string, "
                        f"got {type(make).__name__}")
    EVALUATORS.register(name, make, replace=replace, form=form or name, options=options or make, doc=doc,
                        example=example)
    return make


def spec_forms() -> str:
    """The spec forms of every registered evaluator, for help text and errors."""
    forms = [EVALUATORS.entry(n).meta["form"] for n in EVALUATORS.keys()]
    return ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else "".join(forms)


def options_class(spec: str):
    """The class (or function) whose constructor's keywords are the options of the evaluator of ``spec``."""
    target = EVALUATORS.entry(spec.strip().partition(":")[0]).meta["options"]
    if isinstance(target, str):
        from importlib import import_module
        module, _, attr = target.partition(":")
        target = getattr(import_module(module), attr)
    return target


def parse_evaluator(spec: str, **options):
    """The evaluator that a spec string names; NaslError for a bad one.

    ``options`` go to the evaluator's constructor (e.g. ``epochs`` for digits,
    ``format`` for tables).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise NaslError(f"an evaluator spec is a non-empty string: {spec_forms()}")
    kind, _, rest = spec.strip().partition(":")
    make = EVALUATORS.find(kind)
    if make is None:
        raise bad_spec(spec)
    ev = make(rest, **options)
    try:
        ev.spec = spec
    except AttributeError:
        pass
    return ev


def bad_spec(spec: str) -> NaslError:
    from nasl.ir.errors import did_you_mean
    kind = spec.strip().partition(":")[0]
    return NaslError(f"unknown evaluator '{spec}'; expected {spec_forms()}",
                     hint=None if kind in EVALUATORS else did_you_mean(kind, EVALUATORS.names()))


# the built-in evaluators, in the order help text lists them: lazy entries, so that this module imports
# none of the evaluators (the training one imports this module's registry back; issue 15's no-cycles rule)
_FACTORIES = "nasl.study.builtin_evaluators:"
register_evaluator("digits", _FACTORIES + "digits", options="nasl.study.training:TrainEvaluator", example="digits",
                   doc="train the compiled model on scikit-learn's digits")
register_evaluator("table", _FACTORIES + "table", form="table:PATH[:COLUMN]", options="nasl.study.table:TableEvaluator",
                   doc="look results up in a benchmark CSV (NAS-Bench-201 format by default)")
register_evaluator("nb201", _FACTORIES + "nb201", form="nb201[:cifar10|cifar100|imagenet16]",
                   options="nasl.study.table:TableEvaluator", example="nb201:cifar10",
                   doc="NAS-Bench-201's 200-epoch test accuracy, from the bundled table")
register_evaluator("cost", _FACTORIES + "cost", form="cost[:params,flops,...]",
                   options="nasl.study.cost_evaluator:CostEvaluator", example="cost:params,flops",
                   doc="params, FLOPs, MACs or latency, minimised")
register_evaluator("supernet", _FACTORIES + "supernet", form="supernet:PATH",
                   options="nasl.study.supernet_eval:SupernetStudyEvaluator",
                   doc="inherited weights of a trained supernet (sn.save or a one-shot run), BatchNorm recalibrated")
register_evaluator("python", _FACTORIES + "python", form="python:MODULE:FUNC",
                   options="nasl.study.evaluators:FunctionEvaluator",
                   doc="a function or evaluator object from a module (a dotted name, or a .py path)")


def load_object(module: str, name: str):
    """``module.name``, where module is a dotted name or a path to a .py file (:mod:`nasl.loader`)."""
    from nasl.loader import load_object as load
    return load(module, name, "evaluator")


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
