"""Fuzzing the study-file reader: damaged copies of a valid study read to success or a one-line NaslError.

See :mod:`tests.study.study_fuzz` for the target; ``benchmarks/fuzz_study_file.py``
runs it for longer (2,000 copies take about a minute).
"""
from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.study.study_fuzz import ODD_VALUES, base_study, damage, fast_tmpdir, read_everything, set_values

_COPIES = itertools.count()


@pytest.fixture(scope="module")
def base():
    with fast_tmpdir() as tmp:
        yield base_study(os.path.join(tmp, "base.db")), tmp


def _copy_path(tmp) -> str:
    return os.path.join(tmp, f"copy{next(_COPIES)}.db")


def test_the_undamaged_study_reads(base):
    path, _ = base
    assert read_everything(path) == "ok"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(st.tuples(st.integers(0, 2 ** 20), st.binary(min_size=1, max_size=16)), min_size=1,
                       max_size=8))
def test_random_bytes_give_success_or_one_line_errors(base, writes):
    path, tmp = base
    copy = damage(path, _copy_path(tmp), writes)
    try:
        read_everything(copy)
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{copy}{suffix}"):
                os.remove(f"{copy}{suffix}")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_odd_values_in_any_cell_give_success_or_one_line_errors(base, data):
    import sqlite3
    path, tmp = base
    with sqlite3.connect(path) as c:
        cells = [(t, col, rowid) for t in ("meta", "study", "trials", "searcher_states")
                 for col in [r[1] for r in c.execute(f"PRAGMA table_info({t})")]
                 for (rowid,) in c.execute(f"SELECT rowid FROM {t}")]
    c.close()
    edits = data.draw(st.lists(st.tuples(st.sampled_from(cells), st.sampled_from(ODD_VALUES) | st.integers(-3, 30)),
                               min_size=1, max_size=4))
    copy = set_values(path, _copy_path(tmp), [(t, col, rowid, v) for (t, col, rowid), v in edits])
    try:
        read_everything(copy)
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{copy}{suffix}"):
                os.remove(f"{copy}{suffix}")
