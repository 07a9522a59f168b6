"""Run a search in a child process and SIGKILL it once enough children (trials with a parent) are complete."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time


def search_then_kill(code: str, db, root: str, children: int, budget: int) -> None:
    """Run ``code`` (a ``nasl.search`` into ``db``) in a child Python, kill it with SIGKILL after ``children``
    complete child trials, and check it died part-way (fewer than ``budget`` complete trials)."""
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=root, env=dict(os.environ, PYTHONPATH=root),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with sqlite3.connect(db, timeout=5) as c:
                    if c.execute("SELECT count(*) FROM trials WHERE state='complete' AND parent IS NOT NULL"
                                 ).fetchone()[0] >= children:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM trials WHERE state='complete'").fetchone()[0] < budget
