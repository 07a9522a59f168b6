"""``--warm-start OTHER.db`` / ``warm_start=``: tell a new study's searcher another study's results first.

The other study's complete trials whose architectures belong to this space
and that report this study's objectives are told to the searcher, in their
trial order, before it asks anything: an evolution starts from their
population, a model-based searcher fits them. They are not trials of this
study (its trial count and budget start at 0), and nothing is evaluated
again. The searcher's state after them is snapshotted at once, so resume
restores it without the other file; the source and the count are recorded
in the study's ``meta`` (``warm_start``).
"""
from __future__ import annotations

import os

from nasl.ir.errors import NaslError


def read(path, objectives: dict, space) -> tuple[list, int]:
    """``([(Architecture, Result)], skipped)`` of the study at ``path``, checked against ``space``."""
    from nasl.searchers.base import Result
    from nasl.study.study import Study
    path = os.fspath(path)
    if not os.path.exists(path):
        raise NaslError(f"no study to warm-start from: there is no file '{path}'")
    other = Study.load(path)
    try:
        missing = [o for o in objectives if o not in other.objectives]
        if missing:
            raise NaslError(f"cannot warm-start from '{path}': it has no objective '{missing[0]}' (its objectives: "
                            f"{', '.join(other.objectives)})")
        told, skipped = [], 0
        for t in other.completed():
            try:
                arch = space.validate(t.arch)
            except NaslError:
                skipped += 1          # an architecture of another space (or another -D): not this searcher's
                continue
            told.append((arch, Result({k: t.metrics[k] for k in objectives}, directions=objectives), t.budget))
    finally:
        other.close()
    if not told:
        raise NaslError(f"cannot warm-start from '{path}': none of its {skipped} complete trials is an "
                        f"architecture of this space")
    return told, skipped


def apply(searcher, told, store, path) -> str:
    """Tell ``searcher`` the results, snapshot it, record the source; returns a one-line note."""
    for arch, result, budget in told:
        searcher.tell(arch, result, budget=budget)
    store.save_searcher_state(store.last_seq(), searcher.state_dict())
    store.set_meta({"warm_start": {"path": os.path.abspath(os.fspath(path)), "trials": len(told)}})
    return f"warm start: told the searcher {len(told)} results of {path}"


__all__ = ["read", "apply"]
