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
    parent: int | None = None          # the parent trial's number, where the searcher gave one
    transformation: str | None = None  # how the parent became this architecture ("mutate width", ...)
    inherited: float | None = None     # the fraction of its weights that came from the parent

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
    ops : list of str, optional
        Op modules named by the user. Rebuilding the space imports the op
        modules the file records only when they are named here (or in the
        call), or with ``trust=True`` (see :mod:`nasl.study.trust`).
    trust : bool
        Import whatever op modules the file records.
    """

    def __init__(self, storage: Storage, ops=None, trust: bool = False):
        self.storage = storage
        self.ops, self.trust = list(ops or ()), bool(trust)
        row = storage.load_study()
        if row is None:
            raise NaslError(f"'{storage.path}' holds no study yet")
        self.config = row
        self.objectives: dict = row["objectives"]
        self.primary = next(iter(self.objectives))

    @classmethod
    def load(cls, path, ops=None, trust: bool = False) -> "Study":
        """Open a study file for reading only: it works on a read-only file or mount, and writes nothing."""
        if not os.path.exists(path):
            raise NaslError(f"no study file at '{path}'")
        storage = Storage(path, readonly=True)
        try:
            return cls(storage, ops=ops, trust=trust)
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
        """The ``k`` best complete trials by ``objective`` (default: the primary one); ties: earlier first.

        In a multi-fidelity study only the trials at the top budget are ranked (:meth:`top_budget_trials`).
        """
        objective = self._objective(objective)
        ranked = sorted(self.top_budget_trials(), key=self._key(objective), reverse=True)
        return ranked if k is None else ranked[:k]

    def top_budget_trials(self) -> list[Trial]:
        """The complete trials at the study's top budget: in a multi-fidelity study (Hyperband,
        successive halving) a trial cut short at a low budget is not comparable with a full one.
        Trials without a budget (the evaluator's full one) always count."""
        done = self.completed()
        budgets = [t.budget for t in done if t.budget is not None]
        if not budgets:
            return done
        top = max(budgets)
        return [t for t in done if t.budget is None or t.budget == top]

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

    def dataframe(self):
        """Every trial as a ``pandas.DataFrame`` (see :mod:`nasl.study.dataframe` for the columns);
        MissingDependency when pandas is not installed."""
        from nasl.study.dataframe import dataframe
        return dataframe(self)

    def retrain(self, trial: Trial | None = None, epochs=None, seeds: int = 1, **kw) -> dict:
        """Train ``trial`` (default: the best) from scratch for ``epochs`` under seeds ``0..seeds-1``; the
        summary with mean and std (see :func:`nasl.study.retrain.retrain`, which takes ``options``, ``ops``,
        ``trust`` and ``data`` too). The search's trials and weights are not touched."""
        from nasl.study.retrain import retrain
        return retrain(self, self.best() if trial is None else trial, epochs=epochs, seeds=seeds, **kw)

    def counts(self) -> dict:
        return self.storage.counts()

    def load_space(self, ops=None, trust: bool | None = None):
        """The study's space, rebuilt from its recorded source and parameters.

        ``ops`` and ``trust`` add to the study's own (see the class doc).
        """
        return self._request(None, ops, trust).load_space()

    def _request(self, trial: Trial | None, ops=None, trust: bool | None = None, artifact_dir=None):
        from nasl.study.protocol import TrialRequest, trial_seed
        from nasl.study.trust import allowed_modules
        c = self.config
        modules = allowed_modules(f"the study '{self.path}'", c["ops"], ops=self.ops + list(ops or ()),
                                  trust=self.trust if trust is None else trust)
        return TrialRequest(trial_id=trial.id if trial else -1, number=trial.number if trial else -1,
                            arch=trial.arch.canonical() if trial else {}, budget=trial.budget if trial else None,
                            seed=trial_seed(c["seed"], trial.number) if trial else 0,
                            space_source=c["space_source"], space_file=c["space_file"],
                            params=tuple(map(tuple, c["params"])), ops_modules=tuple(modules),
                            artifact_dir=artifact_dir)

    def request_for(self, trial: Trial, ops=None, trust: bool | None = None, artifact_dir=None):
        """The :class:`~nasl.study.protocol.TrialRequest` that trial was evaluated with, to evaluate it again.

        Evaluating it again (``TrainEvaluator(epochs=50)(study.request_for(t))``,
        a longer retraining) keeps no files by default: the search's weights in
        :attr:`artifact_dir` stay the ones that go with the recorded metrics.
        ``artifact_dir`` names another folder where the evaluator may keep
        the new weights (``trial_<id>.pt``); the study's own is refused.
        """
        if artifact_dir is not None:
            artifact_dir = os.fspath(artifact_dir)
            if self.artifact_dir is not None and \
                    os.path.abspath(artifact_dir) == os.path.abspath(self.artifact_dir):
                raise NaslError(f"'{artifact_dir}' holds the search's weights (they go with the recorded "
                                f"metrics, and exports ship them); keep a retraining's weights elsewhere")
        return self._request(trial, ops, trust, artifact_dir)

    @property
    def model_inputs(self) -> tuple:
        """``(input_shape, num_classes)`` the study's networks were built for (None where not recorded:
        the space's declared input and ``classes``)."""
        from nasl.study.evaluator_config import model_shape
        return model_shape(self.config)

    @property
    def artifact_dir(self) -> str | None:
        """Where evaluators keep per-trial files: ``<study file>.artifacts`` (None in memory)."""
        return None if self.path == ":memory:" else self.path + ".artifacts"

    def export_best(self, path, to: str = "pt", objective: str | None = None, ops=None,
                    trust: bool | None = None) -> str:
        """Export the best trial's model to ``path`` (see :mod:`nasl.study.export`); returns the path.

        ``ops`` and ``trust`` approve the op modules the study records (see the class doc).
        """
        from nasl.study.export import export_trial
        return export_trial(self, self.best(objective), path, to, ops=ops, trust=trust)

    def close(self) -> None:
        self.storage.close()

    def __repr__(self) -> str:
        c = self.counts()
        return (f"<Study '{self.path}' {self.config['searcher']} seed={self.config['seed']} "
                f"complete={c['complete']} failed={c['failed']} running={c['running']}>")
