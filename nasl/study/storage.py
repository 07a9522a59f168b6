"""SQLite storage of a study: the study row, its trials and searcher snapshots.

Every state change is its own committed transaction, so a process killed at
any instant leaves a consistent file: trials that were evaluating stay
``running`` and are re-queued on resume (see :mod:`nasl.study.loop`).

The file is in WAL mode with ``synchronous=NORMAL``: a commit survives the
process being killed (the WAL is in the OS page cache), not a power cut;
that trade buys about 20x more commits per second than ``FULL``.

Schema (version :data:`SCHEMA_VERSION`; a newer file is refused):

- ``meta(key, value)``: ``schema_version``, ``nasl_version``, and the last run's
  ``executor``, ``workers`` and ``deterministic`` (JSON; absent in older files);
- ``study``: one row: space source, file, params, op modules, searcher name,
  options and seed, evaluator spec, objectives (ordered ``[name, direction]``
  pairs), budget, created time;
- ``trials``: one row per asked architecture (see :data:`TRIAL_COLUMNS`);
  ``ask_seq``/``tell_seq`` order the searcher's asks and tells on one clock,
  so a resume can replay them exactly; ``parent`` (the parent trial's number),
  ``transformation`` and ``inherited`` (the fraction of its weights that came from the
  parent) carry the lineage a searcher passes (version 2; a version-1 file gains these
  columns, NULL, when opened for writing, and reads as if it had them when read-only);
- ``searcher_states(seq, state, created)``: ``state_dict()`` snapshots; a
  snapshot at ``seq`` holds every event with a smaller sequence number;
- ``lock``: the process that owns the study (:mod:`nasl.study.locking`).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time

from nasl.study import rows
from nasl.study.rows import STATES, StorageError  # noqa: F401 - re-exported
from nasl.study.sqlite_io import LockLost, Transaction, connect_readonly, guarded  # noqa: F401 - LockLost too
from nasl.study.storage_schema import LINEAGE_COLUMNS, SCHEMA_VERSION, TRIAL_COLUMNS, check_schema  # noqa: F401 - re-exported

def _set_wal(conn, patience: float = 30.0) -> None:
    """``journal_mode=WAL``, retried: a second process switching a new file's mode at the same instant gets
    ``database is locked`` at once (SQLite does not call its busy handler there), not after the timeout."""
    deadline = time.monotonic() + patience
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class Storage:
    """One study in one SQLite file (``None`` or ``":memory:"``: in memory).

    Parameters
    ----------
    path : str or None
        The file; created with the schema when missing (unless ``readonly``).
    readonly : bool
        Open for reading only (``mode=ro``; ``immutable=1`` when the folder is
        not writable, a read-only mount), for ``nasl study show|plot|export``:
        a file on a read-only mount, or one without write permission, reads.
    """

    def __init__(self, path: str | os.PathLike | None, *, readonly: bool = False):
        self.path = ":memory:" if path is None else os.fspath(path)
        self.readonly = readonly and self.path != ":memory:"
        self.objectives: dict | None = None     # known once the study row is read; complete trials are checked
        self.owner: tuple | None = None         # (pid, host) while a StudyLock holds the study: writes check it
        folder = os.path.dirname(os.path.abspath(self.path))
        if self.path != ":memory:" and not os.path.isdir(folder):
            raise StorageError(f"cannot create the study file '{self.path}': no folder '{folder}'")
        self.conn = None
        self.select = ", ".join(TRIAL_COLUMNS)     # a read-only version-1 file reads NULL lineage
        try:
            self._open(folder)
        except BaseException:
            # a file refused is closed at once, so a reader that goes on (a notebook, the fuzz test) holds no handle
            if self.conn is not None:
                self.conn.close()
            raise

    def _open(self, folder: str) -> None:
        try:
            if self.readonly:
                self.conn = connect_readonly(self.path, folder)
            else:
                # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per state change
                self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
                _set_wal(self.conn)
                self.conn.execute("PRAGMA synchronous=NORMAL")
            check_schema(self)
        except (sqlite3.Error, UnicodeDecodeError) as e:
            if not self.readonly and os.path.exists(self.path) and not (
                    os.access(self.path, os.W_OK) and os.access(folder, os.W_OK)):
                raise StorageError(f"cannot write to the study file '{self.path}': it or its folder is read-only "
                                   f"({rows.clean(str(e))}); nasl study show reads it; copy it to a writable "
                                   f"folder to continue it") from None
            raise rows.sqlite_error(self.path, e, opening=True) from None

    def transaction(self):
        return Transaction(self)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ study
    @guarded
    def load_study(self) -> dict | None:
        """The study row as a dict (JSON fields decoded), or None for an empty file."""
        cur = self.conn.execute("SELECT * FROM study WHERE id = 1")
        row = cur.fetchone()
        if row is None:
            return None
        d = rows.study(self.path, dict(zip([c[0] for c in cur.description], row)))
        self.objectives = d["objectives"]
        return d

    @guarded
    def create_study(self, *, space_source, space_file, params, ops, searcher, searcher_options, seed,
                     evaluator, objectives, budget) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO study VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (space_source, space_file, json.dumps(list(params)), json.dumps(list(ops)), searcher,
                 json.dumps(searcher_options), seed, json.dumps(evaluator),
                 json.dumps([[k, v] for k, v in objectives.items()]), int(budget), time.time()))
        self.objectives = dict(objectives)

    @guarded
    def meta(self, key: str, default=None):
        """A JSON value recorded in ``meta`` (``default`` when absent, as in files that predate it)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        try:
            return default if row is None else json.loads(row[0])
        except ValueError:
            raise StorageError(f"'{self.path}' has an unreadable meta value {key!r}: {row[0]!r}") from None

    @guarded
    def set_meta(self, values: dict) -> None:
        """Record JSON values in ``meta`` (settings kept without a schema change, e.g. the executor)."""
        with self.transaction():
            self.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                  [(k, json.dumps(v)) for k, v in values.items()])
    @guarded
    def set_budget(self, budget: int) -> None:
        with self.transaction():
            self.conn.execute("UPDATE study SET budget = ? WHERE id = 1", (int(budget),))

    # ------------------------------------------------------------ trials
    @guarded
    def add_trial(self, number: int, arch_json: str, arch_id: str, budget, seed: int, ask_seq: int, *,
                  parent: int | None = None, transformation: str | None = None) -> int:
        """Record an asked architecture as ``running`` (with its parent trial's number and the
        transformation that made it, where the searcher gave them); returns the trial id."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO trials (number, state, arch, arch_id, budget, seed, started, ask_seq, parent, "
                "transformation) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
                (number, arch_json, arch_id, budget, seed, time.time(), ask_seq, parent, transformation))
            return cur.lastrowid

    @guarded
    def restart_trial(self, trial_id: int) -> None:
        """A re-queued trial starts again (its earlier attempt was cut off)."""
        with self.transaction():
            self.conn.execute("UPDATE trials SET started = ?, attempts = attempts + 1 WHERE id = ?",
                              (time.time(), trial_id))

    @guarded
    def finish_trial(self, trial_id: int, state: str, *, metrics=None, curve=None, error=None,
                     duration=None, worker=None, tell_seq=None, inherited=None) -> None:
        """Record the outcome of a trial (and its place in the tell order) in one commit.

        ``inherited`` is the fraction of its weights that came from its parent, where the
        evaluator reports one."""
        if state not in STATES[1:]:
            raise ValueError(f"a finished trial is complete, failed or pruned, not {state!r}")
        with self.transaction():
            self.conn.execute(
                "UPDATE trials SET state = ?, metrics = ?, curve = ?, error = ?, finished = ?, duration = ?, "
                "worker = ?, tell_seq = ?, inherited = ? WHERE id = ?",
                (state, None if metrics is None else json.dumps(metrics), None if curve is None else json.dumps(curve),
                 error, time.time(), duration, worker, tell_seq, inherited, trial_id))

    @guarded
    def trials(self, where: str = "", args=()) -> list[dict]:
        """Trial rows as dicts ordered by number (JSON fields decoded, every field checked).

        Once the study row is loaded, a complete trial must have a finite
        value for every objective; a file where it has not is damaged.
        """
        cur = self.conn.execute(f"SELECT {self.select} FROM trials {where} ORDER BY number", args)
        return [rows.trial(self.path, dict(zip(TRIAL_COLUMNS, row)), self.objectives) for row in cur.fetchall()]

    @guarded
    def latest_complete(self, arch_id: str) -> int | None:
        """The number of the latest complete trial of an architecture, or None.

        A lineage child asks this for its parent on every ask; reading every matching row (a parent evaluated
        again and again) grew with the study (BENCHMARKS.md, section 61). Files made since have an index on
        ``arch_id``; in an older one this is still one query, without the index."""
        # the (arch_id, number) index, walked back from this architecture's newest row to its first complete one
        # (a parent may have been evaluated a thousand times: large_scale_evolution retrains); '+state' keeps
        # the planner off the state index, which would visit every complete trial
        row = self.conn.execute("SELECT number FROM trials WHERE arch_id = ? AND +state = 'complete' "
                                "ORDER BY number DESC LIMIT 1", (arch_id,)).fetchone()
        return None if row is None else row[0]

    @guarded
    def counts(self) -> dict:
        """``{state: number of trials}`` for every state."""
        out = dict.fromkeys(STATES, 0)
        for state, n in self.conn.execute("SELECT state, count(*) FROM trials GROUP BY state"):
            if state not in out:
                raise rows.damaged(self.path, f"{n} trial(s) have the unknown state {state!r:.40}")
            out[state] = n
        return out

    @guarded
    def check_numbering(self) -> None:
        """Trials are numbered 0..N-1 and each sequence number is used once, as the loop writes them.

        A gap (a deleted row) would make the next trial's number collide, and
        the searcher's replay skip an event; resuming refuses it up front.
        """
        n, top, asks, tells, told = self.conn.execute(
            "SELECT count(*), max(number), count(DISTINCT ask_seq), count(DISTINCT tell_seq), count(tell_seq) "
            "FROM trials").fetchone()
        if n and top != n - 1:
            have = {r[0] for r in self.conn.execute("SELECT number FROM trials")}
            gap = next((i for i in range(n) if i not in have), top)
            raise rows.damaged(self.path, f"it has {n} trials but no trial {gap} (trials are numbered 0 to N-1; "
                                          f"was a row deleted?); restore it from a copy")
        if asks != n or tells != told:
            raise rows.damaged(self.path, "two trials share an ask or tell sequence number")

    @guarded
    def last_seq(self) -> int:
        """The largest ask/tell sequence number used so far (-1 when none)."""
        row = self.conn.execute("SELECT max(max(ask_seq), coalesce(max(tell_seq), -1)) FROM trials").fetchone()
        if row[0] is not None and not isinstance(row[0], int):
            raise rows.damaged(self.path, f"a trial's sequence number is {row[0]!r:.40}")
        return -1 if row[0] is None else row[0]

    # ------------------------------------------------------------ searcher snapshots
    @guarded
    def save_searcher_state(self, seq: int, state: dict, keep_from: int | None = None,
                            strip: tuple | None = None) -> None:
        """Store a snapshot; delete those before ``keep_from`` (default ``seq``: all older ones).

        An incremental snapshot (:mod:`nasl.searchers.journal`) needs the
        older rows that hold its containers' earlier entries. ``strip`` is
        ``(seq, increments)``: the older row at that seq, if still kept, is
        replaced by its increments alone (:meth:`Journal.superseded`), in the
        same transaction, so only the newest row holds a whole state.
        """
        with self.transaction():
            if strip is not None and strip[0] < seq:
                self.conn.execute("UPDATE searcher_states SET state = ? WHERE seq = ?",
                                  (json.dumps(strip[1]), strip[0]))
            self.conn.execute("INSERT OR REPLACE INTO searcher_states VALUES (?, ?, ?)",
                              (seq, json.dumps(state), time.time()))
            self.conn.execute("DELETE FROM searcher_states WHERE seq < ?", (seq if keep_from is None else keep_from,))

    @guarded
    def searcher_states(self) -> list[tuple[int, dict]]:
        """Every stored snapshot as ``(seq, state)``, oldest first (each checked as read)."""
        return [rows.snapshot(self.path, seq, state)
                for seq, state in self.conn.execute("SELECT seq, state FROM searcher_states ORDER BY seq")]

    @guarded
    def last_searcher_state(self) -> tuple[int, dict] | None:
        row = self.conn.execute("SELECT seq, state FROM searcher_states ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else rows.snapshot(self.path, row[0], row[1])


def read_study_row(path) -> dict | None:
    """The study row of the file at ``path`` (None for a file with no study yet), through a read-only
    connection that is closed again, for callers that only ask what kind of study a file holds."""
    store = Storage(path, readonly=True)
    try:
        return store.load_study()
    finally:
        store.close()
