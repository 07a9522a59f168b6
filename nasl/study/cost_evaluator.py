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
from nasl.study.evaluators import TrialFailed

METRICS = ("params", "flops", "macs", "latency_ms")


def measure(request, metrics, input_shape=None, repeats: int = 10) -> dict:
    """The requested cost metrics of one trial's architecture."""
    from nasl.compiler.cost import cost_graph
    space = request.load_space()
    graph = space.realize(request.architecture())
    c = cost_graph(graph, input_shape)
    out = {m: float(getattr(c, m)) for m in metrics if m != "latency_ms"}
    if "latency_ms" in metrics:
        out["latency_ms"] = _latency_ms(graph, input_shape, repeats)
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
    bad = [m for m in metrics if m not in METRICS]
    if bad:
        raise NaslError(f"unknown cost metric '{bad[0]}'; known: {', '.join(METRICS)}")
    return list(metrics)


def _check_limits(values: dict, limits: dict) -> None:
    for name, limit in limits.items():
        if limit is not None and values[name] > limit:
            raise TrialFailed(f"constraint violated: {name} {values[name]:,.0f} > max_{name} {limit:,.0f}")


class CostEvaluator:
    """Cost metrics as objectives (all ``"min"``), e.g. ``CostEvaluator(["params", "flops"])``.

    ``input_shape`` is as for ``nasl.compile``; ``max_params`` /
    ``max_flops`` fail the architectures over them.
    """

    def __init__(self, metrics=("params",), input_shape=None, max_params=None, max_flops=None,
                 repeats: int = 10):
        self.metrics = _check_metrics(metrics)
        self.input_shape, self.repeats = input_shape, repeats
        self.limits = {"params": max_params, "flops": max_flops}
        self.directions = {m: "min" for m in self.metrics}

    def __call__(self, request) -> dict:
        needed = list(dict.fromkeys(self.metrics + [k for k, v in self.limits.items() if v is not None]))
        values = measure(request, needed, self.input_shape, self.repeats)
        _check_limits(values, self.limits)
        return values


class Constrained:
    """Another evaluator behind cost constraints, with optional cost objectives.

    Parameters
    ----------
    inner : evaluator
        The evaluator that runs when the constraints hold.
    objectives : list of str
        Cost metrics appended to ``inner``'s objectives (minimised).
    max_params, max_flops : float, optional
        Architectures over these fail without running ``inner``.
    """

    def __init__(self, inner, objectives=(), input_shape=None, max_params=None, max_flops=None):
        self.inner = inner
        self.cost_objectives = _check_metrics(objectives)
        self.input_shape = input_shape
        self.limits = {"params": max_params, "flops": max_flops}
        self.directions = dict(inner.directions)
        self.directions.update({m: "min" for m in self.cost_objectives})

    def __call__(self, request) -> dict:
        needed = list(dict.fromkeys(self.cost_objectives + [k for k, v in self.limits.items() if v is not None]))
        values = measure(request, needed, self.input_shape) if needed else {}
        _check_limits(values, self.limits)
        out = dict(self.inner(request))
        out.update(values)
        return out
