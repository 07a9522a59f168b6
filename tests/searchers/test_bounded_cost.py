"""What a searcher does per ask must not grow with the study (issue 13; BENCHMARKS §21, §35).

The growth itself is a benchmark (``benchmarks/study_growth.py``); these
tests check the structure that keeps it flat: the model-based searchers fit
a bounded training set, identical to the whole history while it is short,
and a nearly used-up space is served from the list of unseen architectures
without a growing number of duplicate draws.
"""
from __future__ import annotations

import json

import pytest

from nasl.searchers import create
from nasl.searchers.training_set import BestResults
from tests.searchers.test_protocol import drive, score, space

FAST = {
    "bananas": {"num_initial": 4, "candidates": 20, "random_candidates": 4, "batch_size": 3, "epochs": 20,
                "warm_epochs": 5},
    "pnas": {"beam_size": 4, "epochs": 20, "max_children": 40},
    "nao": {"num_initial": 4, "num_parents": 4, "batch_size": 3, "epochs": 5, "max_step_size": 4, "warm_epochs": 2},
}


def test_best_results_keeps_the_best_in_tell_order_earliest_among_ties():
    b = BestResults(3)
    for i, s in enumerate([5, 1, 7, 5, 2, 7, 0]):
        b.add(f"a{i}", float(s))
    assert b.in_tell_order() == [("a0", 5.0), ("a2", 7.0), ("a5", 7.0)]
    assert b.best(2) == [("a2", 7.0), ("a5", 7.0)]
    assert b.added == 7 and len(b) == 3
    with pytest.raises(ValueError):
        BestResults(0)


@pytest.mark.parametrize("name", ["bananas", "pnas", "nao"])
def test_below_the_bound_the_search_is_what_it_was(name):
    # a bound above the study's length changes nothing: the training set is every result, in tell order
    sp = space("nb201").spec
    a = drive(create(name, sp, seed=1, **FAST[name]), 24)
    b = drive(create(name, sp, seed=1, max_train=10_000, **FAST[name]), 24)
    assert [x.id for x in a] == [x.id for x in b]


def test_bananas_fits_at_most_max_train_rows(monkeypatch):
    from nasl.searchers.surrogate import MLPEnsemble
    rows = []
    fit = MLPEnsemble.fit

    def counting(self, X, y, **kw):
        rows.append(len(X))
        return fit(self, X, y, **kw)
    monkeypatch.setattr(MLPEnsemble, "fit", counting)
    drive(create("bananas", space("nb201").spec, seed=0, max_train=12, **FAST["bananas"]), 60)
    assert rows and max(rows) == 12 and len(rows) >= 10


def test_nao_trains_on_at_most_max_train_results(monkeypatch):
    import nasl.searchers.nao_model as model
    sizes = []
    fit = model.fit

    def counting(m, batch, scores, *args):
        sizes.append(len(scores))
        return fit(m, batch, scores, *args)
    monkeypatch.setattr(model, "fit", counting)
    drive(create("nao", space("nb201").spec, seed=0, max_train=8, **FAST["nao"]), 40)
    assert sizes and max(sizes) == 8


@pytest.mark.parametrize("name", ["bananas", "nao", "pnas"])
def test_a_resumed_searcher_rebuilds_the_bounded_set(name):
    sp = space("nb201").spec
    opts = {**FAST[name], "max_train": 6}
    s = create(name, sp, seed=2, **opts)
    drive(s, 20)
    r = create(name, sp, seed=2, **opts)
    r.load_state_dict(json.loads(json.dumps(s.state_dict())))
    assert [x.id for x in drive(r, 12)] == [x.id for x in drive(s, 12)]


def _exhaust(s, tell=True):
    archs = []
    from nasl.searchers.base import Exhausted
    while True:
        try:
            a = s.ask()
        except Exhausted:
            return archs
        archs.append(a)
        if tell:
            s.tell(a, float(len(archs) % 97))


def test_random_search_draws_o1_per_ask_up_to_the_last_architecture():
    # NB201 has 15,625 architectures: rejection alone needs ~N/k draws for the k-th last one
    s = create("random", space("nb201").spec, seed=0)
    calls = []
    draw = s._sample
    s._sample = lambda: calls.append(len(s.seen)) or draw()
    archs = _exhaust(s, tell=False)
    assert len(archs) == 15_625 == len({a.id for a in archs})
    assert len(calls) < 1.5 * 15_625 / 2          # draws only until half the space is seen
    assert max(calls) <= 15_625 / 2


