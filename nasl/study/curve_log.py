"""``--log-dir DIR`` / ``log_dir=``: each trial's curve as CSV, and to TensorBoard when it is installed.

After each recorded trial (it is a callback, :mod:`nasl.study.callbacks`):

- ``DIR/trial_<N>.csv``: the trial's curve, one row per epoch (the columns
  its evaluator reports: ``epoch``, ``train_loss``, ``val_loss``,
  ``val_accuracy``, ``seconds`` for the training evaluator); a trial without
  a curve (a table lookup) gets none;
- ``DIR/trials.csv``: one row per finished trial (number, state, budget,
  objectives, duration, arch_id, error), appended as trials finish;
- with the ``tensorboard`` package installed (``pip install tensorboard``),
  ``DIR/tensorboard/trial_<N>/`` holds the curve's scalars by epoch, and
  ``DIR/tensorboard/study/`` each objective and its best so far by trial
  number: ``tensorboard --logdir DIR/tensorboard``.
"""
from __future__ import annotations

import csv
import os

from nasl.ir.errors import NaslError


def _tensorboard():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:        # torch without the tensorboard package: the CSVs alone
        return None
    return SummaryWriter


class CurveLog:
    """The callback that writes the logs above; ``tensorboard=None`` uses it when installed."""

    def __init__(self, log_dir, tensorboard: bool | None = None):
        self.dir = os.fspath(log_dir)
        try:
            os.makedirs(self.dir, exist_ok=True)
        except OSError as e:
            raise NaslError(f"cannot create the log folder '{self.dir}': {e.strerror}") from None
        writer = _tensorboard() if tensorboard is not False else None
        if tensorboard and writer is None:
            raise NaslError("TensorBoard logging needs the 'tensorboard' package: pip install tensorboard")
        self._writer_class = writer
        self._best: dict = {}

    def __call__(self, study, trial) -> None:
        if trial.curve:
            keys = list(dict.fromkeys(k for row in trial.curve for k in row))
            with open(os.path.join(self.dir, f"trial_{trial.number}.csv"), "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=keys)
                w.writeheader()
                w.writerows(trial.curve)
        self._summary_row(study, trial)
        if self._writer_class is not None:
            self._tensorboard(study, trial)

    def _summary_row(self, study, trial) -> None:
        names = list(study.objectives)
        path = os.path.join(self.dir, "trials.csv")
        new = not os.path.exists(path)
        with open(path, "a", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["number", "state", "budget"] + names + ["duration", "arch_id", "error"])
            metrics = trial.metrics or {}
            w.writerow([trial.number, trial.state, "" if trial.budget is None else trial.budget]
                       + [metrics.get(n, "") for n in names]
                       + [trial.duration, trial.arch_id, trial.error or ""])

    def _tensorboard(self, study, trial) -> None:
        root = os.path.join(self.dir, "tensorboard")
        if trial.curve:
            w = self._writer_class(os.path.join(root, f"trial_{trial.number}"))
            try:
                for step, row in enumerate(trial.curve, 1):
                    for k, v in row.items():
                        if k != "epoch" and isinstance(v, (int, float)) and not isinstance(v, bool):
                            w.add_scalar(k, v, step)
            finally:
                w.close()
        if trial.state != "complete":
            return
        w = self._writer_class(os.path.join(root, "study"))
        try:
            for name, direction in study.objectives.items():
                v = trial.metrics[name]
                best = self._best.get(name)
                if best is None or (v > best if direction == "max" else v < best):
                    self._best[name] = best = v
                w.add_scalar(name, v, trial.number)
                w.add_scalar(f"best_{name}", best, trial.number)
        finally:
            w.close()


__all__ = ["CurveLog"]
