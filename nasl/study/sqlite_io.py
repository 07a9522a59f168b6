"""How nasl talks to a study's SQLite file: read-only connections, fenced transactions, errors by name.

:class:`~nasl.study.storage.Storage` uses these three pieces; they hold no
knowledge of the schema.
"""
from __future__ import annotations

import functools
import os
import sqlite3
import urllib.parse

from nasl.study import rows
from nasl.study.rows import StorageError


class LockLost(StorageError):
    """Another process took the study over (its owner looked stale, or ``force=True``); this one must stop."""


def guarded(method):
    """SQLite errors inside ``method`` become one-line :class:`StorageError` s that name the file."""
    @functools.wraps(method)
    def wrapper(self, *args, **kw):
        try:
            return method(self, *args, **kw)
        except (sqlite3.Error, UnicodeDecodeError) as e:
            raise rows.sqlite_error(self.path, e) from None
    return wrapper


def connect_readonly(path: str, folder: str) -> sqlite3.Connection:
    """A connection that cannot write the study (it may create SQLite's ``-wal`` and ``-shm`` beside it).

    ``mode=ro`` reads a WAL-mode file, while another process writes it too,
    when its ``-shm`` index exists or can be created. In a folder that is not
    writable (a read-only mount) and without one, SQLite cannot open it; then
    ``immutable=1`` reads the main file as it is, which holds everything
    unless a ``-wal`` log is there (nothing can write it there anyway).
    """
    if not os.path.exists(path):
        raise StorageError(f"no study file at '{path}'")
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except BaseException as e:
        conn.close()
        if not isinstance(e, sqlite3.OperationalError) or "unable to open" not in str(e) \
                or os.access(folder, os.W_OK):
            raise
    wal = path + "-wal"
    if os.path.exists(wal) and os.path.getsize(wal) > 0:
        raise StorageError(f"cannot read '{path}' in a read-only folder: its last commits are in '{wal}', which "
                           f"SQLite reads only with its '-shm' index; copy both files to a writable folder")
    return sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None, check_same_thread=False)


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error).

    While a lock owns the storage, every transaction first checks that the
    ``lock`` row still names it: a process whose study was taken over (it
    was stopped past the stale limit, or another used ``force``) stops at its
    next write instead of writing beside the new owner.
    """

    def __init__(self, storage):
        self.storage, self.conn = storage, storage.conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        owner = self.storage.owner
        if owner is not None:
            row = self.conn.execute("SELECT pid, host FROM lock WHERE id = 1").fetchone()
            if row is None or tuple(row) != owner:
                self.conn.execute("ROLLBACK")
                who = "another process" if row is None else f"process {row[0]} on {row[1]}"
                raise LockLost(f"the study '{self.storage.path}' was taken over by {who} while this one ran it "
                               f"(this process was stopped, or the other used --force); stopping here, with "
                               f"every trial finished so far kept")
        return self.conn

    def __exit__(self, kind, value, tb):
        if kind is None:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error:
                # a COMMIT that fails (disk full) can leave the transaction open; end it, so the next BEGIN works
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        return False
