"""The ``cost`` evaluator: parameters, FLOPs, MACs and latency of a model.

Params, FLOPs and MACs come from :func:`nasl.compiler.cost.cost_graph`
without building the model; latency builds it and times forward passes.
All are minimised. :class:`CostEvaluator` is an evaluator on its own, and
:class:`Constrained` wraps another evaluator: it rejects architectures over
``max_params`` / ``max_flops`` before the (expensive) inner evaluation, and
can add cost objectives to the inner ones for multi-objective search.
"""
from __future__ import annotations

import statistics
import time

from nasl.ir.errors import NaslError
from nasl.study.protocol import TrialFailed

METRICS = ("params", "flops", "macs", "latency_ms")
# predicted latency: ``latency_table=PATH`` (a lookup table of ``nasl latency build-table``, the sum of the
# network's ops) or ``latency_model=PATH`` (a model of ``nasl latency fit``); their objectives are named
# ``latency_table_ms`` / ``latency_model_ms``, apart from the measured ``latency_ms``
PREDICTED = ("latency_table", "latency_model")


def metric_name(metric: str) -> str:
    """The objective a cost metric reports: ``latency_table=PATH`` reports ``latency_table_ms``."""
    kind, eq, _ = metric.partition("=")
    return f"{kind}_ms" if eq and kind in PREDICTED else metric


_LOADED: dict = {}


def _predictor(metric: str):
    kind, _, path = metric.partition("=")
    if metric not in _LOADED:
        from nasl.study import latency, latency_model
        _LOADED[metric] = (latency if kind == "latency_table" else latency_model).load(path)
    return kind, _LOADED[metric]


def _predicted_ms(metric: str, graph, input_shape) -> float:
    kind, pred = _predictor(metric)
    if kind == "latency_model":
        from nasl.study import latency_model
        return latency_model.predict_ms(pred, graph)
    from nasl.compiler import compile_graph
    from nasl.study import latency
    return latency.predict_ms(pred, compile_graph(graph, input_shape).eval())


def measure(request, metrics, input_shape=None, repeats: int = 10) -> dict:
    """The requested cost metrics of one trial's architecture."""
    from nasl.compiler.cost import cost_graph
    space = request.load_space()
    graph = space.realize(request.architecture())
    c = cost_graph(graph, input_shape)
    out = {m: float(getattr(c, m)) for m in metrics if m in ("params", "flops", "macs")}
    if "latency_ms" in metrics:
        out["latency_ms"] = _latency_ms(graph, input_shape, repeats)
    for m in metrics:
        if metric_name(m) != m:
            out[metric_name(m)] = _predicted_ms(m, graph, input_shape)
    return out


def _latency_ms(graph, input_shape, repeats: int) -> float:
    import torch
    from nasl.compiler import compile_graph
    model = compile_graph(graph, input_shape).eval()
    xs = [torch.randn(1, *shape) for shape in model.input_shapes.values()]
    times = []
    with torch.inference_mode():
        model(*xs)                               # warm-up: allocations, lazy init
        for _ in range(repeats):
            t = time.perf_counter()
            model(*xs)
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _check_metrics(metrics) -> list:
    bad = [m for m in metrics if m not in METRICS and metric_name(m) == m]
    if bad:
        raise NaslError(f"unknown cost metric '{bad[0]}'; known: {', '.join(METRICS)}, "
                        f"latency_table=PATH, latency_model=PATH")
    for m in metrics:
        if metric_name(m) != m:
            _predictor(m)           # a missing or malformed file is an error now, not at the first trial
    return list(metrics)


def _limit_metrics(limits: dict, latency) -> list:
    """The metrics the set limits need measured (``max_latency_ms`` needs ``latency``'s metric)."""
    out = [k for k in ("params", "flops") if limits.get(k) is not None]
    if limits.get("latency_ms") is not None:
        out.append(latency)
    return out


def _check_limits(values: dict, limits: dict, latency: str = "latency_ms") -> None:
    for name, limit in limits.items():
        key = metric_name(latency) if name == "latency_ms" else name
        if limit is not None and values[key] > limit:
            fmt = ",.3f" if name == "latency_ms" else ",.0f"        # milliseconds need decimals; counts do not
            raise TrialFailed(f"constraint violated: {key} {values[key]:{fmt}} > max_{name} {limit:{fmt}}")


class CostEvaluator:
    """Cost metrics as objectives (all ``"min"``), e.g. ``CostEvaluator(["params", "flops"])``.

    ``input_shape`` is as for ``nasl.compile``; ``max_params`` /
    ``max_flops`` / ``max_latency_ms`` fail the architectures over them
    (the latency from ``latency``: ``latency_ms`` measured, or a
    ``latency_table=PATH`` / ``latency_model=PATH`` prediction).
    """

    def __init__(self, metrics=("params",), input_shape=None, max_params=None, max_flops=None,
                 repeats: int = 10, max_latency_ms=None, latency: str = "latency_ms"):
        self.metrics = _check_metrics(metrics)
        self.latency = _check_metrics([latency])[0]
        self.input_shape, self.repeats = input_shape, repeats
        self.limits = {"params": max_params, "flops": max_flops, "latency_ms": max_latency_ms}
        self.directions = {metric_name(m): "min" for m in self.metrics}

    def __call__(self, request) -> dict:
        needed = list(dict.fromkeys(self.metrics + _limit_metrics(self.limits, self.latency)))
        values = measure(request, needed, self.input_shape, self.repeats)
        _check_limits(values, self.limits, self.latency)
        return values


class Constrained:
    """Another evaluator behind cost constraints, with optional cost objectives.

    Parameters
    ----------
    inner : evaluator
        The evaluator that runs when the constraints hold.
    objectives : list of str
        Cost metrics appended to ``inner``'s objectives (minimised).
    max_params, max_flops, max_latency_ms : float, optional
        Architectures over these fail without running ``inner``.
    latency : str
        Where ``max_latency_ms`` reads the latency: ``"latency_ms"``
        (measured), ``"latency_table=PATH"`` or ``"latency_model=PATH"``.
    """

    def __init__(self, inner, objectives=(), input_shape=None, max_params=None, max_flops=None,
                 max_latency_ms=None, latency: str = "latency_ms"):
        self.inner = inner
        self.cost_objectives = _check_metrics(objectives)
        self.latency = _check_metrics([latency])[0]
        self.input_shape = input_shape
        self.limits = {"params": max_params, "flops": max_flops, "latency_ms": max_latency_ms}
        self.directions = dict(inner.directions)
        self.directions.update({metric_name(m): "min" for m in self.cost_objectives})

    def __call__(self, request) -> dict:
        needed = list(dict.fromkeys(self.cost_objectives + _limit_metrics(self.limits, self.latency)))
        values = measure(request, needed, self.input_shape) if needed else {}
        _check_limits(values, self.limits, self.latency)
        out = dict(self.inner(request))
        out.update(values)
        return out
