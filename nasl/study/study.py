"""A study's results: its trials, the best one, the Pareto front, exports.

:class:`Study` reads the storage; it is what :func:`nasl.search` returns
and what :meth:`Study.load` opens from a file (no lock is taken: reading
works while another process searches).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any

from nasl.ir.errors import NaslError
from nasl.study.storage import Storage


@dataclasses.dataclass(frozen=True)
class Trial:
    """One recorded trial (see the storage schema for the fields)."""

    id: int
    number: int
    state: str
    arch: Any                 # Architecture
    arch_id: str
    budget: float | None
    seed: int
    metrics: dict | None
    curve: list | None
    error: str | None
    started: float | None
    finished: float | None
    duration: float | None
    worker: str | None
    attempts: int

    def value(self, objective: str) -> float | None:
        return None if self.metrics is None else self.metrics.get(objective)


def pareto_front(points, directions) -> list[int]:
    """Indices of the non-dominated points.

    ``points`` is a list of objective tuples; ``directions`` their
    ``"max"``/``"min"`` per position. A point is dominated when another is at
    least as good in every objective and better in one.

    >>> pareto_front([(1, 3), (2, 4), (0, 6), (1, 4), (2, 4)], ["max", "min"])
    [0, 1]
    """
    signs = [1.0 if d == "max" else -1.0 for d in directions]
    scored = [tuple(s * v for s, v in zip(signs, p)) for p in points]
    front = []
    for i, p in enumerate(scored):
        dominated = any(all(q >= x for q, x in zip(other, p)) and other != p for other in scored)
        if not dominated and p not in (scored[j] for j in front):
            front.append(i)
    return front


class Study:
    """The trials of one study and what can be done with them.

    Parameters
    ----------
    storage : Storage
        The open storage (``Study.load(path)`` opens one from a file).
    """

    def __init__(self, storage: Storage):
        self.storage = storage
        row = storage.load_study()
        if row is None:
            raise NaslError(f"'{storage.path}' holds no study yet")
        self.config = row
        self.objectives: dict = row["objectives"]
        self.primary = next(iter(self.objectives))

    @classmethod
    def load(cls, path) -> "Study":
        """Open a study file for reading only: it works on a read-only file or mount, and writes nothing."""
        if not os.path.exists(path):
            raise NaslError(f"no study file at '{path}'")
        storage = Storage(path, readonly=True)
        try:
            return cls(storage)
        except BaseException:
            storage.close()
            raise

    @property
    def path(self) -> str:
        return self.storage.path

    @property
    def trials(self) -> list[Trial]:
        """Every trial, by number."""
        from nasl.ir.architecture import Architecture
        rows = self.storage.trials()
        for r in rows:
            r["arch"] = Architecture.from_json(r["arch"])
            del r["ask_seq"], r["tell_seq"]
        return [Trial(**r) for r in rows]

    def completed(self) -> list[Trial]:
        return [t for t in self.trials if t.state == "complete"]

    def _key(self, objective):
        sign = 1.0 if self.objectives[objective] == "max" else -1.0
        return lambda t: (sign * t.metrics[objective], -t.number)

    def top(self, k: int | None = None, objective: str | None = None) -> list[Trial]:
        """The ``k`` best complete trials by ``objective`` (default: the primary one); ties: earlier first."""
        objective = self._objective(objective)
        ranked = sorted(self.completed(), key=self._key(objective), reverse=True)
        return ranked if k is None else ranked[:k]

    def best(self, objective: str | None = None) -> Trial:
        """The best complete trial; NaslError when none has completed."""
        top = self.top(1, objective)
        if not top:
            raise NaslError(f"the study '{self.path}' has no complete trial yet")
        return top[0]

    def _objective(self, objective):
        objective = objective or self.primary
        if objective not in self.objectives:
            raise NaslError(f"the study has no objective '{objective}'; its objectives: {', '.join(self.objectives)}")
        return objective

    def pareto_front(self) -> list[Trial]:
        """The complete trials that no other beats in every objective, by primary objective (best first)."""
        done = self.completed()
        names = list(self.objectives)
        idx = pareto_front([tuple(t.metrics[n] for n in names) for t in done], [self.objectives[n] for n in names])
        return sorted((done[i] for i in idx), key=self._key(self.primary), reverse=True)

    def best_so_far(self, objective: str | None = None) -> list[tuple[int, float]]:
        """``(trial number, best value up to it)`` over the complete trials, in trial order."""
        objective = self._objective(objective)
        sign = 1.0 if self.objectives[objective] == "max" else -1.0
        out, best = [], None
        for t in self.completed():
            v = t.metrics[objective]
            if best is None or sign * v > sign * best:
                best = v
            out.append((t.number, best))
        return out

    def counts(self) -> dict:
        return self.storage.counts()

    def load_space(self):
        """The study's space, rebuilt from its recorded source and parameters."""
        return self._request(None).load_space()

    def _request(self, trial: Trial | None):
        from nasl.study.loop import trial_seed
        from nasl.study.protocol import TrialRequest
        c = self.config
        return TrialRequest(trial_id=trial.id if trial else -1, number=trial.number if trial else -1,
                            arch=trial.arch.canonical() if trial else {}, budget=trial.budget if trial else None,
                            seed=trial_seed(c["seed"], trial.number) if trial else 0,
                            space_source=c["space_source"], space_file=c["space_file"],
                            params=tuple(map(tuple, c["params"])), ops_modules=tuple(c["ops"]),
                            artifact_dir=self.artifact_dir)

    def request_for(self, trial: Trial):
        """The :class:`~nasl.study.protocol.TrialRequest` that trial was evaluated with."""
        return self._request(trial)

    @property
    def artifact_dir(self) -> str | None:
        """Where evaluators keep per-trial files: ``<study file>.artifacts`` (None in memory)."""
        return None if self.path == ":memory:" else self.path + ".artifacts"

    def export_best(self, path, to: str = "pt", objective: str | None = None) -> str:
        """Export the best trial's model to ``path`` (see :mod:`nasl.study.export`); returns the path."""
        from nasl.study.export import export_trial
        return export_trial(self, self.best(objective), path, to)

    def close(self) -> None:
        self.storage.close()

    def __repr__(self) -> str:
        c = self.counts()
        return (f"<Study '{self.path}' {self.config['searcher']} seed={self.config['seed']} "
                f"complete={c['complete']} failed={c['failed']} running={c['running']}>")
