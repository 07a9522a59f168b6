"""One process at a time runs a study: the ``lock`` row of its file.

A process that runs the search writes its pid, host name and a heartbeat
into the ``lock`` row, and refreshes the heartbeat every
:data:`HEARTBEAT_S` seconds from a daemon thread. Another process that opens
the same study for searching is refused with the owner's pid, unless the
owner is gone:

- on the same host, when no process with that pid is alive (a zombie counts
  as dead);
- on another host (a shared file system), when the heartbeat is older than
  :data:`STALE_S` seconds.

Reading a study (``nasl study show``) takes no lock: WAL lets readers in
while the owner writes.
"""
from __future__ import annotations

import os
import socket
import threading
import time

from nasl.study.storage import Storage, StorageError

HEARTBEAT_S = 5.0
STALE_S = 60.0


class StudyLocked(StorageError):
    """Another live process is running this study."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (zombies do not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            # the state letter follows the parenthesised command name
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class StudyLock:
    """Own the study in ``storage`` until :meth:`release`.

    Raises
    ------
    StudyLocked
        When a live process owns it.
    """

    def __init__(self, storage: Storage):
        self.storage = storage
        self.pid, self.host = os.getpid(), socket.gethostname()
        self.took_over: tuple | None = None          # (pid, host) of a dead owner we replaced
        self._stop = threading.Event()
        self._thread = None
        self._acquire()
        if storage.path != ":memory:":
            self._thread = threading.Thread(target=self._beat, name="nasl-study-heartbeat", daemon=True)
            self._thread.start()

    def _acquire(self) -> None:
        now = time.time()
        with self.storage.transaction() as c:
            row = c.execute("SELECT pid, host, started, heartbeat FROM lock WHERE id = 1").fetchone()
            if row is not None:
                pid, host, started, beat = row
                mine = pid == self.pid and host == self.host
                alive = pid_alive(pid) if host == self.host else now - beat < STALE_S
                if alive and not mine:
                    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started))
                    raise StudyLocked(
                        f"the study '{self.storage.path}' is in use by process {pid} on {host} (since {since}); "
                        f"stop that process or wait for it to finish")
                if not mine:
                    self.took_over = (pid, host)
            c.execute("INSERT OR REPLACE INTO lock VALUES (1, ?, ?, ?, ?)", (self.pid, self.host, now, now))

    def _beat(self) -> None:
        import sqlite3
        try:
            conn = sqlite3.connect(self.storage.path, isolation_level=None, timeout=30.0)
        except sqlite3.Error:
            return
        try:
            while not self._stop.wait(HEARTBEAT_S):
                try:
                    conn.execute("UPDATE lock SET heartbeat = ? WHERE id = 1 AND pid = ? AND host = ?",
                                 (time.time(), self.pid, self.host))
                except sqlite3.Error:
                    pass       # a busy file: the next beat will do
        finally:
            conn.close()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * HEARTBEAT_S)
        try:
            conn = self.storage.conn
            if conn.in_transaction:
                # A Ctrl-C that lands between a transaction's BEGIN and the block that would end it
                # leaves it open (seen under load); its writes were never committed, so roll them
                # back rather than fail to BEGIN here and keep the lock.
                conn.execute("ROLLBACK")
            with self.storage.transaction() as c:
                c.execute("DELETE FROM lock WHERE id = 1 AND pid = ? AND host = ?", (self.pid, self.host))
        except Exception:  # noqa: BLE001 - releasing must never mask the error that ends a search
            pass
