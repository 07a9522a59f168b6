"""Pruners: stop a trial early when its partial learning curve says it will not win.

A trial reports its curve after each epoch (:meth:`TrialRequest.report
<nasl.study.protocol.TrialRequest.report>`; nasl's trainer does). The loop
binds the study's pruner to each trial when it is asked: :meth:`Pruner.bind`
turns the curves of the trials *told before this one was asked* into a small,
picklable judge that travels with the request to the worker. The judge's
verdict on a curve is None (go on) or the reason to stop; a stopped trial is
recorded ``pruned`` with its curve and told to the searcher as a failure (so
Hyperband never promotes it). Because the judge depends only on trials told
before the ask, pruning is as deterministic as the loop: inline, process and
Ray studies of the same seed prune the same trials, and a resume (which never
reruns a pruned trial) re-binds a re-queued trial to the same history.

- ``median``: Optuna's ``MedianPruner`` rule: once ``startup_trials`` trials
  are complete, stop a trial at epoch ``e >= warmup_epochs`` whose best value
  so far is worse than the median of the complete trials' values at ``e``.
- ``curve``: Domhan et al. (IJCAI 2015): extrapolate the partial curve to the
  trial's budget with the ensemble of :mod:`nasl.study.curve_fit`, and stop
  when ``P(final > best so far) < delta``; the best so far is the best value
  that complete trials reached at that epoch.
"""
from __future__ import annotations

import statistics

from nasl.ir.errors import NaslError


class Pruner:
    """The base: ``bind(history, ...)`` gives a judge ``judge(curve) -> reason or None``."""

    name = "none"

    def __init__(self, **options):
        self.options = options

    def record(self) -> dict:
        """What a study records, so that a resume rebuilds the same pruner."""
        return {"name": self.name, "options": dict(self.options)}

    def bind(self, history, *, metric: str, direction: str, target):
        """The judge of one trial. ``history``: the curves (lists of epoch dicts) of the complete
        trials told before it was asked; ``target``: its budget in epochs (None: unknown)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"


def _by_epoch(curve, metric, sign) -> dict:
    """``{epoch: sign * value}`` of one curve (rows without the metric are skipped)."""
    out = {}
    for row in curve or ():
        v = row.get(metric)
        if isinstance(v, (int, float)) and "epoch" in row:
            out[float(row["epoch"])] = sign * float(v)
    return out


class MedianPruner(Pruner):
    """Optuna's median rule (``optuna.pruners.MedianPruner`` with its defaults, steps = epochs)."""

    name = "median"

    def __init__(self, startup_trials: int = 5, warmup_epochs: float = 0):
        _check_int("startup_trials", startup_trials, 0)
        if not isinstance(warmup_epochs, (int, float)) or warmup_epochs < 0:
            raise NaslError(f"pruner 'median': warmup_epochs must be a number >= 0, not {warmup_epochs!r}")
        super().__init__(startup_trials=startup_trials, warmup_epochs=warmup_epochs)

    def bind(self, history, *, metric, direction, target=None):
        sign = 1.0 if direction == "max" else -1.0
        curves = [_by_epoch(c, metric, sign) for c in history]
        if len(curves) < max(1, self.options["startup_trials"]):
            return None
        epochs = sorted({e for c in curves for e in c})
        medians = {e: statistics.median(c[e] for c in curves if e in c) for e in epochs}
        return MedianJudge(metric, sign, medians, self.options["warmup_epochs"])


class MedianJudge:
    def __init__(self, metric, sign, medians, warmup):
        self.metric, self.sign, self.medians, self.warmup = metric, sign, medians, warmup

    def __call__(self, curve):
        values = _by_epoch(curve, self.metric, self.sign)
        if not values:
            return None
        epoch = max(values)
        if epoch < self.warmup or epoch not in self.medians:
            return None
        best = max(values.values())
        if best < self.medians[epoch]:
            return (f"pruned at epoch {epoch:g}: best {self.metric} {self.sign * best:.4g} is worse than the "
                    f"median {self.sign * self.medians[epoch]:.4g} of complete trials")
        return None


