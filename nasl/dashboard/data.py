"""Read-only access to a study file, for the dashboard.

The dashboard must never write to a study, even by accident, and never hold
up the process that is searching. So the file is opened through SQLite's
``mode=ro`` URI (every write is refused by SQLite itself), every endpoint
reads inside one short ``BEGIN`` ... ``COMMIT`` (a consistent snapshot that
a WAL-mode writer does not wait for), and nothing here uses
:class:`nasl.study.storage.Storage`, whose constructor creates the schema.

A folder that is not writable cannot hold the ``-shm`` file that WAL
readers share; there the file is opened with ``immutable=1`` instead (no
live updates then, since SQLite assumes nobody writes).
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import urllib.parse

from nasl.ir.errors import NaslError
from nasl.study.storage import LINEAGE_COLUMNS, SCHEMA_VERSION, STATES, TRIAL_COLUMNS

# The table a one-shot (weight-sharing) run writes, one row per epoch (issue 11).
# ``alphas``: JSON {choice path: {option: probability}}; ``derived``: the
# architecture JSON derived at that epoch (argmax); ``metrics``: JSON or NULL.
ONESHOT_TABLE = "oneshot_epochs"


# When a trial last changed: it started (or restarted), or it finished.
_CHANGED = "max(coalesce(started, 0), coalesce(finished, 0))"


class DashboardError(NaslError):
    """The dashboard cannot serve this file (missing, not a study) or this address."""


def readonly_uri(path: str) -> str:
    """The ``file:`` URI that opens ``path`` read-only (``immutable`` where no ``-shm`` can be made)."""
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    if not _writable(os.path.dirname(os.path.abspath(path))) and not os.path.exists(path + "-shm"):
        uri += "&immutable=1"        # no -shm can be made beside it; read the file as it is
    return uri


def _writable(folder: str) -> bool:
    return os.access(folder, os.W_OK)


def connect_readonly(path: str) -> sqlite3.Connection:
    """An SQLite connection that cannot write ``path``; DashboardError when it cannot be read."""
    uri = readonly_uri(path)
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=5.0)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        raise DashboardError(f"'{path}' is not a nasl study file ({e})") from None
    return conn


class StudyData:
    """The study in ``path``, read on demand (every call sees the latest commits).

    One connection is shared by the server's threads behind a lock: each
    read is a few milliseconds, and one connection keeps one ``-shm`` mapping.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise DashboardError(f"no study file at '{self.path}'")
        if os.path.isdir(self.path):
            raise DashboardError(f"'{self.path}' is a folder, not a study file")
        self.uri = readonly_uri(self.path)
        self.conn = connect_readonly(self.path)
        self._lock = threading.Lock()
        self.study = self._check()

    # ------------------------------------------------------------ reading
    def _read(self, fn):
        """``fn(conn)`` inside one short read transaction."""
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                return fn(self.conn)
            finally:
                self.conn.execute("COMMIT")

    def _check(self) -> dict:
        def read(c):
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "meta" not in tables or "study" not in tables or "trials" not in tables:
                raise DashboardError(f"'{self.path}' is an SQLite file but not a nasl study "
                                     f"(it has no 'meta', 'study' and 'trials' tables)")
            row = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None or not str(row[0]).isdigit() or not 1 <= int(row[0]) <= SCHEMA_VERSION:
                raise DashboardError(f"'{self.path}' has study schema version {row and row[0]}; this nasl "
                                     f"reads versions 1 to {SCHEMA_VERSION}")
            # a version-1 file (read-only here, so not migrated) has no lineage columns: they read NULL
            have = {r[1] for r in c.execute("PRAGMA table_info(trials)")}
            self.select = ", ".join(col if col in have or col not in LINEAGE_COLUMNS else f"NULL AS {col}"
                                    for col in TRIAL_COLUMNS)
            self.has_lineage_columns = all(col in have for col in LINEAGE_COLUMNS)
            cur = c.execute("SELECT * FROM study WHERE id = 1")
            study = cur.fetchone()
            if study is None:
                raise DashboardError(f"'{self.path}' holds no study yet")
            return dict(zip([d[0] for d in cur.description], study))
        try:
            d = self._read(read)
        except sqlite3.DatabaseError as e:
            raise DashboardError(f"'{self.path}' is not a nasl study file ({e})") from None
        for k in ("params", "ops", "searcher_options", "evaluator", "objectives"):
            d[k] = json.loads(d[k])
        return d

    @property
    def objectives(self) -> list:
        """``[[name, "max"|"min"], ...]``, the primary one first."""
        return self.study["objectives"]

    def summary(self) -> dict:
        """The study's settings and progress, with a ``stamp`` that changes when anything changes."""
        def read(c):
            counts = dict.fromkeys(STATES, 0)
            counts.update(c.execute("SELECT state, count(*) FROM trials GROUP BY state").fetchall())
            budget = c.execute("SELECT budget FROM study WHERE id = 1").fetchone()[0]
            last = c.execute(f"SELECT max({_CHANGED}), max(attempts), count(*) FROM trials").fetchone()
            lineage = self.has_lineage_columns and c.execute(
                "SELECT 1 FROM trials WHERE parent IS NOT NULL LIMIT 1").fetchone() is not None
            return counts, budget, last, self._has_oneshot(c), lineage
        counts, budget, last, oneshot, lineage = self._read(read)
        s = self.study
        return {"path": self.path, "space_file": s["space_file"], "searcher": s["searcher"],
                "searcher_options": s["searcher_options"], "seed": s["seed"],
                "evaluator": s["evaluator"].get("spec") or s["evaluator"].get("repr"),
                "objectives": self.objectives, "budget": budget, "counts": counts,
                "done": counts["complete"] + counts["failed"] + counts["pruned"],
                "created": s["created"], "updated": last[0], "oneshot": oneshot, "lineage": lineage,
                "stamp": f"{last[2]}:{counts['running']}:{last[0]}:{last[1]}:{budget}"}

    def trials(self, state: str | None = None, since: float | None = None) -> list[dict]:
        """Every trial (or those in ``state``), by number, with decoded JSON fields.

        ``since`` (a summary's ``updated``) keeps the trials that started or
        finished at or after it: a page that has the rest reloads only those.
        """
        if state is not None and state not in STATES:
            raise DashboardError(f"unknown trial state '{state}'; states: {', '.join(STATES)}")
        where, args = [], []
        if state:
            where.append("state = ?")
            args.append(state)
        if since is not None:
            where.append(f"{_CHANGED} >= ?")
            args.append(float(since))
        sql = f"SELECT {self.select} FROM trials {'WHERE ' + ' AND '.join(where) if where else ''}"
        rows = self._read(lambda c: c.execute(sql + " ORDER BY number", args).fetchall())
        return [_decode(dict(zip(TRIAL_COLUMNS, r))) for r in rows]

    def trial(self, number: int) -> dict:
        rows = self._read(lambda c: c.execute(
            f"SELECT {self.select} FROM trials WHERE number = ?", (number,)).fetchall())
        if not rows:
            raise DashboardError(f"the study has no trial {number}")
        return _decode(dict(zip(TRIAL_COLUMNS, rows[0])))

    def best_so_far(self) -> dict:
        """Per objective: every complete trial's value and the best up to it, in trial order."""
        done = self._complete_metrics()
        out = {}
        for name, direction in self.objectives:
            sign, best, points = (1.0 if direction == "max" else -1.0), None, []
            for number, metrics in done:
                v = metrics.get(name)
                if v is None:
                    continue
                if best is None or sign * v > sign * best:
                    best = v
                points.append([number, v, best])
            out[name] = {"direction": direction, "points": points}
        return out

    def pareto(self, x: str | None = None, y: str | None = None) -> dict:
        """The complete trials on objectives ``x`` and ``y`` (default: the first two), and their front."""
        names = [n for n, _ in self.objectives]
        directions = dict(self.objectives)
        x, y = x or names[0], y or (names[1] if len(names) > 1 else names[0])
        for n in (x, y):
            if n not in directions:
                raise DashboardError(f"the study has no objective '{n}'; its objectives: {', '.join(names)}")
        done = [(n, m[x], m[y]) for n, m in self._complete_metrics() if x in m and y in m]
        front = front_2d([(a, b) for _, a, b in done], [directions[x], directions[y]])
        return {"x": x, "y": y, "directions": [directions[x], directions[y]],
                "points": [list(p) for p in done], "front": sorted(done[i][0] for i in front)}

    def _complete_metrics(self) -> list[tuple[int, dict]]:
        """``(number, metrics)`` of the complete trials: the plots need no more (decoding archs costs)."""
        rows = self._read(lambda c: c.execute(
            "SELECT number, metrics FROM trials WHERE state = 'complete' ORDER BY number").fetchall())
        return [(n, json.loads(m)) for n, m in rows]

    # ------------------------------------------------------------ one-shot
    @staticmethod
    def _has_oneshot(c) -> bool:
        return c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                         (ONESHOT_TABLE,)).fetchone() is not None

    def oneshot(self) -> dict:
        """A one-shot run's per-epoch alpha probabilities and derived architectures (empty when none)."""
        def read(c):
            if not self._has_oneshot(c):
                return None
            return c.execute(f"SELECT epoch, alphas, derived, metrics FROM {ONESHOT_TABLE} ORDER BY epoch").fetchall()
        rows = self._read(read)
        if rows is None:
            return {"available": False, "epochs": []}
        epochs = [{"epoch": e, "alphas": json.loads(a), "derived": None if d is None else json.loads(d),
                   "metrics": None if m is None else json.loads(m)} for e, a, d, m in rows]
        return {"available": True, "epochs": epochs}

    def lineage(self) -> dict:
        """The lineage tree (:func:`nasl.study.lineage.tree`); ``available: false`` when no trial has a parent."""
        from nasl.study.lineage_tree import has_lineage, tree
        trials = self.trials()
        if not has_lineage(trials):
            return {"available": False}
        t = tree(trials)
        nodes = {str(n): {k: d[k] for k in ("number", "parent", "transformation", "inherited", "state")}
                 for n, d in t["nodes"].items()}
        return {"available": True, "roots": t["roots"], "nodes": nodes,
                "children": {str(k): v for k, v in t["children"].items()}}

    def close(self) -> None:
        self.conn.close()


