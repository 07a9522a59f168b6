"""How well latency predictors rank networks: Spearman against whole compiled networks, measured.

:func:`check` is what ``nasl latency check`` prints and what the latency
test asserts: on architectures spread over the space's range of FLOPs
(:func:`nasl.study.latency.spread_sample`), the Spearman rank correlation
of the table's sum (and of a learned model, if given) with the measured
latency of the compiled networks, plus the *noise ceiling*: a second
measurement of the same networks against the first. A predictor cannot be
checked on a machine whose ceiling is below the figure it should reach.
"""
from __future__ import annotations

from nasl.study import latency


def ranks(values) -> list[float]:
    """Ranks from 1, ties given their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a, b) -> float:
    """Spearman's rank correlation of two equal-length sequences (nan when one is constant)."""
    if len(a) != len(b) or len(a) < 2:
        raise ValueError("spearman needs two sequences of the same length, at least 2")
    ra, rb = ranks(list(a)), ranks(list(b))
    n = len(ra)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / (va * vb) ** 0.5 if va and vb else float("nan")


def check(space, *, n: int = 50, table=None, model=None, input_shape=None, device: str = "cpu",
          rounds: int = 20, pool: int = 1000, seed: int = 0, num_threads: int | None = 1,
          clock: str = "auto") -> dict:
    """Spearman of each given predictor with the measured latency of ``n`` spread architectures.

    ``table`` is a lookup table (:func:`nasl.study.latency.build_table`),
    ``model`` a learned one (:func:`nasl.study.latency_model.fit`). The
    networks are measured twice, interleaved (see :mod:`nasl.study.latency`):
    ``"measured"`` is the first pass, ``"noise_ceiling"`` the Spearman of
    the two passes, and each predictor is scored against the first.
    """
    archs = latency.spread_sample(space, n, pool=pool, input_shape=input_shape, seed=seed)
    graphs = [space.realize(a) for a in archs]
    models = [latency.compiled(space, a, input_shape) for a in archs]
    kw = dict(device=device, rounds=rounds, num_threads=num_threads, clock=clock)
    first = latency.measure_models(models, **kw)
    second = latency.measure_models(models, **kw)
    out = {"n": n, "measured_ms": first, "min_ms": min(first), "max_ms": max(first),
           "noise_ceiling": spearman(first, second)}
    if table is not None:
        pred = [latency.predict_ms(table, m) for m in models]
        out.update(table_ms=pred, table=spearman(pred, first))
    if model is not None:
        from nasl.study import latency_model
        pred = [latency_model.predict_ms(model, g) for g in graphs]
        out.update(model_ms=pred, model=spearman(pred, first))
    return out


def fit_measured(space, *, samples: int = 100, input_shape=None, device: str = "cpu", rounds: int = 20,
                 seed: int = 1, num_threads: int | None = 1, clock: str = "auto", ridge: float = 1.0) -> dict:
    """A learned latency model fitted on ``samples`` networks of ``space`` measured on ``device``.

    The networks are spread over the FLOPs range as in :func:`check` (with
    another seed than a check's default, so the two sets differ).
    """
    from nasl.study import latency_model
    archs = latency.spread_sample(space, samples, pool=max(1000, 4 * samples), input_shape=input_shape, seed=seed)
    models = [latency.compiled(space, a, input_shape) for a in archs]
    ms = latency.measure_models(models, device=device, rounds=rounds, num_threads=num_threads, clock=clock)
    return latency_model.fit([space.realize(a) for a in archs], ms, ridge=ridge,
                             info={"device": device, "input_shape": None if input_shape is None else
                                   list(input_shape), "rounds": rounds, "num_threads": num_threads})


__all__ = ["check", "fit_measured", "spearman", "ranks"]
