"""A study as a table: ``Study.dataframe()`` (pandas) and ``nasl study export-csv`` (the same columns).

One row per trial, in trial order. The columns:

- ``number``, ``state``, ``budget`` (the fidelity; empty for a full evaluation);
- the objectives, in order, then every other metric a trial reported, sorted
  by name (a metric a trial did not report is empty);
- ``duration`` (seconds), ``seed``, ``worker``, ``attempts``, ``arch_id``, ``error``;
- ``parent`` (the parent trial's number), ``transformation`` (how the parent became this
  architecture), ``inherited`` (the fraction of its weights from the parent): empty for a trial
  without lineage;
- ``arch.<path>``: each choice of the architecture (one column per choice path
  that any trial has, sorted).

Curves are not columns (``Study.trials[i].curve`` has them).
"""
from __future__ import annotations

import csv
import json
import os

from nasl.ir.errors import NaslError

HEAD = ("number", "state", "budget")
TAIL = ("duration", "seed", "worker", "attempts", "arch_id", "error", "parent", "transformation", "inherited")


def table(study) -> tuple[list[str], list[dict]]:
    """``(columns, rows)``: every trial of ``study`` as a dict by column."""
    trials = study.trials
    objectives = list(study.objectives)
    extra = sorted({k for t in trials for k in (t.metrics or {}) if k not in objectives})
    choices = sorted({k for t in trials for k in t.arch.canonical()})
    columns = list(HEAD) + objectives + extra + list(TAIL) + [f"arch.{c}" for c in choices]
    rows = []
    for t in trials:
        row = {"number": t.number, "state": t.state, "budget": t.budget}
        metrics = t.metrics or {}
        row.update({k: metrics.get(k) for k in objectives + extra})
        row.update(duration=t.duration, seed=t.seed, worker=t.worker, attempts=t.attempts, arch_id=t.arch_id,
                   error=t.error, parent=t.parent, transformation=t.transformation, inherited=t.inherited)
        arch = t.arch.canonical()
        row.update({f"arch.{c}": _cell(arch.get(c)) for c in choices})
        rows.append(row)
    return columns, rows


def _cell(value):
    # a list or dict choice value (e.g. a subset) goes in one cell as JSON
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def dataframe(study):
    """The table as a ``pandas.DataFrame`` (MissingDependency without pandas)."""
    from nasl.ir.optional import require
    pd = require("pandas", "Study.dataframe()")
    columns, rows = table(study)
    return pd.DataFrame(rows, columns=columns)


def write_csv(study, path) -> str:
    """Write the table to ``path`` as CSV (no pandas needed); returns the path."""
    columns, rows = table(study)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise NaslError(f"cannot write '{path}': no folder '{folder}'")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            for row in rows:
                w.writerow({k: "" if v is None else v for k, v in row.items()})
        os.replace(tmp, path)
    except OSError as e:
        raise NaslError(f"cannot write '{path}': {e.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


__all__ = ["table", "dataframe", "write_csv"]
