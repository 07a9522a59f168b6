"""Every registered searcher, on differently shaped spaces: the ask/tell contract.

Parametrized over ``list_searchers()``, so a newly registered searcher is
tested here without further work. ``FAST`` holds the options of each registration's example,
which let a searcher reach its interesting phase within a short test.
"""
from __future__ import annotations

import json
import pathlib
import zlib

import pytest

import nasl
from nasl.searchers import Exhausted, Result, create, list_searchers, register_searcher, Searcher
from nasl.searchers.registry import SEARCHERS

ROOT_DIR = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT_DIR / "examples"

# options that let a searcher reach its interesting phase within a short test (e.g. a small population):
# each registration's example (@register_searcher(name, example={...}))
FAST = {n: SEARCHERS.entry(n).meta.get("example") or {} for n in list_searchers()}

SPACES = {
    "nb201": ("nas_bench_201.nas", {}),
    "darts": ("darts.nas", {}),
    "path_level": ("path_level.nas", {"max_depth": 2}),
    "rnn_cell": ("rnn_cell.nas", {}),
    "nb101": ("nas_bench_101.nas", {}),      # has constraints
}
_loaded: dict = {}

def space(name):
    if name not in _loaded:
        file, params = SPACES[name]
        _loaded[name] = nasl.load(EXAMPLES / file, **params)
    return _loaded[name]

def make(name, sp, seed=0):
    return create(name, sp.spec, seed=seed, **FAST.get(name, {}))

def score(arch) -> float:
    """A deterministic fake objective."""
    return zlib.crc32(arch.to_json().encode()) / 2 ** 32

def drive(s, n, fail_every=0, lag=0):
    """Ask ``n`` times; tell each result ``lag`` asks later, newest first; fail every ``fail_every``-th.

    Budget-aware, as a study is: multi-fidelity searchers get their budgets back.
    """
    asked, out = [], []
    for i in range(n):
        a, budget = s.ask_with_budget()
        out.append(a)
        asked.append((i, a, budget))
        if len(asked) > lag:
            for j, b, bb in reversed(asked):     # out of order: the newest first
                s.tell(b, Result.failure("boom") if fail_every and j % fail_every == 0 else score(b), bb)
            asked = []
    return out

@pytest.mark.parametrize("sp_name", sorted(SPACES))
@pytest.mark.parametrize("name", list_searchers())
def test_proposes_only_valid_architectures(name, sp_name):
    sp = space(sp_name)
    s = make(name, sp)
    archs = drive(s, 30, fail_every=4, lag=2)
    for a in archs:
        assert sp.validate(a) == a

@pytest.mark.parametrize("sp_name", ["nb201", "darts", "path_level"])
@pytest.mark.parametrize("name", list_searchers())
def test_same_seed_same_sequence(name, sp_name):
    sp = space(sp_name)
    assert drive(make(name, sp, 7), 40, lag=1) == drive(make(name, sp, 7), 40, lag=1)

@pytest.mark.parametrize("name", list_searchers())
def test_survives_failed_trials(name):
    sp = space("path_level")
    s = make(name, sp)
    for a in drive(s, 20, fail_every=1):        # every trial fails
        sp.validate(a)
    for a in drive(s, 20, fail_every=2):
        sp.validate(a)

@pytest.mark.parametrize("name", list_searchers())
def test_out_of_order_and_late_tells(name):
    sp = space("darts")
    s = make(name, sp)
    batch = s.ask_batch(12)
    assert len(batch) == 12 and len(s.pending) == len(set(batch))
    held = batch[0]                              # told long after everything else
    for a in reversed(batch[1:]):
        s.tell(a, {"acc": score(a), "params": 1.0})
    for a in drive(s, 15, lag=3):
        sp.validate(a)
    s.tell(held, Result({"acc": 0.5, "params": 2.0}, directions={"params": "min"}))
    assert held not in s.pending
    sp.validate(s.ask())

def _events(s, n):
    """Run ``s`` with interleaved asks and tells, some left pending; return the history."""
    events, pending = [], []
    for i in range(n):
        a, budget = s.ask_with_budget()
        events.append(("ask", a, budget))
        pending.append((a, budget))
        if i % 3 == 2:
            b, bb = pending.pop(1)
            r = Result.failure("x") if i % 5 == 0 else Result({"acc": score(b)})
            s.tell(b, r, bb)
            events.append(("tell", b, r, bb))
    return events

def _continue(s, n):
    out = []
    for _ in range(n):
        a, budget = s.ask_with_budget()
        s.tell(a, score(a), budget)
        out.append((a, budget))
    return out

