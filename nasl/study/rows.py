"""Decode and check what is read from a study file, and name SQLite's errors for the user.

A study file is data: it may have been edited, truncated, copied half-way
or damaged on disk. Every row that :class:`~nasl.study.storage.Storage`
hands out passes through here, so that a bad file gives one line that names
the trial and the column at fault (a :class:`StorageError`), never a
``KeyError`` or a ``JSONDecodeError`` deep in the loop or the report.
"""
from __future__ import annotations

import json
import math

from nasl.ir.errors import NaslError

STATES = ("running", "complete", "failed", "pruned")


class StorageError(NaslError):
    """The study file cannot be used (schema, lock, damage, not a study)."""


def clean(text: str, limit: int = 160) -> str:
    """``text`` on one printable line of at most ``limit`` characters (SQLite quotes damaged bytes as they are)."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


def damaged(path: str, what: str) -> StorageError:
    return StorageError(f"the study file '{path}' is damaged: {clean(what, 300)}")


def sqlite_error(path: str, e: Exception, opening: bool = False) -> StorageError:
    """The user's view of an SQLite error (or an undecodable SQLite message) on the study file ``path``."""
    if isinstance(e, UnicodeDecodeError):
        # the sqlite3 module could not decode SQLite's own message, which quoted damaged bytes of the schema
        return damaged(path, "its schema holds bytes that are not UTF-8")
    text = clean(str(e))
    low = text.lower()
    if opening and ("not a database" in low or "unsupported file format" in low):
        return StorageError(f"'{path}' is not a nasl study file ({text})")
    if "database or disk is full" in low:
        return StorageError(f"cannot write to the study file '{path}': disk full; what was committed before is "
                            f"kept: free some space, then resume (nasl search --study {path} --resume)")
    if "readonly" in low or "read-only" in low:
        return StorageError(f"cannot write to the study file '{path}': it is read-only ({text}); copy it to a "
                            f"writable folder to continue it")
    if "locked" in low or "busy" in low:
        return StorageError(f"the study file '{path}' stayed busy (another process held it for over 30 s: {text})")
    if "malformed" in low or "not a database" in low or "unsupported" in low or "no such" in low \
            or "decode" in low:
        return damaged(path, text)
    return StorageError(f"the study file '{path}' cannot be used ({type(e).__name__}: {text})")


def _json(path: str, where: str, text, kinds):
    if not isinstance(text, str):
        raise damaged(path, f"{where} is not JSON text (it is {type(text).__name__})")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:          # JSONDecodeError, a 4,300-digit integer, deep nesting
        raise damaged(path, f"{where} is not valid JSON ({str(e)[:120]})") from None
    if not isinstance(value, kinds):
        raise damaged(path, f"{where} is JSON but not {_names(kinds)}")
    return value


def _names(kinds) -> str:
    return {dict: "an object", list: "a list"}.get(kinds, "the expected kind")


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _scalar_or_list(v) -> bool:
    if isinstance(v, list):
        return all(_scalar_or_list(x) for x in v)
    return v is None or isinstance(v, (str, int, float, bool))


# column -> what its value must be ("?": or NULL); JSON columns are decoded (arch is checked, and kept as text)
_TRIAL = {
    "id": "int", "number": "int", "arch_id": "str", "seed": "int", "ask_seq": "int", "attempts": "int",
    "budget": "number?", "started": "number?", "finished": "number?", "duration": "number?",
    "error": "str?", "worker": "str?", "tell_seq": "int?",
    "parent": "int?", "transformation": "str?", "inherited": "number?",
}
_KINDS = {"int": (lambda v: isinstance(v, int), "an integer"), "number": (_number, "a number"),
          "str": (lambda v: isinstance(v, str), "text")}
# (column, test, may be NULL, what it must be), flattened once: a study of 10,000 trials checks 130,000 cells
_TRIAL_CHECKS = tuple((col, *_KINDS[kind.rstrip("?")][:1], kind.endswith("?"), _KINDS[kind.rstrip("?")][1])
                      for col, kind in _TRIAL.items())


def _check_kind(path, where, value, kind: str) -> None:
    if kind.endswith("?") and value is None:
        return
    test, name = _KINDS[kind.rstrip("?")]
    if not test(value):
        raise damaged(path, f"{where} is {clean(repr(value), 40)}, not {name}")


def trial(path: str, d: dict, objectives: dict | None) -> dict:
    """Check and decode one trial row in place (``metrics`` and ``curve`` become JSON values)."""
    name = f"trial {d['number']}" if isinstance(d["number"], int) else f"the trial with id {clean(repr(d['id']), 20)}"
    for col, test, optional, kind in _TRIAL_CHECKS:
        v = d[col]
        if not ((optional and v is None) or test(v)):
            raise damaged(path, f"{name}'s '{col}' is {clean(repr(v), 40)}, not {kind}")
    if d["state"] not in STATES:
        raise damaged(path, f"{name} has the unknown state {clean(repr(d['state']), 40)}")
    arch = _json(path, f"{name}'s 'arch'", d["arch"], dict)
    if not all(_scalar_or_list(v) for v in arch.values()):
        raise damaged(path, f"{name}'s 'arch' has a value that is neither a JSON scalar nor a list")
    for col, kinds in (("metrics", dict), ("curve", list)):
        if d[col] is not None:
            d[col] = _json(path, f"{name}'s '{col}'", d[col], kinds)
    if d["state"] == "complete" and objectives:
        metrics = d["metrics"] or {}
        for o in objectives:
            v = metrics.get(o)
            if not _number(v) or not math.isfinite(v):
                raise damaged(path, f"{name} is complete but its metrics have no finite value for the study's "
                                    f"objective '{o}' (they have {', '.join(map(str, metrics)) or 'none'})")
    return d


def study(path: str, d: dict) -> dict:
    """Check and decode the study row in place; ``objectives`` becomes ``{name: direction}``."""
    for col in ("space_source", "space_file", "searcher"):
        _check_kind(path, f"the study's '{col}'", d[col], "str")
    _check_kind(path, "the study's 'budget'", d["budget"], "int")
    _check_kind(path, "the study's 'seed'", d["seed"], "int?")
    d["params"] = _json(path, "the study's 'params'", d["params"], list)
    if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in d["params"]):
        raise damaged(path, "the study's 'params' is not a list of [name, value] pairs")
    d["ops"] = _json(path, "the study's 'ops'", d["ops"], list)
    if not all(isinstance(m, str) for m in d["ops"]):
        raise damaged(path, "the study's 'ops' is not a list of module names")
    d["searcher_options"] = _json(path, "the study's 'searcher_options'", d["searcher_options"], dict)
    ev = d["evaluator"] = _json(path, "the study's 'evaluator'", d["evaluator"], dict)
    if not isinstance(ev.get("repr"), str) or not isinstance(ev.get("spec"), (str, type(None))):
        raise damaged(path, "the study's 'evaluator' has no 'spec' and 'repr'")
    pairs = _json(path, "the study's 'objectives'", d["objectives"], list)
    if not pairs or not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and p[1] in ("max", "min")
                            for p in pairs) or len({p[0] for p in pairs}) != len(pairs):
        raise damaged(path, "the study's 'objectives' is not a list of distinct [name, 'max'|'min'] pairs")
    d["objectives"] = {name: direction for name, direction in pairs}
    return d


def snapshot(path: str, seq, text) -> tuple[int, dict]:
    _check_kind(path, "a searcher snapshot's 'seq'", seq, "int")
    return seq, _json(path, f"the searcher snapshot at {seq}", text, dict)