def test_novelty_tries_the_rule_less_as_the_space_runs_out(monkeypatch):
    from nasl.searchers.novelty import Novelty
    per_ask = []
    propose = Novelty.propose

    def counting(self, rule, rng, on_repeat=None):
        n = [0]

        def counted():
            n[0] += 1
            return rule()
        out = propose(self, counted, rng, on_repeat)
        per_ask.append(n[0])
        return out
    monkeypatch.setattr(Novelty, "propose", counting)
    archs = _exhaust(create("pairwise_tournament", space("nb201").spec, seed=0, population_size=20))
    assert len(archs) == 15_625 == len({a.id for a in archs})
    assert sum(per_ask[-1000:]) <= 1000 * 2           # was up to 20 rule calls plus 20 uniform draws per ask


def test_genetic_does_not_breed_barren_generations_on_every_ask(monkeypatch):
    # near exhaustion every child is known: ten barren rounds per ask made a trial 17x as costly
    from nasl.searchers.genetic import GeneticAlgorithm
    rounds = []
    offspring = GeneticAlgorithm._offspring

    def counting(self, pool):
        rounds.append(self.num_asked)
        return offspring(self, pool)
    monkeypatch.setattr(GeneticAlgorithm, "_offspring", counting)
    archs = _exhaust(create("genetic", space("nb201").spec, seed=0))
    assert len(archs) == 15_625 == len({a.id for a in archs})
    late = sum(1 for n in rounds if n >= 15_625 - 1000)
    assert late <= 1000             # before: 7,780 rounds in the last 1,000 asks (763 after)


# ------------------------------------------------------------ mdenas: one ask's redraws in one block
def _concentrated_mdenas(seed, n=150):
    # a high learning rate concentrates the distributions quickly, so de-duplication redraws
    s = create("mdenas", space("nb201").spec, seed=seed, learning_rate=0.1)
    drive(s, n)
    return s


def test_uniforms_are_the_random_calls_they_replace():
    import random

    from nasl.searchers.flat_draw import uniforms
    a, b = random.Random(11), random.Random(11)
    for n in (1, 2, 95, 300):
        assert list(uniforms(a, n)) == [b.random() for _ in range(n)]
    assert a.random() == b.random()       # and the generator is left where n calls leave it


def test_mdenas_block_is_the_first_unseen_of_the_sequential_draws():
    import copy

    from nasl.ir.architecture import Architecture
    s = _concentrated_mdenas(4)
    assert s._block is not None
    seen, flat, hits, misses = s.novelty.seen, s.decisions.flat(), 0, 0
    for k in (1, 5, 19, 40):
        for _ in range(20):
            s._sample()                                  # refresh the python table; moves the generator on
            s._block.set_sums([s._sums(key, len(vs)) for _, key, vs in flat if len(vs) > 1])
            rng = copy.deepcopy(s.rng)
            got = s._block.first_unseen(s.rng, k, seen)
            draws = []
            for _ in range(k):                           # the reference: k draws of the one-at-a-time loop
                s.rng, keep = rng, s.rng
                draws.append(Architecture._trusted(s._flat_draw(flat)))
                rng, s.rng = s.rng, keep
            want = next((d for d in draws if d not in seen), None)
            assert (got is None) == (want is None)
            assert got is None or (got == want and list(got) == list(want) and got not in seen)
            assert rng.getstate() == s.rng.getstate()   # k draws' uniforms taken, found or not
            hits, misses = hits + (got is not None), misses + (got is None)
    assert hits > 10 and misses > 10                      # the concentrated distribution repeats often


def test_mdenas_block_draws_are_new_seeded_and_resume_exactly(monkeypatch):
    from nasl.searchers.flat_draw import BlockDraw
    calls = []
    real = BlockDraw.first_unseen
    monkeypatch.setattr(BlockDraw, "first_unseen", lambda self, *a: calls.append(1) or real(self, *a))
    s = _concentrated_mdenas(7, 400)
    t = _concentrated_mdenas(7, 400)
    assert len(calls) > 100                               # the block did the redraws of most asks
    ids = [a.id for a in s.novelty.seen.order]
    assert len(ids) == len(set(ids)) == 400 and ids == [a.id for a in t.novelty.seen.order]
    state = json.loads(json.dumps(s.state_dict()))
    r = create("mdenas", space("nb201").spec, seed=7, learning_rate=0.1)
    r.load_state_dict(state)
    assert [a.id for a in drive(r, 60)] == [a.id for a in drive(s, 60)]