@pytest.mark.parametrize("sp_name", ["nb201", "darts", "path_level"])
@pytest.mark.parametrize("name", list_searchers())
def test_resume_from_state_dict_and_history(name, sp_name):
    sp = space(sp_name)
    s = make(name, sp, seed=3)
    events = _events(s, 25)
    state = json.loads(json.dumps(s.state_dict()))
    want = _continue(s, 10)

    s2 = make(name, sp, seed=999)
    s2.load_state_dict(state)
    assert _continue(s2, 10) == want

    s3 = make(name, sp, seed=3)
    s3.recover(events)
    assert s3.state_dict()["num_asked"] == state["num_asked"]
    assert _continue(s3, 10) == want

def test_recover_rejects_a_foreign_history():
    sp = space("nb201")
    events = _events(make("random", sp, seed=1), 5)
    with pytest.raises(ValueError, match="diverges"):
        make("random", sp, seed=2).recover(events)

@pytest.mark.parametrize("name", list_searchers())
def test_tiny_space_gives_valid_asks_or_exhausted(name):
    """On 8 architectures, 40 asks end promptly: each a valid architecture, or Exhausted."""
    spec = _tiny_spec()
    s = create(name, spec, seed=0, **FAST.get(name, {}))
    for i in range(40):
        try:
            a, budget = s.ask_with_budget()
        except Exhausted:
            continue
        assert a in set(_all_tiny())
        s.tell(a, Result.failure("x") if i % 7 == 3 else score(a), budget)

def _all_tiny():
    from nasl.ir.architecture import Architecture
    return [Architecture({"a": "conv", "b.k": k, "c": c}) for k in (3, 5) for c in (False, True)] + \
        [Architecture({"a": a, "c": c}) for a in ("pool", "skip") for c in (False, True)]

def _deduplicates(name) -> bool:
    from nasl.searchers.registry import options_of, get_searcher
    return name == "grid" or "dedup" in options_of(get_searcher(name))

@pytest.mark.parametrize("name", list_searchers())
def test_finite_space_is_exhausted_not_hung(name):
    """A searcher that never repeats itself says when the 8 architectures are used up;
    one that may repeat (aging evolution re-proposes freely) still answers every ask."""
    spec = _tiny_spec()
    s = create(name, spec, seed=0, **FAST.get(name, {}))
    if not _deduplicates(name):
        for _ in range(30):
            try:
                a = s.ask()
            except Exhausted:
                break
            s.tell(a, score(a))
        return
    got = s.ask_batch(5)
    for a in got[:3]:
        s.tell(a, score(a))
    got += s.ask_batch(5)                       # the second batch comes back short
    assert len(got) == len(set(got)) == 8
    for a in got[3:]:
        s.tell(a, score(a))
    with pytest.raises(Exhausted):
        s.ask()
    with pytest.raises(Exhausted):
        s.ask_batch(3)

def _tiny_spec():
    from nasl.ir.decision_tree import Block, Choice, ChoiceSpec, Group, Guard
    inner = Block([Choice("b.k", "choice", (3, 5))])
    return ChoiceSpec(Block([Choice("a", "choice", ("conv", "pool", "skip")),
                             Group(Guard("a", frozenset({"conv"})), inner),
                             Choice("c", "bool", (False, True))]))

def test_results_and_registry():
    r = Result({"acc": 90.0, "params": 3.0}, directions={"params": "min"})
    assert r.score() == 90.0 and r.score("params") == -3.0
    assert Result.coerce(r.to_dict()) == r and Result.coerce(2).score() == 2.0
    assert Result.failure("oom").failed and Result.failure("oom").score() == float("-inf")
    with pytest.raises(ValueError):
        Result({"acc": 1.0}, directions={"acc": "up"})
    with pytest.raises(KeyError, match="did you mean 'random'"):
        create("randm", _tiny_spec())
    assert list_searchers("reg*") == ["regularized_evolution"]

def test_a_new_searcher_is_registered_and_listed():
    from nasl.searchers.registry import SEARCHERS

    @register_searcher("_test_first")
    class First(Searcher):
        def _propose(self):
            return nasl.ir.architecture.Architecture(
                self.spec.walk(lambda c, v: next(iter(c.values()))))
    try:
        assert "_test_first" in list_searchers()
        assert create("_test_first", _tiny_spec()).ask() == {"a": "conv", "b.k": 3, "c": False}
    finally:
        SEARCHERS.unregister("_test_first")

def test_unknown_options_are_named():
    import nasl
    from tests.conftest import example
    spec = nasl.load(example("nas_bench_201.nas")).spec
    with pytest.raises(ValueError, match="did you mean 'population_size'"):
        create("regularized_evolution", spec, seed=0, population=10)
