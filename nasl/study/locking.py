"""One process at a time runs a study: the ``lock`` row of its file.

A process that runs the search writes its pid, host name, the time it took
the lock and a heartbeat into the ``lock`` row, and refreshes the heartbeat
every :data:`HEARTBEAT_S` seconds from a daemon thread. Another process
that opens the same study for searching is refused with the owner's pid,
unless the owner is gone:

- its heartbeat is older than :data:`STALE_S` seconds (any host);
- on the same host, no process with that pid is alive (a zombie counts as
  dead), or the process with that pid started after the lock was taken: the
  pid was reused (after a reboot, or pid 1 of a new container), so it is
  not the owner, whatever it is.

``force=True`` (``nasl search --force``) takes the study over in any case,
with a warning. Whoever is taken over stops at its next write, because
every write checks the lock row (:class:`~nasl.study.storage.LockLost`).

Reading a study (``nasl study show``) takes no lock: WAL lets readers in
while the owner writes.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time

from nasl.study.rows import clean, sqlite_error
from nasl.study.storage import Storage, StorageError

HEARTBEAT_S = 5.0
STALE_S = 60.0
# /proc gives a start time to 1/100 s, from a boot time rounded to the second; a process that started
# this long after the lock was taken is surely another one
_START_SLACK_S = 2.0


class StudyLocked(StorageError):
    """Another live process is running this study."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host (zombies do not count)."""
    if not isinstance(pid, int) or pid <= 0:
        return False        # 0 and -1 would signal a process group, not a process
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            # the state letter follows the parenthesised command name
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_start(pid: int) -> float | None:
    """When process ``pid`` started, in ``time.time()`` seconds; None where /proc cannot tell (not Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # field 22, starttime, in clock ticks since boot; fields count from 3 after the ')' of the name
            ticks = int(f.read().rpartition(")")[2].split()[19])
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def owner_gone(pid, host, started, beat, *, here: str, now: float) -> str | None:
    """Why the lock's owner no longer runs the study, or None while it may (see the module docstring)."""
    if now - beat > STALE_S:
        return f"its last heartbeat was {_ago(now - beat)} ago"
    if host != here:
        return None
    if not pid_alive(pid):
        return "no such process runs any more"
    start = process_start(pid)
    if start is not None and start > started + _START_SLACK_S:
        return ("a process with that pid runs, but it started after the lock was taken, so the pid was reused "
                "(a reboot, or a new container)")
    return None


class StudyLock:
    """Own the study in ``storage`` until :meth:`release`.

    Parameters
    ----------
    storage : Storage
    force : bool
        Take the study over even from an owner that looks alive (a warning
        is printed); that owner stops at its next write.

    Raises
    ------
    StudyLocked
        When a live process owns it (and not ``force``).
    """

    def __init__(self, storage: Storage, *, force: bool = False):
        self.storage = storage
        self.pid, self.host = os.getpid(), socket.gethostname()
        self.took_over: tuple | None = None          # (pid, host) of the owner we replaced
        self.note: str | None = None                 # what to tell the user about it
        self._stop = threading.Event()
        self._thread = None
        self._acquire(force)
        storage.owner = (self.pid, self.host)
        if storage.path != ":memory:":
            self._thread = threading.Thread(target=self._beat, name="nasl-study-heartbeat", daemon=True)
            self._thread.start()

    def _acquire(self, force: bool) -> None:
        now = time.time()
        try:
            with self.storage.transaction() as c:
                row = c.execute("SELECT pid, host, started, heartbeat FROM lock WHERE id = 1").fetchone()
                if row is not None and (row[0], row[1]) != (self.pid, self.host):
                    self._judge(row, now, force)
                c.execute("INSERT OR REPLACE INTO lock VALUES (1, ?, ?, ?, ?)", (self.pid, self.host, now, now))
        except (sqlite3.Error, UnicodeDecodeError) as e:
            raise sqlite_error(self.storage.path, e) from None

    def _judge(self, row, now: float, force: bool) -> None:
        pid, host, started, beat = row
        host = clean(str(host), 80)                        # shown in messages; the row may be damaged
        if not isinstance(pid, int) or pid <= 0 or not all(isinstance(v, (int, float)) for v in (started, beat)):
            why = "its lock row is damaged"                 # nobody can own the study through it
        else:
            why = owner_gone(pid, host, started, beat, here=self.host, now=now)
        self.took_over = (pid, host)
        if why is not None:
            self.note = f"note: taking over the study from process {pid} on {host}: {why}"
            return
        age = _ago(now - beat)
        if force:
            self.note = (f"warning: --force: taking over the study from process {pid} on {host}, whose last "
                         f"heartbeat was {age} ago; if it still runs this study, it stops at its next write")
            return
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started))
        raise StudyLocked(
            f"the study '{self.storage.path}' is in use by process {pid} on {host} (since {since}, last heartbeat "
            f"{age} ago); stop that process or wait for it to finish (if it is not running this study, "
            f"--force or force=True takes it over)")

    def _beat(self) -> None:
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
        self.storage.owner = None
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
