"""``nasl train``: retrain a study's architecture from scratch, longer, over several seeds.

The last step of a NAS paper: the architecture the search found is trained
again, from new initial weights, for more epochs, under several seeds, and
reported as mean ± std. The study's own evaluator is rebuilt from its record
(:mod:`nasl.study.evaluator_config`) with ``epochs`` (and any other option)
replaced, so the data, its split, the input shape and the classes are the
search's.

Results are kept apart from the search: the study file is only read, the
weights go to ``<study>.retrain/trial<N>-e<E>-s<S>/`` (never to the trials'
``<study>.artifacts``), and each run appends one record per seed to
``<study>.retrain.json`` (a JSON list).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
import time

from nasl.ir.errors import NaslError


def results_path(study) -> str | None:
    """``<study>.retrain.json`` (None for a study in memory)."""
    return None if study.path == ":memory:" else study.path + ".retrain.json"


def _evaluator(study, epochs, options, trust, data):
    from nasl.study import data_files
    from nasl.study.evaluator_config import inner, rebuild
    from nasl.study.trust import evaluator_module
    record = study.config["evaluator"] if isinstance(study.config["evaluator"], dict) else {}
    if record.get("spec") is None:
        raise NaslError(f"the study '{study.path}' recorded its evaluator as an object ({record.get('repr')}); "
                        f"retrain it in Python with that evaluator")
    if evaluator_module(record["spec"]) is not None:
        raise NaslError(f"retraining rebuilds a digits (training) evaluator; this study's is {record['spec']!r}")
    stored = record.get("options") or {}
    if "data" in stored:
        data_files.approve(f"the study '{study.path}'", stored["data"], data, trust)
    override = dict(options or {})
    if epochs is not None:
        override["epochs"] = epochs
    ev = rebuild({k: v for k, v in record.items() if k != "cost"}, override)
    if not hasattr(inner(ev), "epochs") or not hasattr(inner(ev), "num_classes"):
        raise NaslError(f"retraining trains a model: the study's evaluator '{record['spec']}' does not "
                        f"(it is a lookup or a cost measure); use a study searched with the digits evaluator "
                        f"or --data")
    return ev


def retrain(study, trial, epochs=None, seeds: int = 1, options=None, ops=None, trust=None, data=None,
            log=None) -> dict:
    """Train ``trial``'s architecture from scratch under seeds ``0..seeds-1``; returns the summary.

    ``epochs`` (default: the search's) and ``options`` (evaluator options,
    e.g. ``{"lr": 0.05}``) replace the recorded ones. ``log(text)`` is called
    after each seed. The summary is ``{"trial", "epochs", "runs": [...],
    "mean": {metric: value}, "std": {metric: value}}``; it is also appended to
    :func:`results_path`.
    """
    from nasl.study.evaluators import check_metrics
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise NaslError(f"--seeds must be an int >= 1, not {seeds!r}")
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, (int, float))
                               or not (epochs > 0 and math.isfinite(epochs))):
        raise NaslError(f"--epochs must be a positive number, not {epochs!r}")
    if trial.state != "complete":
        raise NaslError(f"trial {trial.number} is {trial.state}; only complete trials retrain")
    ev = _evaluator(study, epochs, options, trust, data)
    base = study.request_for(trial, ops, trust)
    if log is not None:
        log(f"retraining trial #{trial.number} ({trial.arch_id}) from scratch: {ev.epochs:g} epochs, "
            f"seed{'s 0..' + str(seeds - 1) if seeds > 1 else ' 0'}")
    runs = []
    for seed in range(seeds):
        folder = None if study.path == ":memory:" else \
            f"{study.path}.retrain{os.sep}trial{trial.number}-e{ev.epochs:g}-s{seed}"
        request = dataclasses.replace(base, budget=None, seed=seed, artifact_dir=folder)
        start = time.perf_counter()
        try:
            metrics, curve = check_metrics(ev(request), list(ev.directions))
        except Exception as e:  # noqa: BLE001 - a failed training run is reported, not a crash of nasl
            raise NaslError(f"retraining trial {trial.number} (seed {seed}) failed: {type(e).__name__}: {e}") from None
        run = {"trial": trial.number, "arch": trial.arch.canonical(), "epochs": ev.epochs, "seed": seed,
               "metrics": metrics, "curve": curve, "seconds": time.perf_counter() - start,
               "weights": None if folder is None else os.path.join(folder, f"trial_{trial.id}.pt"),
               "finished": time.time()}
        runs.append(run)
        if log is not None:
            log(_run_line(run))
    summary = {"trial": trial.number, "epochs": ev.epochs, "runs": runs, **_stats(runs)}
    _append(study, runs)
    return summary


REPORTED = ("test_accuracy", "val_accuracy")


def _stats(runs) -> dict:
    mean, std = {}, {}
    for name in REPORTED:
        values = [r["metrics"][name] for r in runs if isinstance(r["metrics"].get(name), float)]
        if len(values) == len(runs):
            mean[name] = statistics.fmean(values)
            std[name] = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": mean, "std": std}


def _run_line(run) -> str:
    m = run["metrics"]
    parts = [f"{k}={m[k]:.4f}" for k in REPORTED if isinstance(m.get(k), float)]
    return f"seed {run['seed']}: " + ", ".join(parts) + f" ({run['seconds']:.1f} s)"


def summary_lines(summary) -> list[str]:
    """The report of ``nasl train``: one line per reported metric, mean ± std over the seeds."""
    n = len(summary["runs"])
    return [f"{name}: {summary['mean'][name]:.4f} ± {summary['std'][name]:.4f} (mean ± std over {n} seed"
            f"{'s' if n > 1 else ''}, {summary['epochs']:g} epochs)" for name in REPORTED if name in summary["mean"]]


def _append(study, runs) -> None:
    path = results_path(study)
    if path is None:
        return
    previous = load_results(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(previous + runs, f, indent=1)
        os.replace(tmp, path)
    except OSError as e:
        raise NaslError(f"cannot write the retraining results '{path}': {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_results(path) -> list:
    """The records of ``<study>.retrain.json`` (an empty list when there is none)."""
    if not os.path.exists(path):
        return []
    from nasl.ir.reading import load_json, read_text
    try:
        value = load_json(read_text(path, "the retraining results", 64 << 20), path)
    except json.JSONDecodeError as e:
        raise NaslError(f"the retraining results '{path}' are damaged: {e}") from None
    if not isinstance(value, list):
        raise NaslError(f"the retraining results '{path}' are damaged: not a JSON list")
    return value


__all__ = ["retrain", "results_path", "load_results", "summary_lines"]
