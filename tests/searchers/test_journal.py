"""Incremental searcher snapshots (nasl.searchers.journal): exact, and O(new trials) in size.

A study snapshots its searcher every ``snapshot_every`` trials. Writing the
whole history-sized state each time made a 10,000-trial random search
quadratic (issue 13); these tests would have caught it.
"""
from __future__ import annotations

import copy
import json
import pickle

import pytest

import nasl
from nasl.ir.errors import NaslError
from nasl.searchers import create, list_searchers
from nasl.searchers.journal import _SAVING, ARCH, ArchSet, Journal, Log, LogDict
from tests.searchers.test_protocol import EXAMPLES, drive, make, space

NB201 = EXAMPLES / "nas_bench_201.nas"


def snapshot(journal, searcher, seq, rows):
    """What the study loop does: an increment, stored (here: JSON in a list), then committed."""
    state = json.loads(json.dumps(journal.state_dict(searcher)))
    keep_from = journal.oldest_needed(seq)
    rows[:] = [r for r in rows if r[0] >= keep_from] + [(seq, state)]
    journal.commit(seq)
    return state


# the learning searchers take seconds per hundred asks on DARTS
SLOW = {"reinforce", "optuna", "bananas"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in list_searchers()])
def test_an_increment_does_not_grow_with_the_history(name):
    s = make(name, space("darts"))
    j, rows = Journal(), []
    drive(s, 12)
    snapshot(j, s, 0, rows)
    drive(s, 8)
    early = len(json.dumps(snapshot(j, s, 1, rows)))
    full_early = len(json.dumps(s.state_dict()))
    drive(s, 100)
    snapshot(j, s, 2, rows)
    drive(s, 8)
    late = len(json.dumps(snapshot(j, s, 3, rows)))
    full_late = len(json.dumps(s.state_dict()))
    # 8 new trials cost about the same to store after 20 or after 128 trials, however much the whole state grew
    # (what varies is the phase of a bracket or a generation, not the history)
    assert late - early <= 0.1 * (full_late - full_early) + 1500, (early, late, full_early, full_late)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in list_searchers()])
def test_a_chain_of_increments_restores_the_searcher_exactly(name):
    sp = space("nb201")
    s = make(name, sp, seed=5)
    j, rows = Journal(), []
    for k in range(4):
        drive(s, 12, fail_every=5, lag=1)
        snapshot(j, s, k, rows)
    fresh = make(name, sp, seed=5)
    Journal(rows).load(fresh, rows[-1][1])
    assert json.dumps(fresh.state_dict()) == json.dumps(s.state_dict())
    assert drive(fresh, 15, lag=1) == drive(s, 15, lag=1)


def test_the_study_stores_increments_and_resumes_exactly(tmp_path):
    """Random search to 600 trials: the last snapshot row is as small as an early one, and resume is exact."""
    kw = dict(searcher="random", evaluator="python:tests.searchers.test_journal:fake", seed=1, progress=False,
              snapshot_every=100)
    whole = nasl.search(NB201, budget=600, storage=tmp_path / "whole.db", **kw)
    sizes = [n for _, n in whole.storage.conn.execute("SELECT seq, length(state) FROM searcher_states ORDER BY seq")]
    assert len(sizes) == 6                # the chain: every increment is kept (the final one adds none), each about as small
    assert max(sizes[2:]) < 2 * sizes[1]
    expected = [(t.number, t.arch_id) for t in whole.trials]
    nasl.search(NB201, budget=250, storage=tmp_path / "cut.db", **kw).close()
    resumed = nasl.search(storage=tmp_path / "cut.db", budget=600, resume=True, progress=False,
                          evaluator="python:tests.searchers.test_journal:fake", snapshot_every=100)
    assert [(t.number, t.arch_id) for t in resumed.trials] == expected


def test_a_final_snapshot_at_a_stored_seq_keeps_the_row(tmp_path):
    """A run that ends on a periodic snapshot, or resumes with nothing to do, must not overwrite that row."""
    kw = dict(evaluator="python:tests.searchers.test_journal:fake", progress=False, snapshot_every=100)
    expected = [t.arch_id for t in nasl.search(NB201, searcher="random", budget=300, **kw).trials]
    db = tmp_path / "s.db"
    nasl.search(NB201, searcher="random", budget=200, storage=db, **kw).close()   # ends at a snapshot
    nasl.search(storage=db, budget=200, resume=True, **kw).close()                 # nothing to run
    assert [t.arch_id for t in nasl.search(storage=db, budget=300, resume=True, **kw).trials] == expected


def test_a_missing_row_of_the_chain_is_a_clear_error(tmp_path):
    db = tmp_path / "s.db"
    kw = dict(searcher="random", evaluator="python:tests.searchers.test_journal:fake", progress=False,
              snapshot_every=50)
    nasl.search(NB201, budget=200, storage=db, **kw).close()
    from nasl.study.storage import Storage
    store = Storage(db)
    with store.transaction():
        store.conn.execute("DELETE FROM searcher_states WHERE seq = (SELECT min(seq) FROM searcher_states)")
    store.close()
    with pytest.raises(NaslError, match="cannot resume: the study's searcher snapshots are incomplete"):
        nasl.search(storage=db, budget=300, resume=True, progress=False,
                    evaluator="python:tests.searchers.test_journal:fake")


