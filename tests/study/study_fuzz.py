"""A fuzz target for the study-file reader: random bytes (or odd values) written into a valid study file.

:func:`base_study` records a small study with complete, failed and running
trials, two objectives and a searcher snapshot. :func:`damage` writes
random bytes at random offsets of a copy; :func:`set_values` puts odd
values (wrong SQL types, JSON of the wrong shape) into random cells, which
random bytes rarely reach since they seldom leave valid UTF-8. :func:`read_everything` then
reads the copy every way nasl does: the reports of ``nasl study show``
(in-process, through the CLI) and of the :class:`~nasl.study.Study` API,
and what ``--resume`` reads before it searches. Its only allowed outcomes
are success or a one-line :class:`~nasl.NaslError`; anything else (another
exception, a multi-line message, exit status 3) is a finding.

``benchmarks/fuzz_study_file.py`` runs it for longer; the test runs a
bounded number of hypothesis examples.
"""
from __future__ import annotations

import contextlib
import io
import os
import pathlib
import random
import shutil
import tempfile

import nasl
from nasl.study import SearchInterrupted

SPACE = """
input x: [3, 8, 8]
let width = choice(4, 8, 16)
network {
    return x >> conv(width, k=choice(1, 3, 5)) >> relu >> conv(choice(4, 8), k=choice(1, 3)) >> global_avg_pool
             >> linear(2)
}
"""


class Scores:
    """Two objectives; trial 3 fails, trial 9 is cut off by Ctrl-C (left ``running``)."""

    directions = {"score": "max", "cost": "min"}

    def __call__(self, request):
        if request.number == 3:
            raise RuntimeError("trial 3 failed on purpose")
        if request.number == 9:
            raise KeyboardInterrupt
        a = request.arch
        score = sum(len(str(v)) * (i + 1) for i, v in enumerate(a.values())) + request.number / 100
        return {"score": float(score), "cost": float(len(str(sorted(a.items()))) % 7), "note": "x" * request.number}


def fast_tmpdir() -> tempfile.TemporaryDirectory:
    """A temporary folder in memory (/dev/shm) where there is one: a commit there costs ~0.1 ms, not ~4 ms of disk."""
    shm = "/dev/shm"
    return tempfile.TemporaryDirectory(dir=shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None)


def base_study(path) -> pathlib.Path:
    """A study file with 9 finished trials (one failed), one running trial and a snapshot."""
    path = pathlib.Path(path)
    try:
        nasl.search(SPACE, searcher="random", evaluator=Scores(), budget=12, storage=path, seed=7, progress=False,
                    snapshot_every=4)
    except SearchInterrupted as e:
        e.study.close()
    for suffix in ("-wal", "-shm"):
        assert not os.path.exists(f"{path}{suffix}"), "the study was not closed cleanly"
    return path


def damage(base, out, writes) -> pathlib.Path:
    """A copy of ``base`` with each ``(offset, bytes)`` of ``writes`` written over it (offsets wrap)."""
    shutil.copyfile(base, out)
    size = os.path.getsize(out)
    with open(out, "r+b") as f:
        for offset, data in writes:
            f.seek(offset % size)
            f.write(data)
    return pathlib.Path(out)


def random_writes(rng: random.Random, size: int) -> list:
    """1 to 8 runs of 1 to 16 random bytes, at uniform offsets or inside the 100-byte header."""
    out = []
    for _ in range(rng.randint(1, 8)):
        offset = rng.randrange(100) if rng.random() < 0.1 else rng.randrange(size)
        out.append((offset, bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))))
    return out


# values that fit no column, or fit the wrong one: wrong SQL types, JSON of the wrong shape, extremes
ODD_VALUES = [None, 0, -1, 1, 2 ** 63 - 1, -2 ** 63, 1e308, -0.0, 0.5, "", "x", "null", "[]", "{}", "[1, 2]",
              '{"a": {"b": 1}}', '[["score", "up"]]', '[["score", "max"], ["score", "min"]]', '"running"',
              "complete", "failed", "NaN", '{"score": NaN, "cost": 1}', '{"score": "9", "cost": 1}',
              '{"score": 1e999, "cost": 1}', "[" * 5000 + "]" * 5000, "1" * 5000, b"\x00\xff", "\u2028", "\n\n"]


def random_values(rng: random.Random, path) -> list:
    """1 to 4 ``(table, column, rowid, value)`` edits of the study at ``path`` (for :func:`set_values`)."""
    import sqlite3
    with contextlib.closing(sqlite3.connect(path)) as c:
        tables = {t: [r[1] for r in c.execute(f"PRAGMA table_info({t})")]
                  for t in ("meta", "study", "trials", "searcher_states")}
        rowids = {t: [r[0] for r in c.execute(f"SELECT rowid FROM {t}")] for t in tables}
    out = []
    for _ in range(rng.randint(1, 4)):
        table = rng.choice(sorted(tables))
        value = rng.choice(ODD_VALUES) if rng.random() < 0.8 else rng.randrange(-3, 30)
        out.append((table, rng.choice(tables[table]), rng.choice(rowids[table]), value))
    return out


def set_values(base, out, edits) -> pathlib.Path:
    """A copy of ``base`` with each edit of :func:`random_values` made (one that SQLite refuses is skipped)."""
    import sqlite3
    shutil.copyfile(base, out)
    with contextlib.closing(sqlite3.connect(out, isolation_level=None)) as c:
        c.execute("PRAGMA ignore_check_constraints = ON")
        for table, column, rowid, value in edits:
            try:
                c.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, rowid))
            except sqlite3.IntegrityError:          # NOT NULL, UNIQUE: the file cannot hold it
                pass
    for suffix in ("-wal", "-shm"):
        assert not os.path.exists(f"{out}{suffix}")
    return pathlib.Path(out)


def read_everything(path) -> str:
    """Read ``path`` as every reader does; returns ``"ok"`` or the one-line NaslError.

    Raises AssertionError (or the unexpected exception itself) on anything else.
    """
    from nasl.cli import main
    from nasl.study.storage import Storage
    from nasl.study.study import Study
    message = None
    try:
        study = Study.load(path)
        try:
            study.trials, study.counts(), study.top(3), study.pareto_front(), study.best_so_far(), repr(study)
            if study.completed():
                study.best("cost")
        finally:
            study.close()
        store = Storage(path)            # the resume path opens it for writing, then reads before it searches
        try:
            store.load_study()
            store.check_numbering(), store.last_searcher_state(), store.last_seq(), store.counts()
            store.trials("WHERE state = 'complete'"), store.trials("WHERE state = 'running'")
        finally:
            store.close()
    except nasl.NaslError as e:
        message = str(e)
        assert "\n" not in message, f"a multi-line error: {message!r}"
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["study", "show", str(path), "--top", "3"])
    assert code in (0, 1), f"nasl study show exited {code}: {err.getvalue()}"
    assert code == 0 or len(err.getvalue().strip().splitlines()) == 1, err.getvalue()
    return "ok" if message is None else message
