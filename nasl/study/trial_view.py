"""``nasl study show --trial N``: one trial in full: choices, metrics, curve, params and FLOPs."""
from __future__ import annotations

import json

from nasl.ir.errors import NaslError


def find(study, number: int):
    for t in study.trials:
        if t.number == number:
            return t
    n = study.counts()
    total = sum(n.values())
    raise NaslError(f"the study has no trial {number}" + (f" (its trials are 0..{total - 1})" if total else ""))


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else ("-" if v is None else str(v))


def cost_of(study, trial, ops=None, trust=None) -> dict:
    """Params and FLOPs of the trial's model, as it was built (the recorded input shape and classes)."""
    from nasl.study.cost_evaluator import measure
    from nasl.study.evaluator_config import model_shape, with_classes
    shape, classes = model_shape(study.config)
    request = with_classes(study.request_for(trial, ops, trust), classes)
    return measure(request, ["params", "flops"], shape)


def show_trial(study, number: int, ops=None, trust=None) -> int:
    t = find(study, number)
    where = f", worker {t.worker}" if t.worker else ""
    print(f"trial #{t.number} ({t.arch_id}): {t.state}, budget {_fmt(t.budget)}, seed {t.seed}, "
          f"{_fmt(t.duration)} s{where}, attempts {t.attempts}")
    if t.error:
        print(f"error: {t.error}")
    print(f"architecture: {t.arch.to_json()}")
    arch = t.arch.canonical()
    if arch:
        print("choices:")
        width = max(len(k) for k in arch)
        for k, v in arch.items():
            print(f"  {k.ljust(width)}  {json.dumps(v)}")
    if t.metrics:
        print("metrics:")
        width = max(len(k) for k in t.metrics)
        for k, v in t.metrics.items():
            mark = f"  ({study.objectives[k]}, objective)" if k in study.objectives else ""
            print(f"  {k.ljust(width)}  {_fmt(v)}{mark}")
    try:
        c = cost_of(study, t, ops, trust)
        print(f"model: {int(c['params']):,} params, {int(c['flops']):,} FLOPs (batch 1)")
    except NaslError as e:
        print(f"model: params and FLOPs unavailable: {e.message}")
    if t.curve:
        keys = list(dict.fromkeys(k for row in t.curve for k in row))
        rows = [[_fmt(row.get(k)) for k in keys] for row in t.curve]
        widths = [max(len(k), *(len(r[j]) for r in rows)) for j, k in enumerate(keys)]
        print(f"curve ({len(t.curve)} rows):")
        print("  " + "  ".join(k.ljust(w) for k, w in zip(keys, widths)).rstrip())
        for r in rows:
            print("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    return 0


__all__ = ["show_trial", "find", "cost_of"]