class CurvePruner(Pruner):
    """Domhan et al.'s extrapolation (see the module docstring and :mod:`nasl.study.curve_fit`).

    ``delta``: stop when P(final > best) falls below it (the paper's 0.05);
    ``min_epochs``: epochs seen before the first test; ``startup_trials``:
    complete trials that reached the target before any pruning; ``noise``:
    the observation noise (metric units) under each fit; ``bounds``: the
    range of the metric (accuracies: [0, 1]; ``null`` for none).
    """

    name = "curve"

    def __init__(self, delta: float = 0.05, min_epochs: int = 3, startup_trials: int = 1, noise: float = 0.01,
                 bounds=(0.0, 1.0)):
        if not isinstance(delta, (int, float)) or not 0 < delta < 1:
            raise NaslError(f"pruner 'curve': delta is a probability in (0, 1), not {delta!r}")
        _check_int("min_epochs", min_epochs, 2)
        _check_int("startup_trials", startup_trials, 1)
        if not isinstance(noise, (int, float)) or noise <= 0:
            raise NaslError(f"pruner 'curve': noise must be a number > 0, not {noise!r}")
        if bounds is not None:
            bounds = tuple(bounds)
            if len(bounds) != 2 or not bounds[0] < bounds[1]:
                raise NaslError(f"pruner 'curve': bounds is [low, high] with low < high, or null; not {bounds!r}")
        super().__init__(delta=delta, min_epochs=min_epochs, startup_trials=startup_trials, noise=noise,
                         bounds=None if bounds is None else list(bounds))

    def bind(self, history, *, metric, direction, target=None):
        if target is None:
            return None                   # no budget to extrapolate to
        sign = 1.0 if direction == "max" else -1.0
        finals = [c[float(target)] for c in (_by_epoch(h, metric, sign) for h in history) if float(target) in c]
        if len(finals) < self.options["startup_trials"]:
            return None
        bounds = self.options["bounds"]
        if bounds is not None and sign < 0:
            bounds = [-bounds[1], -bounds[0]]
        return CurveJudge(metric, sign, float(target), max(finals), self.options["delta"],
                          self.options["min_epochs"], self.options["noise"], bounds)


class CurveJudge:
    def __init__(self, metric, sign, target, best, delta, min_epochs, noise, bounds):
        self.metric, self.sign, self.target, self.best = metric, sign, target, best
        self.delta, self.min_epochs, self.noise, self.bounds = delta, min_epochs, noise, bounds

    def __call__(self, curve):
        from nasl.study.curve_fit import extrapolate
        values = _by_epoch(curve, self.metric, self.sign)
        epochs = sorted(e for e in values if e < self.target)
        if len(epochs) < self.min_epochs:
            return None
        ext = extrapolate([values[e] for e in epochs], self.target, x=epochs, noise=self.noise, bounds=self.bounds)
        p = ext.prob_above(self.best)
        if p < self.delta:
            return (f"pruned at epoch {epochs[-1]:g}: P({self.metric} at epoch {self.target:g} > best "
                    f"{self.sign * self.best:.4g}) = {p:.3g} < {self.delta:g} (extrapolated "
                    f"{self.sign * ext.mean:.4g} ± {ext.std:.2g})")
        return None


PRUNERS = {"median": MedianPruner, "curve": CurvePruner}


def _check_int(name, v, low):
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise NaslError(f"pruner option {name} must be an int >= {low}, not {v!r}")


def make_pruner(pruner, options=None):
    """A :class:`Pruner` from a name (``"median"``, ``"curve"``) and options, or a Pruner as is; None for none."""
    if pruner is None or pruner == "none":
        if options:
            raise NaslError("pruner options (-P) need a pruner (--pruner median|curve)")
        return None
    if isinstance(pruner, Pruner):
        if options:
            raise NaslError("pruner options apply to a pruner name, not to a Pruner object")
        return pruner
    if not isinstance(pruner, str) or pruner not in PRUNERS:
        raise NaslError(f"unknown pruner {pruner!r}; choose {', '.join(PRUNERS)} (or a nasl.study.pruners.Pruner)")
    try:
        return PRUNERS[pruner](**dict(options or {}))
    except TypeError as e:
        raise NaslError(f"pruner '{pruner}': {e}".replace("__init__() ", "")) from None


def from_record(record):
    """The pruner a study recorded (:meth:`Pruner.record`), or None."""
    if not record:
        return None
    return make_pruner(record["name"], record.get("options"))


__all__ = ["Pruner", "MedianPruner", "CurvePruner", "make_pruner", "from_record", "PRUNERS"]