def front_2d(points, directions) -> list[int]:
    """What :func:`nasl.study.pareto_front` gives for two objectives, in O(n log n), not O(n^2).

    The page asks for the front every time a trial finishes; at 10,000
    trials the quadratic scan takes seconds. Sweep the points by the first
    objective, best first: a point is dominated when an earlier group (better
    first objective) reached its second objective, or its own group beat it.
    Of identical non-dominated points only the first is kept, as there.
    """
    sx, sy = (1.0 if d == "max" else -1.0 for d in directions)
    order = sorted(range(len(points)), key=lambda i: (-sx * points[i][0], -sy * points[i][1], i))
    front, best_y, k = [], None, 0
    while k < len(order):
        x = sx * points[order[k]][0]
        group_y = sy * points[order[k]][1]            # the group's best second objective comes first
        if best_y is None or group_y > best_y:
            front.append(order[k])                    # the first of the group's identical best points
        while k < len(order) and sx * points[order[k]][0] == x:
            k += 1
        best_y = group_y if best_y is None else max(best_y, group_y)
    return sorted(front)


def _decode(d: dict) -> dict:
    for k in ("metrics", "curve"):
        d[k] = None if d[k] is None else json.loads(d[k])
    d["arch"] = json.loads(d["arch"])
    del d["ask_seq"], d["tell_seq"]
    return d
