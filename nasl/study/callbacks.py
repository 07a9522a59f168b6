"""``callbacks=[fn]``: the user's functions, called as ``fn(study, trial)`` after each trial is recorded.

A callback runs in the searching process, after the trial's row and the
searcher's tell are written, so what it sees is on disk: a crash inside it
loses nothing. ``study`` is a :class:`~nasl.study.study.Study` over the
open storage (the trials so far, ``best()``, ``pareto_front()`` ...) and
``trial`` the :class:`~nasl.study.study.Trial` just finished (complete,
failed or pruned). An exception in a callback stops the search with a
one-line error naming the callback (resume continues it); raising
:class:`StopSearch` stops it cleanly instead, e.g. once a target accuracy is
reached.
"""
from __future__ import annotations

from nasl.ir.errors import NaslError


class StopSearch(Exception):
    """Raised by a callback: end the search now (the trials finished so far are kept)."""


def check(callbacks) -> list:
    if callbacks is None:
        return []
    if callable(callbacks):
        callbacks = [callbacks]
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise NaslError(f"callbacks is a list of functions fn(study, trial), not {type(callbacks).__name__}") from None
    bad = [c for c in callbacks if not callable(c)]
    if bad:
        raise NaslError(f"callbacks are functions fn(study, trial); {bad[0]!r} is not callable")
    return callbacks


def _trial(store, trial_id):
    from nasl.ir.architecture import Architecture
    from nasl.study.study import Trial
    row = store.trials("WHERE id = ?", (trial_id,))[0]
    row["arch"] = Architecture.from_json(row["arch"])
    del row["ask_seq"], row["tell_seq"]
    return Trial(**row)


def call_all(callbacks, store, trial_id) -> None:
    from nasl.study.study import Study
    study, trial = Study(store), _trial(store, trial_id)
    for fn in callbacks:
        try:
            fn(study, trial)
        except StopSearch:
            raise
        except Exception as e:  # noqa: BLE001 - the user's callback failed, not nasl
            name = getattr(fn, "__qualname__", repr(fn))
            raise NaslError(f"callback {name} failed after trial {trial.number}: {type(e).__name__}: {e} "
                            f"(the trials so far are recorded; resume continues)") from None


__all__ = ["StopSearch", "check", "call_all"]