def test_mdenas_keeps_its_loop_where_a_block_cannot_be_exact():
    # constraints (a draw may be refused) and de-duplication off: the searcher's own loop, as before
    assert create("mdenas", space("nb201").spec, seed=0, dedup=False)._block is None
    from nasl.searchers.flat_draw import BlockDraw
    assert not BlockDraw([("a", "a0", (1, True)), ("b", "b0", (0, 1))]).usable()   # 1 == True: one key
    assert BlockDraw([("a", "a0", (1, 2)), ("b", "b0", ("x",))]).usable()


def test_mdenas_uniform_fallback_is_the_spec_walks_draw():
    # when every redraw repeats, the fallback draws as walks.sample does, without the walk: same stream
    import random

    from nasl.searchers.flat_draw import BlockDraw
    from nasl.searchers.walks import sample
    spec = space("nb201").spec
    s = create("mdenas", spec, seed=0)
    a, b = random.Random(4), random.Random(4)
    uniform = s._block.uniform_for(spec)
    for _ in range(300):
        got, want = uniform(a), sample(spec, b, False)
        assert got == want and list(got) == list(want)
    assert a.getstate() == b.getstate()
    flat = s.decisions.flat()
    reordered = [(p, k, tuple(reversed(vs))) for p, k, vs in flat]        # arms not in the domain's order
    assert BlockDraw(reordered).uniform_for(spec) is None


def test_mdenas_with_the_fast_fallback_proposes_what_the_walk_does():
    fast, walked = _concentrated_mdenas(9, 0), _concentrated_mdenas(9, 0)
    calls = []
    real = fast._uniform
    fast._uniform = lambda: calls.append(1) or real()
    walked._uniform = None
    assert [a.id for a in drive(fast, 400)] == [a.id for a in drive(walked, 400)]
    assert len(calls) > 20                  # the concentrated distribution sent asks to the fallback
    assert fast.probabilities() == walked.probabilities()


@pytest.mark.parametrize("flat, sums", [
    ([("a", "a0", (1, 2, 3)), ("b", "b0", ("x", "y")), ("c", "c0", (7,))], [[0.7, 0.9, 1.0], [0.2, 1.0]]),   # ragged
    ([("a", "a0", (1, 2, 3)), ("b", "b0", ("x", "y", "z"))], [[0.8, 0.9, 1.0], [0.0, 0.0, 0.0]]),           # dead row
    ([("a", "a0", (1, 2, 3)), ("b", "b0", ("x", "y", "z"))], [[0.8, 0.9, 1.0], [0.05, 0.95, 1.0]]),         # even
])
def test_block_draw_matches_sequential_bisects(flat, sums):
    import bisect
    import random

    from nasl.ir.architecture import Architecture
    from nasl.searchers.flat_draw import BlockDraw
    from nasl.searchers.journal import ArchSet
    block, seen = BlockDraw(flat), ArchSet()
    block.set_sums(sums)
    multi = [i for i, (_, _, vs) in enumerate(flat) if len(vs) > 1]

    def one(r):
        arms = {}
        for i, c in zip(multi, sums):
            n, u = len(flat[i][2]), r.random()
            arms[i] = int(u * n) if c[-1] <= 0 else min(bisect.bisect_right(c, u * c[-1]), n - 1)
        return Architecture({p: vs[arms.get(i, 0)] for i, (p, _, vs) in enumerate(flat)})
    found = 0
    for step in range(60):
        a, b = random.Random(step), random.Random(step)
        draws = [one(b) for _ in range(6)]
        want = next((d for d in draws if d not in seen), None)
        got = block.first_unseen(a, 6, seen)
        assert got == want and a.getstate() == b.getstate()
        if got is not None:
            assert list(got) == [p for p, _, _ in flat]
            seen.add(got)
            found += 1
    assert 3 <= found < 60          # some draws all repeat once the likely rows are seen


def test_bananas_fills_a_thin_pool_so_one_fit_serves_a_whole_batch():
    # 25 architectures of NB201 left unseen: the parents' mutants are nearly all seen, and a fit per
    # ask (a batch of one or two, or none) made the last 1,000 asks of a study cost 2.8x the first
    from nasl.searchers.walks import Odometer
    sp = space("nb201").spec
    s = create("bananas", sp, seed=0, **FAST["bananas"])
    every = list(Odometer(sp))
    for a in every[:-25]:
        s.tell(a, score(a))
    asked = set()
    for _ in range(FAST["bananas"]["num_initial"] + 2 * FAST["bananas"]["batch_size"]):   # 4 random, then 2 batches
        asked.add(s.ask())
    assert len(asked) == 10 and not asked & set(every[:-25])
    assert s.num_fits == 2          # one fit per batch of 3 (before: none, the pools were empty, all random)