def test_log_tracks_appends_and_pops_and_rewrites_after_other_changes():
    j = Journal()
    log = Log([1, 2, 3], codec=(lambda x: x, lambda x: x))
    assert log.state() == [1, 2, 3]                          # no journal: in full

    def inc():
        token = _SAVING.set(j)
        try:
            return log.state()
        finally:
            _SAVING.reset(token)
    assert inc() == {"$log": 0, "keep": 0, "tail": [1, 2, 3]}
    j.commit(0)
    log.append(4)
    assert inc() == {"$log": 0, "keep": 3, "tail": [4]}
    j.commit(1)
    log.pop()
    log.pop()
    log.append(9)
    assert inc() == {"$log": 0, "keep": 2, "tail": [9]}
    j.commit(2)
    log[0] = 7                                               # anything else: stored afresh
    assert inc() == {"$log": 0, "keep": 0, "tail": [7, 2, 9]}


def test_containers_copy_and_pickle_as_plain_new_ones():
    sp = space("nb201")
    archs = [sp.sample(i) for i in range(5)]
    seen = ArchSet(archs[:3])
    scores = LogDict({a: float(i) for i, a in enumerate(archs)})
    for c in (seen, scores, Log(archs, ARCH)):
        for twin in (copy.deepcopy(c), pickle.loads(pickle.dumps(c))):
            assert twin == c and type(twin) is type(c)
            assert twin.state() == c.state()
    with pytest.raises(TypeError, match="only grows"):
        seen.discard(archs[0])


def test_a_public_state_dict_stays_self_contained():
    """``state_dict()`` outside a study is whole JSON, loadable into a fresh searcher without the study."""
    sp = space("nb201")
    s = create("random", sp.spec, seed=0)
    drive(s, 30)
    state = json.loads(json.dumps(s.state_dict()))
    assert "$log" not in json.dumps(state)
    fresh = create("random", sp.spec, seed=0)
    fresh.load_state_dict(state)
    assert drive(fresh, 10) == drive(s, 10)


def fake(request) -> dict:
    """A deterministic objective from the architecture alone."""
    import zlib
    return {"score": zlib.crc32(json.dumps(dict(request.arch), sort_keys=True).encode()) / 2 ** 32}


fake.directions = {"score": "max"}


def test_a_logdict_log_stays_proportional_to_the_dict():
    """In-place updates (MCTS visit counts) are logged; the log is compacted, also outside a study."""
    d = LogDict({(): [0]}, codec=(lambda kv: [list(kv[0]), *kv[1]], lambda e: (tuple(e[0]), e[1:])))
    for i in range(1000):
        d[(i % 3,)] = [i]
        d.touch(())
    assert len(d) == 4 and len(d.assigned) <= 2 * len(d) + 17
    rebuilt = {}
    for k, v in d.assigned:
        rebuilt[k] = v
    assert rebuilt == dict(d) and list(rebuilt) == list(d)


def test_a_study_with_a_whole_snapshot_from_before_resumes_exactly(tmp_path):
    """Files written before incremental snapshots hold one whole ``state_dict()``; they resume as before."""
    from nasl.study.loop import restore_searcher
    from nasl.study.storage import Storage
    kw = dict(evaluator="python:tests.searchers.test_journal:fake", progress=False, snapshot_every=100)
    expected = [t.arch_id for t in nasl.search(NB201, searcher="random", budget=300, **kw).trials]
    db = tmp_path / "old.db"
    nasl.search(NB201, searcher="random", budget=150, storage=db, **kw).close()
    store = Storage(db)
    s = create("random", space("nb201").spec, seed=0)
    restore_searcher(s, store, {"score": "max"})
    seq = store.searcher_states()[-1][0]
    with store.transaction():
        store.conn.execute("DELETE FROM searcher_states")
    store.save_searcher_state(seq, s.state_dict())           # the old format: whole, self-contained
    store.close()
    resumed = nasl.search(storage=db, budget=300, resume=True, **kw)
    assert [t.arch_id for t in resumed.trials] == expected


def test_only_the_newest_row_holds_a_whole_state(tmp_path):
    """A REINFORCE study kept ~31 MB of rows: each kept its whole 200 kB controller. Older rows now keep only
    their increments, also across a resume, and the resumed study is still exact."""
    kw = dict(searcher="reinforce", evaluator="python:tests.searchers.test_journal:fake", seed=1, progress=False,
              snapshot_every=10, searcher_options={"hidden_size": 8})
    whole = nasl.search(NB201, budget=60, storage=tmp_path / "whole.db", **kw)
    expected = [(t.number, t.arch_id) for t in whole.trials]
    nasl.search(NB201, budget=25, storage=tmp_path / "cut.db", **kw).close()
    resumed = nasl.search(storage=tmp_path / "cut.db", budget=60, resume=True, progress=False,
                          evaluator="python:tests.searchers.test_journal:fake", snapshot_every=10)
    assert [(t.number, t.arch_id) for t in resumed.trials] == expected
    for study in (whole, resumed):
        rows = [json.loads(s) for (s,) in study.storage.conn.execute("SELECT state FROM searcher_states ORDER BY seq")]
        assert len(rows) >= 3
        assert all(set(r) == {"$logs"} for r in rows[:-1]) and "controller" in json.dumps(rows[-1])
        sizes = [len(json.dumps(r)) for r in rows]
        assert max(sizes[:-1]) < sizes[-1] / 5
