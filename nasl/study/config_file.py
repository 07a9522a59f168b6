"""``nasl search --config study.toml``: every option of the command line, from a TOML file.

Keys are the long option names, with ``-`` or ``_`` (``budget``,
``time-budget``, ``warm_start`` ...); the repeatable options take a table or
a list: ``searcher_options = {population_size = 10}`` (``-O``),
``evaluator_options = {epochs = 8}`` (``-E``), ``params = {classes = 3}``
(``-D``), ``objective = ["val_accuracy", "params:min"]``, ``ops = [...]``,
``cost = ["params"]``. ``file`` is the space. Options given on the command
line win over the file's (for the tables and lists, the command line's
entries are added, and win per name). Paths in the file (``file``,
``study``, ``data``, ``warm_start``, ``log_dir``, ``export``, ``ops`` files)
are relative to the file's folder. The study records the resolved options
(``meta`` key ``config``).
"""
from __future__ import annotations

import difflib
import os

from nasl.ir.errors import NaslError

# key -> (argparse dest, kind); kinds: int, number, str, bool, table, strlist
SCHEMA = {
    "file": ("file", "path"), "searcher": ("searcher", "str"), "searcher_options": ("searcher_options", "table"),
    "budget": ("budget", "int"), "evaluator": ("evaluator", "str"),
    "evaluator_options": ("evaluator_options", "table"), "objective": ("objective", "strlist"),
    "cost": ("cost", "strlist"), "data": ("data", "pathish"), "executor": ("executor", "str"),
    "workers": ("workers", "int"), "study": ("study", "path"), "resume": ("resume", "bool"),
    "force": ("force", "bool"), "trust": ("trust", "bool"), "ray_address": ("ray_address", "str"),
    "cpus_per_trial": ("cpus_per_trial", "number"), "gpus_per_trial": ("gpus_per_trial", "number"),
    "seed": ("seed", "int"), "timeout": ("timeout", "number"), "time_budget": ("time_budget", "duration"),
    "export": ("export", "path"), "no_progress": ("no_progress", "bool"), "log_dir": ("log_dir", "path"),
    "warm_start": ("warm_start", "path"), "params": ("defines", "table"), "ops": ("ops", "pathlist"),
    "pruner": ("pruner", "str"), "pruner_options": ("pruner_options", "table"),
    "scheduler": ("scheduler", "str"), "scheduler_options": ("scheduler_options", "table"),
}
ALIASES = {"searcher_option": "searcher_options", "evaluator_option": "evaluator_options", "defines": "params",
           "objectives": "objective", "space": "file", "pruner_option": "pruner_options",
           "scheduler_option": "scheduler_options"}
TABLES = ("searcher_options", "evaluator_options", "defines", "pruner_options", "scheduler_options")


def read(path: str) -> dict:
    """The file's options by argparse dest, checked and with paths resolved; NaslError for a bad file."""
    import tomllib
    from nasl.ir.reading import read_text
    text = read_text(path, "the config file", 1 << 20)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise NaslError(f"{path}: {e}") from None
    base = os.path.dirname(os.path.abspath(path))
    out = {}
    for key, value in raw.items():
        name = ALIASES.get(key.replace("-", "_"), key.replace("-", "_"))
        if name not in SCHEMA:
            close = difflib.get_close_matches(name, SCHEMA, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; the keys: {', '.join(sorted(SCHEMA))}"
            raise NaslError(f"{path}: unknown option '{key}'{hint}")
        dest, kind = SCHEMA[name]
        out[dest] = _value(path, key, kind, value, base)
    return out


def _value(path, key, kind, value, base):
    def bad(what):
        return NaslError(f"{path}: '{key}' must be {what}, not {type(value).__name__} {value!r:.60}")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind in ("str", "path", "pathish"):
        if not isinstance(value, str):
            raise bad("a string")
        if kind == "path":
            return value if os.path.isabs(value) else os.path.join(base, value)
        return _resolve_data(value, base) if kind == "pathish" else value
    if kind == "duration":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise bad("a duration such as \"2h\" or a number of seconds")
        return str(value)
    if kind == "table":
        if not isinstance(value, dict):
            raise bad("a table, e.g. {name = value}")
        return [(str(k), v) for k, v in value.items()]
    if kind in ("strlist", "pathlist"):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise bad("a string or a list of strings")
        if kind == "pathlist":
            items = [v if os.path.isabs(v) or not (v.endswith(".py") or os.sep in v) else os.path.join(base, v)
                     for v in items]
        return ",".join(items) if key.replace("-", "_") == "cost" else items
    raise AssertionError(kind)


def _resolve_data(value: str, base: str) -> str:
    """A ``.npz`` path, or the ``.py`` file of a ``MODULE:FUNC``, relative to the config file; a dotted module as is."""
    if value.lower().endswith(".npz"):
        return value if os.path.isabs(value) else os.path.join(base, value)
    module, sep, func = value.rpartition(":")
    if sep and module.endswith(".py") and not os.path.isabs(module):
        return f"{os.path.join(base, module)}:{func}"
    return value


def merge(args, parser_defaults: dict, path: str) -> dict:
    """Apply the file at ``path`` to ``args`` (the command line winning); returns the resolved options."""
    config = read(path)
    for dest, value in config.items():
        given = getattr(args, dest, None)
        if dest in TABLES:
            merged = dict(value)
            merged.update(dict(given or []))            # the command line's entries win per name
            setattr(args, dest, list(merged.items()))
        elif dest in ("ops", "objective"):
            setattr(args, dest, list(value) + [v for v in (given or []) if v not in value])
        elif given == parser_defaults.get(dest):
            setattr(args, dest, value)
    return resolved(args)


def resolved(args) -> dict:
    """The search options as recorded in the study: every key of :data:`SCHEMA` with its final value."""
    out = {}
    for name, (dest, _) in SCHEMA.items():
        value = getattr(args, dest, None)
        out[name] = dict(value) if dest in TABLES else value
    return out


__all__ = ["read", "merge", "resolved", "SCHEMA"]
