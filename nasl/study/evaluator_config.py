"""Evaluators built from what a study records: a spec, options, cost metrics.

A study records its evaluator as ``{"spec", "repr", "options", "cost"}``:
the spec string (``digits``, ``nb201``, ``table:PATH`` ...), the
constructor options given with ``-E NAME=VALUE`` / ``evaluator_options=``
(epochs, lr, optimizer ...; one's own ``data`` as its ``.npz`` path or
``module:function``), and the cost metrics of ``--cost`` / ``cost=``
added as objectives. For a training evaluator the options also hold the
``input_shape`` and ``num_classes`` taken from the data, so export and
retraining rebuild the model the trials trained, and for the bundled digits
the ``test_fraction`` of the split (so a study keeps its training images
even if the default changes). Resume rebuilds the same evaluator from this
record; a digits record without ``test_fraction`` predates the held-out
test set (issue 20) and is rebuilt with none.
"""
from __future__ import annotations

import inspect
import json

from nasl.ir.errors import NaslError

_DATA_REF = "data"


def _class_of(spec: str):
    # the registry entry of the spec's kind names the class whose constructor takes the options
    from nasl.study.evaluators import EVALUATORS, options_class
    if spec.strip().partition(":")[0] not in EVALUATORS:
        from nasl.study.evaluators import FunctionEvaluator
        return FunctionEvaluator
    return options_class(spec)


def option_names(spec: str) -> list[str]:
    """The options the evaluator of ``spec`` takes (its constructor's keywords)."""
    skip = {"self", "path", "column", "metrics", "module", "func"}
    target = _class_of(spec)
    fn = target.__init__ if isinstance(target, type) else target
    names = [p for p, v in inspect.signature(fn).parameters.items()
             if p not in skip and p != "rest" and v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL)]
    if spec.strip() == "digits":        # weight inheritance (nasl.study.inheriting)
        names += ["inherit", "max_distance"]
    return names


def _check_options(spec: str, options: dict) -> dict:
    if not isinstance(options, dict):
        raise NaslError(f"evaluator options are a dict of name: value, not {type(options).__name__}")
    known = option_names(spec)
    for name, value in options.items():
        if name not in known:
            raise NaslError(f"the evaluator '{spec}' has no option '{name}'; its options: {', '.join(known)}")
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise NaslError(f"evaluator option '{name}' must be a plain value (number, string, list) to be "
                            f"recorded, not {type(value).__name__}") from None
    if _DATA_REF in options:
        from nasl.study import data_files
        options = dict(options, data=data_files.normalize(options[_DATA_REF]))
    return dict(options)


def _constructor_options(options: dict) -> dict:
    """The recorded options as the constructor takes them: a data reference becomes the data."""
    out = dict(options)
    if _DATA_REF in out:
        from nasl.study import data_files
        out[_DATA_REF] = data_files.load(out[_DATA_REF], out.get("val_fraction", 0.2), out.get("split_seed", 0))
    if isinstance(out.get("input_shape"), list):
        out["input_shape"] = tuple(out["input_shape"])
    return out


def build(spec: str, options=None, cost=None):
    """The evaluator of ``spec`` with ``options``, behind the cost objectives ``cost`` (a list or None)."""
    from nasl.study.evaluators import parse_evaluator
    options = _check_options(spec, dict(options or {}))
    if _DATA_REF in options and _class_of(spec).__name__ != "TrainEvaluator":
        raise NaslError(f"data is for the training evaluator (digits), not '{spec}'")
    try:
        ev = parse_evaluator(spec, **_constructor_options(options))
    except (ValueError, TypeError) as e:
        raise NaslError(f"evaluator '{spec}': {e}") from None
    ev._nasl_options = options
    return with_cost(ev, cost)


def parse_cost(cost) -> list[str]:
    """``"params,flops"`` or a list of metrics: the checked list (empty for None)."""
    from nasl.study.cost_evaluator import METRICS, metric_name
    if cost is None:
        return []
    items = [c.strip() for c in cost.split(",")] if isinstance(cost, str) else list(cost)
    bad = [c for c in items if c not in METRICS and metric_name(c) == c]
    if bad or not items:
        raise NaslError(f"unknown cost metric '{bad[0] if bad else ''}'; known: {', '.join(METRICS)}, "
                        f"latency_table=PATH, latency_model=PATH")
    return list(dict.fromkeys(items))


