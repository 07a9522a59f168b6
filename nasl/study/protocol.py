"""What a trial asks of an evaluator, and what it gets back.

A :class:`TrialRequest` is plain, picklable data: the space's *source text*
(plus its parameter overrides and op modules) and the architecture as JSON.
Workers in another process or on a Ray node rebuild the space and the model
from it; a compiled module is never pickled (DESIGN.md, studies).

An evaluator is any picklable callable ``evaluator(request) -> metrics``:

- ``metrics`` maps names to floats. It holds at least the evaluator's
  objectives (``evaluator.directions``: name -> ``"max"``/``"min"``, the first
  is the primary one) and may hold more (params, timings). The key
  ``"curve"``, if present, is a list of per-epoch metric dicts, for
  multi-fidelity searchers and plots.
- Raising marks the trial failed with the exception's text; so does a NaN
  objective (the study loop checks).
- An evaluator that trains by epochs may call ``request.report(curve)``
  after each one (the curve so far): when the study has a pruner
  (:mod:`nasl.study.pruners`) that stops the trial, it raises
  :class:`TrialPruned`, which the evaluator lets through; the trial is
  recorded ``pruned`` with that curve.
- An optional ``warm_up()`` method runs once, untimed, before the inline
  runner's first timed trial: it does what a first trial would do lazily
  (imports, loading data), so that neither is charged to trial 0's timeout.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Mapping, Protocol

_SPACES: dict = {}       # per-process cache: rebuilding a space costs ~80 ms


@dataclasses.dataclass(frozen=True)
class TrialRequest:
    """One evaluation: an architecture of a space, at a budget, under a seed."""

    trial_id: int                  # the storage row id, unique in a study
    number: int                    # the ask order, 0-based
    arch: Mapping[str, Any]        # Architecture JSON mapping
    budget: float | None           # fidelity (epochs, steps); None = the evaluator's full budget
    seed: int                      # trial seed: the same request gives the same metrics
    space_source: str              # the .nas text
    space_file: str = "<string>"   # for diagnostics only
    params: tuple = ()             # (name, value) overrides of the space's params (-D)
    ops_modules: tuple = ()        # modules that register user ops, imported before loading
    artifact_dir: str | None = None   # a folder where the evaluator may keep files (weights)
    pruner: Any = None             # the study's pruner bound to this trial (a judge), or None
    # where the searcher made it from: {"parent": number, "parent_id": trial id, "parent_arch": {...},
    # "transformation": "mutate width"}; None when it has no parent
    lineage: Mapping[str, Any] | None = None

    def report(self, curve) -> None:
        """The trial's curve so far (a list of per-epoch metric dicts with ``"epoch"``): raises
        :class:`TrialPruned` when the study's pruner stops the trial here."""
        if self.pruner is None:
            return
        reason = self.pruner(curve)
        if reason:
            raise TrialPruned(reason, [dict(row) for row in curve])

    def load_space(self):
        """The :class:`~nasl.ir.space.Space`, cached per process."""
        # a list-valued parameter (-D widths=[8,16]) is keyed by its JSON text: a list is not hashable
        import json
        key = (self.space_source, self.space_file, json.dumps(list(self.params), default=str), self.ops_modules)
        space = _SPACES.get(key)
        if space is None:
            if self.ops_modules:
                from nasl.loader import import_ops
                import_ops(list(self.ops_modules))
            import nasl
            space = nasl.loads(self.space_source, self.space_file, **dict(self.params))
            _SPACES[key] = space
        return space

    def architecture(self):
        """The :class:`~nasl.ir.architecture.Architecture` of this trial."""
        from nasl.ir.architecture import Architecture
        return Architecture(self.arch)


def trial_seed(study_seed: int, number: int) -> int:
    """The seed of trial ``number``: stable across runs, processes and machines."""
    digest = hashlib.blake2b(f"{study_seed}:{number}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


class TrialPruned(Exception):
    """A pruner stopped the trial (:meth:`TrialRequest.report`): ``.curve`` is its curve up to there."""

    def __init__(self, reason: str, curve=None):
        super().__init__(reason)
        self.curve = curve


class TrialFailed(Exception):
    """An evaluation outcome that is a failure with a reason (not a crash of nasl)."""


class Evaluator(Protocol):
    """The evaluator contract (see the module docstring)."""

    directions: Mapping[str, str]

    def __call__(self, request: TrialRequest) -> Mapping[str, Any]: ...
