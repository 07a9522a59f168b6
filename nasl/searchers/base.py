"""The ask/tell protocol every searcher follows.

A searcher sees only the :class:`~nasl.ir.decision_tree.ChoiceSpec` of a space and
the :class:`~nasl.ir.architecture.Architecture` s it proposes, never the space
graph or a model. As in PyGlove's ``DNAGenerator``, a small public surface
(:meth:`Searcher.ask`, :meth:`Searcher.tell`, :meth:`Searcher.recover`,
:meth:`Searcher.state_dict`) wraps protected hooks that an algorithm
overrides (:meth:`Searcher._propose`, :meth:`Searcher._feedback`,
:meth:`Searcher._get_state`, :meth:`Searcher._set_state`).

Lineage (model reuse, issue 17): a searcher that makes an architecture from an earlier one
(a mutation, Net2Wider) says so with :meth:`Searcher.child`; the study reads it with
:meth:`Searcher.lineage_of` right after the ask, records the parent trial and the
transformation, and an evaluator that inherits weights starts from the parent's. A searcher
that never calls ``child`` proposes architectures without parents, as before.

Determinism: all randomness comes from ``self.rng``, a :class:`random.Random`
seeded with ``seed``, so the same seed and the same tells give the same asks.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from nasl.ir.architecture import Architecture
from nasl.ir.decision_tree import ChoiceSpec

DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class Lineage:
    """Where a proposed architecture came from: its ``parent`` architecture and the
    ``transformation`` that made it (``"mutate cell.edge[0->1]"``, ``"net2wider width"``: the
    kind first, then its argument; see docs/morph.md for the kinds an evaluator applies)."""

    parent: Architecture
    transformation: str


class Exhausted(Exception):
    """A finite space has no architecture left that the searcher would propose."""


class Result:
    """The outcome of evaluating one architecture.

    Parameters
    ----------
    objectives : mapping of str to float, or float
        Named objective values, in order; the first is the primary one. A bare
        number is one objective named ``"objective"``.
    directions : mapping of str to {"max", "min"}, optional
        The direction of each objective; ``"max"`` where not given.
    error : str, optional
        Set for a failed trial (see :meth:`failure`); then there are no objectives. A NaN
        objective makes the result a failure too ("objective 'acc' is nan").

    Examples
    --------
    >>> r = Result({"acc": 93.1, "params": 1.2e6}, directions={"params": "min"})
    >>> r.score(), r.score("params")
    (93.1, -1200000.0)
    >>> Result.failure("out of memory").failed
    True
    """

    __slots__ = ("objectives", "directions", "error")

    def __init__(self, objectives: Mapping[str, float] | float = (), directions: Mapping[str, str] | None = None,
                 error: str | None = None):
        if isinstance(objectives, (int, float)) and not isinstance(objectives, bool):
            objectives = {"objective": objectives}
        self.objectives = {str(k): float(v) for k, v in dict(objectives).items()}
        directions = dict(directions or {})
        unknown = set(directions) - set(self.objectives)
        if unknown:
            raise ValueError(f"directions for objectives that the result does not have: {sorted(unknown)}")
        for k, d in directions.items():
            if d not in DIRECTIONS:
                raise ValueError(f"the direction of '{k}' is {d!r}; expected 'max' or 'min'")
        self.directions = {k: directions.get(k, "max") for k in self.objectives}
        if error is None:
            # a NaN objective (a diverged training, say) is a failed trial, as a study records it:
            # every comparison with NaN is False, so a searcher would otherwise rank it at random
            error = next((f"objective '{k}' is nan" for k, v in self.objectives.items() if math.isnan(v)), None)
            if error is not None:
                self.objectives, self.directions = {}, {}
        self.error = error
        if error is None and not self.objectives:
            raise ValueError("a result needs at least one objective, or an error (Result.failure)")

    @classmethod
    def failure(cls, error: str = "failed") -> "Result":
        """A failed trial: it counts as asked and evaluated, but has no objectives."""
        return cls({}, error=str(error) or "failed")

    @property
    def failed(self) -> bool:
        return self.error is not None

    def score(self, name: str | None = None) -> float:
        """The objective ``name`` (default: the first) signed so that larger is better; -inf if failed."""
        if self.failed:
            return -math.inf
        name = next(iter(self.objectives)) if name is None else name
        v = self.objectives[name]
        return v if self.directions[name] == "max" else -v

    def fit_score(self, name: str | None = None) -> float | None:
        """What a surrogate learns from: the finite :meth:`score` of ``name``, or None for a failure,
        a result without that objective, or a non-finite value."""
        if self.failed or name not in (None, *self.objectives):
            return None
        s = self.score(name)
        return s if math.isfinite(s) else None

    @classmethod
    def coerce(cls, value) -> "Result":
        """A Result from a Result, a number, a dict of numbers (all maximised) or a :meth:`to_dict`."""
        if isinstance(value, Result):
            return value
        if isinstance(value, Mapping) and ("objectives" in value or "error" in value):
            return cls(value.get("objectives", {}), value.get("directions"), value.get("error"))
        if isinstance(value, (Mapping, int, float)) and not isinstance(value, bool):
            return cls(value)
        raise TypeError(f"a result is a Result, a number or a dict of numbers, not {type(value).__name__}")

    def to_dict(self) -> dict:
        if self.failed:
            return {"error": self.error}
        return {"objectives": dict(self.objectives), "directions": dict(self.directions)}

    def __eq__(self, other) -> bool:
        return isinstance(other, Result) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        if self.failed:
            return f"Result.failure({self.error!r})"
        return f"Result({self.objectives!r}, directions={self.directions!r})"


def score_or_fallback(result: Result, objective, failure_score, worst) -> tuple:
    """``(score, worst)`` for a searcher that learns from failures too (reinforce, q_learning, mdenas):
    a success's score, and the lowest success so far; a failure scores ``failure_score``, or the
    lowest success so far (None before any success: the caller skips it)."""
    if result.failed:
        return (failure_score if failure_score is not None else worst), worst
    s = result.score(objective)
    return s, (s if worst is None else min(worst, s))


class Searcher:
    """Base of all searchers: ask for architectures, tell their results.

    Parameters
    ----------
    spec : ChoiceSpec
        The decision tree of the space.
    seed : int, optional
        Seeds ``self.rng``; the same seed gives the same sequence of asks.
    encoder : callable, optional
        ``Architecture -> vector`` (one-hot, graph encodings), supplied by the study.
    cost : callable, optional
        ``Architecture -> float`` (params, FLOPs), supplied by the study.

    Notes
    -----
    Several asks may be outstanding; tells may come in any order, also for an
    architecture asked long ago, or never asked (a result known in advance).
    """

    name = "?"

    def __init__(self, spec: ChoiceSpec, seed: int | None = None, *, encoder=None, cost=None):
        if not isinstance(spec, ChoiceSpec):
            spec = getattr(spec, "spec", spec)     # accept a Space without importing its module
        self.spec = spec
        self.seed = seed
        self.rng = random.Random(seed)
        self.encoder = encoder
        self.cost = cost
        self.num_asked = 0
        self.num_told = 0
        self.pending: dict[Architecture, int] = {}    # asked, not yet told -> ask number
        self._lineage: dict[Architecture, Lineage] = {}   # proposed children whose lineage is unread

    # ------------------------------------------------------------ public
    def ask(self) -> Architecture:
        """The next architecture to evaluate; raises :class:`Exhausted` when none is left."""
        arch = self._propose()
        self.pending[arch] = self.num_asked
        self.num_asked += 1
        return arch

    def child(self, arch: Architecture, parent: Mapping, transformation: str) -> Architecture:
        """Mark ``arch`` (about to be proposed) as made from ``parent`` by ``transformation``;
        returns ``arch``. For use in :meth:`_propose`."""
        parent = parent if isinstance(parent, Architecture) else Architecture(parent)
        if len(self._lineage) > 10_000:            # asked outside a study and never read: keep it bounded
            self._lineage.clear()
        self._lineage[arch] = Lineage(parent, str(transformation))
        return arch

    def lineage_of(self, arch: Mapping) -> Lineage | None:
        """The lineage of an architecture just asked (None: no parent), forgotten once read."""
        arch = arch if isinstance(arch, Architecture) else Architecture(arch)
        return self._lineage.pop(arch, None)

    def ask_batch(self, n: int) -> list[Architecture]:
        """Up to ``n`` architectures; fewer when the space runs out (Exhausted only if none)."""
        out = []
        for _ in range(n):
            try:
                out.append(self.ask())
            except Exhausted:
                if not out:
                    raise
                break
        return out

    def ask_with_budget(self) -> tuple[Architecture, float | None]:
        """The next architecture and the budget (fidelity) to evaluate it at.

        ``None`` means the evaluator's full budget. Multi-fidelity searchers
        (successive halving, Hyperband) override this; the study always calls
        it, and passes the budget back to :meth:`tell`.
        """
        return self.ask(), None

    def tell(self, arch: Mapping, result, budget: float | None = None) -> None:
        """Report the ``result`` (a :class:`Result`, a number or a dict of numbers) of ``arch``.

        ``budget`` is what :meth:`ask_with_budget` returned with it (None: full).
        """
        arch = arch if isinstance(arch, Architecture) else Architecture(arch)
        result = Result.coerce(result)
        self.pending.pop(arch, None)
        self._lineage.pop(arch, None)
        self.num_told += 1
        self._feedback(arch, result)

    def recover(self, history: Iterable) -> None:
        """Replay a history on a fresh searcher (same spec, seed, options) to reach its state.

        Each event is ``("ask", arch)`` or ``("ask", arch, budget)``,
        ``("tell", arch, result)`` or ``("tell", arch, result, budget)``, or a
        pair ``(arch, result)`` for an ask followed at once by its tell
        (``result`` None: asked, still pending). Asks are replayed through
        :meth:`ask_with_budget`; replayed asks must propose the recorded
        architectures (and budgets, where recorded); a mismatch raises ValueError.
        """
        for event in history:
            budget, check_budget = None, False
            if isinstance(event, tuple) and event and event[0] in ("ask", "tell"):
                kind, arch = event[0], event[1]
                if kind == "ask":
                    result = None
                    if len(event) > 2:
                        budget, check_budget = event[2], True
                else:
                    result = event[2] if len(event) > 2 else None
                    budget = event[3] if len(event) > 3 else None
            else:
                kind, (arch, result) = "both", event
            arch = arch if isinstance(arch, Architecture) else Architecture(arch)
            if kind != "tell":
                got, got_budget = self.ask_with_budget()
                if got != arch or (check_budget and got_budget != budget):
                    raise ValueError(f"the history diverges at ask #{self.num_asked - 1}: this searcher "
                                     f"proposes {got.id} (budget {got_budget}), the history has {arch.id}"
                                     f"{f' (budget {budget})' if check_budget else ''}; was it created with "
                                     f"the same spec, seed and options?")
                if kind == "both":
                    budget = got_budget
            if kind != "ask" and result is not None:
                self.tell(arch, result, budget)

    def state_dict(self) -> dict:
        """Everything needed to continue exactly; JSON-serializable."""
        version, internal, gauss = self.rng.getstate()
        return {"searcher": self.name, "seed": self.seed, "rng": [version, list(internal), gauss],
                "num_asked": self.num_asked, "num_told": self.num_told,
                "pending": [[a.to_json(), i] for a, i in self.pending.items()],
                "state": self._get_state()}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore a :meth:`state_dict` (possibly after a JSON round trip)."""
        if state.get("searcher") != self.name:
            raise ValueError(f"a state of searcher '{state.get('searcher')}' cannot be loaded into '{self.name}'")
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self.seed = state["seed"]
        self.num_asked, self.num_told = state["num_asked"], state["num_told"]
        self.pending = {Architecture.from_json(a): i for a, i in state["pending"]}
        self._set_state(state["state"])

    # ------------------------------------------------------------ hooks
    def _propose(self) -> Architecture:
        """Return a new architecture (valid for the spec and its constraints)."""
        raise NotImplementedError

    def _feedback(self, arch: Architecture, result: Result) -> None:
        """Take the result of ``arch`` into account (default: ignore it)."""

    def _get_state(self) -> Any:
        """The algorithm's own state, JSON-serializable (default: none)."""
        return None

    def _set_state(self, state: Any) -> None:
        """Restore what :meth:`_get_state` returned."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self.name}' seed={self.seed} asked={self.num_asked} told={self.num_told}>"