class WithCost:
    """An evaluator plus cost metrics as objectives (minimised), for multi-objective search.

    The cost is measured on the model the inner evaluator builds: a training
    evaluator's input shape and class count are used.
    """

    def __init__(self, inner, cost):
        from nasl.study.cost_evaluator import Constrained
        self.inner, self.cost = inner, list(cost)
        self._constrained = Constrained(inner, objectives=self.cost, input_shape=getattr(inner, "input_shape", None))
        self.directions = dict(self._constrained.directions)
        self.spec = getattr(inner, "spec", None)

    def __call__(self, request):
        from nasl.study.cost_evaluator import measure, metric_name
        cost_request = with_classes(request, getattr(self.inner, "num_classes", None))
        values = measure(cost_request, self.cost, self._constrained.input_shape)
        out = dict(self.inner(request))
        out.update({metric_name(m): values[metric_name(m)] for m in self.cost})
        return out

    def warm_up(self):
        warm = getattr(self.inner, "warm_up", None)
        if callable(warm):
            warm()

    def __getattr__(self, name):
        # epochs, input_shape, num_classes ... are the inner evaluator's
        if name.startswith("__") or name in ("inner", "cost", "_constrained"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"WithCost({self.inner!r}, {self.cost})"


def with_cost(ev, cost):
    cost = parse_cost(cost)
    return WithCost(ev, cost) if cost else ev


def inner(ev):
    """The evaluator under a :class:`WithCost`."""
    return ev.inner if isinstance(ev, WithCost) else ev


def record(ev) -> dict:
    """What a study records of ``ev`` (see the module doc)."""
    base = inner(ev)
    out = {"spec": getattr(base, "spec", None), "repr": repr(ev)}
    options = dict(getattr(base, "_nasl_options", None) or {})
    # a training evaluator's model shape, from the data: export and retrain rebuild the same model
    if getattr(base, "input_shape", None) is not None and isinstance(getattr(base, "num_classes", None), int):
        options.setdefault("input_shape", list(base.input_shape))
        options.setdefault("num_classes", int(base.num_classes))
    # the digits split's test share, so resume trains on the same images whatever the default is then
    if isinstance(getattr(base, "data", None), str) and getattr(base, "test_fraction", None) is not None:
        options.setdefault("test_fraction", base.test_fraction)
    if options:
        out["options"] = options
    if isinstance(ev, WithCost):
        out["cost"] = list(ev.cost)
    # the input shape and class count its networks are built for, from any evaluator that knows them (an
    # evaluator's ``model_inputs``, as the ``train`` evaluator takes them from the user's data), or from the
    # options above: an export rebuilds the network from them
    inputs = getattr(base, "model_inputs", None)
    if not isinstance(inputs, dict):
        inputs = options
    out.update({k: (list(inputs[k]) if k == "input_shape" else inputs[k])
                for k in ("input_shape", "num_classes") if inputs.get(k) is not None})
    return out


def rebuild(stored: dict, options_override=None):
    """The evaluator of a recorded ``stored`` record (``options_override`` replaces options, e.g. epochs)."""
    spec = stored.get("spec")
    if spec is None:
        raise NaslError(f"this study's evaluator ({stored.get('repr')}) was an object, not a spec string; "
                        f"pass it again with evaluator=")
    options = recorded_options(stored)
    options.update(options_override or {})
    return build(spec, options, stored.get("cost") or None)


def recorded_options(stored: dict) -> dict:
    """The options a recorded evaluator is rebuilt with: its recorded ones, and for a digits study
    recorded before the held-out test split was the default (no ``test_fraction``), ``test_fraction=0``,
    the split its trials trained on."""
    options = dict(stored.get("options") or {})
    if (stored.get("spec") or "").strip() == "digits" and _DATA_REF not in options:
        options.setdefault("test_fraction", 0.0)
    return options


def with_classes(request, classes):
    """``request`` with the space's ``param classes`` set to ``classes``.

    Only a space that declares ``classes`` with another value (and a request
    that does not set it) changes. The trainer, the cost of a trial and its
    export all rebuild the network through this one rule, or the
    classifier's weights do not fit.
    """
    if classes is None or "classes" in dict(request.params):
        return request
    declared = request.load_space().params
    if "classes" not in declared or declared["classes"] == classes:
        return request
    import dataclasses
    return dataclasses.replace(request, params=tuple(request.params) + (("classes", classes),))


def model_shape(config: dict):
    """``(input_shape, num_classes)`` a study's models were built with (None, None when not recorded)."""
    ev = config.get("evaluator") if isinstance(config.get("evaluator"), dict) else {}
    options = ev.get("options") or {}
    shape = options.get("input_shape", ev.get("input_shape"))
    return (tuple(shape) if isinstance(shape, list) else shape), options.get("num_classes", ev.get("num_classes"))


__all__ = ["build", "rebuild", "record", "parse_cost", "option_names", "WithCost", "model_shape", "inner",
           "recorded_options"]
