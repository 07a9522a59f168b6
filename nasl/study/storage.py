"""SQLite storage of a study: the study row, its trials and searcher snapshots.

Every state change is its own committed transaction, so a process killed at
any instant leaves a consistent file: trials that were evaluating stay
``running`` and are re-queued on resume (see :mod:`nasl.study.loop`).

The file is in WAL mode with ``synchronous=NORMAL``: a commit survives the
process being killed (the WAL is in the OS page cache), not a power cut;
that trade buys about 20x more commits per second than ``FULL``.

Schema (version :data:`SCHEMA_VERSION`; a newer file is refused):

- ``meta(key, value)``: ``schema_version``, ``nasl_version``;
- ``study``: one row: space source, file, params, op modules, searcher name,
  options and seed, evaluator spec, objectives (ordered ``[name, direction]``
  pairs), budget, created time;
- ``trials``: one row per asked architecture (see :data:`TRIAL_COLUMNS`);
  ``ask_seq``/``tell_seq`` order the searcher's asks and tells on one clock,
  so a resume can replay them exactly;
- ``searcher_states(seq, state, created)``: ``state_dict()`` snapshots; a
  snapshot at ``seq`` holds every event with a smaller sequence number;
- ``lock``: the process that owns the study (:mod:`nasl.study.locking`).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time

from nasl.ir.errors import NaslError

SCHEMA_VERSION = 1
STATES = ("running", "complete", "failed", "pruned")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS study (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    space_source TEXT NOT NULL, space_file TEXT NOT NULL, params TEXT NOT NULL, ops TEXT NOT NULL,
    searcher TEXT NOT NULL, searcher_options TEXT NOT NULL, seed INTEGER,
    evaluator TEXT NOT NULL, objectives TEXT NOT NULL, budget INTEGER NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY, number INTEGER NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'failed', 'pruned')),
    arch TEXT NOT NULL, arch_id TEXT NOT NULL, budget REAL, seed INTEGER NOT NULL,
    metrics TEXT, curve TEXT, error TEXT, started REAL, finished REAL, duration REAL, worker TEXT,
    ask_seq INTEGER NOT NULL, tell_seq INTEGER, attempts INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS trials_state ON trials (state);
CREATE TABLE IF NOT EXISTS searcher_states (seq INTEGER PRIMARY KEY, state TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS lock (
    id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL,
    started REAL NOT NULL, heartbeat REAL NOT NULL);
"""

TRIAL_COLUMNS = ("id", "number", "state", "arch", "arch_id", "budget", "seed", "metrics", "curve", "error",
                 "started", "finished", "duration", "worker", "ask_seq", "tell_seq", "attempts")


class StorageError(NaslError):
    """The study file cannot be used (schema, lock, not a study)."""


class Storage:
    """One study in one SQLite file (``None`` or ``":memory:"``: in memory).

    Parameters
    ----------
    path : str or None
        The file; created with the schema when missing.
    """

    def __init__(self, path: str | os.PathLike | None):
        self.path = ":memory:" if path is None else os.fspath(path)
        folder = os.path.dirname(os.path.abspath(self.path))
        if self.path != ":memory:" and not os.path.isdir(folder):
            raise StorageError(f"cannot create the study file '{self.path}': no folder '{folder}'")
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per state change
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._check_schema()
        except sqlite3.DatabaseError as e:
            raise StorageError(f"'{self.path}' is not a nasl study file ({e})") from None

    # ------------------------------------------------------------ schema
    def _check_schema(self) -> None:
        c = self.conn
        has_meta = c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        if has_meta:
            row = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else None
            if version is None:
                raise StorageError(f"'{self.path}' has no schema version; it was not written by nasl")
            if version > SCHEMA_VERSION:
                raise StorageError(f"'{self.path}' has study schema version {version}, newer than this nasl "
                                   f"understands ({SCHEMA_VERSION}); upgrade nasl to open it")
            if version < SCHEMA_VERSION:
                raise StorageError(f"'{self.path}' has study schema version {version}, older than this nasl's "
                                   f"({SCHEMA_VERSION}), and no migration exists for it")
            return
        others = c.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        if others:
            raise StorageError(f"'{self.path}' is an SQLite file but not a nasl study (it has no 'meta' table)")
        from nasl import __version__
        with self.transaction():
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    c.execute(stmt)
            c.execute("INSERT INTO meta VALUES ('schema_version', ?), ('nasl_version', ?)",
                      (str(SCHEMA_VERSION), __version__))

    def transaction(self):
        return _Transaction(self.conn)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ study
    def load_study(self) -> dict | None:
        """The study row as a dict (JSON fields decoded), or None for an empty file."""
        cur = self.conn.execute("SELECT * FROM study WHERE id = 1")
        row = cur.fetchone()
        if row is None:
            return None
        d = dict(zip([c[0] for c in cur.description], row))
        for k in ("params", "ops", "searcher_options", "evaluator", "objectives"):
            d[k] = json.loads(d[k])
        d["objectives"] = {name: direction for name, direction in d["objectives"]}
        return d

    def create_study(self, *, space_source, space_file, params, ops, searcher, searcher_options, seed,
                     evaluator, objectives, budget) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO study VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (space_source, space_file, json.dumps(list(params)), json.dumps(list(ops)), searcher,
                 json.dumps(searcher_options), seed, json.dumps(evaluator),
                 json.dumps([[k, v] for k, v in objectives.items()]), int(budget), time.time()))

    def set_budget(self, budget: int) -> None:
        with self.transaction():
            self.conn.execute("UPDATE study SET budget = ? WHERE id = 1", (int(budget),))

    # ------------------------------------------------------------ trials
    def add_trial(self, number: int, arch_json: str, arch_id: str, budget, seed: int, ask_seq: int) -> int:
        """Record an asked architecture as ``running``; returns the trial id."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO trials (number, state, arch, arch_id, budget, seed, started, ask_seq) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
                (number, arch_json, arch_id, budget, seed, time.time(), ask_seq))
            return cur.lastrowid

    def restart_trial(self, trial_id: int) -> None:
        """A re-queued trial starts again (its earlier attempt was cut off)."""
        with self.transaction():
            self.conn.execute("UPDATE trials SET started = ?, attempts = attempts + 1 WHERE id = ?",
                              (time.time(), trial_id))

    def finish_trial(self, trial_id: int, state: str, *, metrics=None, curve=None, error=None,
                     duration=None, worker=None, tell_seq=None) -> None:
        """Record the outcome of a trial (and its place in the tell order) in one commit."""
        if state not in STATES[1:]:
            raise ValueError(f"a finished trial is complete, failed or pruned, not {state!r}")
        with self.transaction():
            self.conn.execute(
                "UPDATE trials SET state = ?, metrics = ?, curve = ?, error = ?, finished = ?, duration = ?, "
                "worker = ?, tell_seq = ? WHERE id = ?",
                (state, None if metrics is None else json.dumps(metrics), None if curve is None else json.dumps(curve),
                 error, time.time(), duration, worker, tell_seq, trial_id))

    def trials(self, where: str = "", args=()) -> list[dict]:
        """Trial rows as dicts ordered by number (JSON fields decoded)."""
        cur = self.conn.execute(f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials {where} ORDER BY number", args)
        out = []
        for row in cur.fetchall():
            d = dict(zip(TRIAL_COLUMNS, row))
            d["metrics"] = None if d["metrics"] is None else json.loads(d["metrics"])
            d["curve"] = None if d["curve"] is None else json.loads(d["curve"])
            out.append(d)
        return out

    def counts(self) -> dict:
        """``{state: number of trials}`` for every state."""
        out = dict.fromkeys(STATES, 0)
        out.update(self.conn.execute("SELECT state, count(*) FROM trials GROUP BY state").fetchall())
        return out

    def last_seq(self) -> int:
        """The largest ask/tell sequence number used so far (-1 when none)."""
        row = self.conn.execute("SELECT max(max(ask_seq), coalesce(max(tell_seq), -1)) FROM trials").fetchone()
        return -1 if row[0] is None else row[0]

    # ------------------------------------------------------------ searcher snapshots
    def save_searcher_state(self, seq: int, state: dict, keep_from: int | None = None) -> None:
        """Store a snapshot; delete those before ``keep_from`` (default ``seq``: all older ones).

        An incremental snapshot (:mod:`nasl.searchers.journal`) needs the
        older rows that hold its containers' earlier entries.
        """
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO searcher_states VALUES (?, ?, ?)",
                              (seq, json.dumps(state), time.time()))
            self.conn.execute("DELETE FROM searcher_states WHERE seq < ?", (seq if keep_from is None else keep_from,))

    def searcher_states(self) -> list[tuple[int, dict]]:
        """Every stored snapshot as ``(seq, state)``, oldest first."""
        return [(seq, json.loads(state))
                for seq, state in self.conn.execute("SELECT seq, state FROM searcher_states ORDER BY seq")]

    def last_searcher_state(self) -> tuple[int, dict] | None:
        row = self.conn.execute("SELECT seq, state FROM searcher_states ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else (row[0], json.loads(row[1]))


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error)."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind, value, tb):
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
