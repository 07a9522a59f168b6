"""BANANAS' warm-started surrogate: each fit after the first continues from the last fit's weights.

The weights are searcher state: a searcher restored from a snapshot (plain
or journaled) must start its next fit from the same weights, or it proposes
other architectures than the uninterrupted one.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from nasl.searchers import create
from nasl.searchers.journal import Journal
from nasl.searchers.surrogate import MLPEnsemble
from tests.searchers.test_protocol import drive, space

FAST = {"num_initial": 4, "candidates": 20, "random_candidates": 4, "batch_size": 3, "epochs": 30,
        "warm_epochs": 10}


def make(seed=3, **kw):
    return create("bananas", space("nb201").spec, seed=seed, **{**FAST, **kw})


def test_a_warm_start_continues_from_the_given_weights():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(40, 12)).astype(float)
    y = X @ rng.normal(size=12) + 0.1 * rng.normal(size=40)
    first = MLPEnsemble(members=3, epochs=150, seed=1).fit(X, y)
    loss = lambda m: float(((m.predict(X) - y) ** 2).mean())
    warm = MLPEnsemble(members=3, seed=2).fit(X, y, init=first.theta, epochs=5)
    cold = MLPEnsemble(members=3, seed=2).fit(X, y, epochs=5)
    assert loss(warm) < 0.5 * loss(cold)
    assert warm.theta is not first.theta and not np.shares_memory(warm.theta, first.theta)
    with pytest.raises(ValueError, match="warm start needs"):
        MLPEnsemble(members=2, seed=2).fit(X, y, init=first.theta)


def test_later_fits_start_from_the_last_fits_weights():
    s = make()
    drive(s, 6)
    assert s.num_fits >= 1 and s.weights is not None
    before = s.weights.copy()
    drive(s, 4)
    assert s.num_fits >= 2 and not np.array_equal(before, s.weights)
    # warm_epochs=0: every fit from random weights, none kept
    cold = make(warm_epochs=0)
    drive(cold, 10)
    assert cold.num_fits >= 2 and cold.weights is None


def test_resume_after_warm_fits_proposes_the_same_architectures():
    s = make()
    drive(s, 11, lag=1)
    state = json.loads(json.dumps(s.state_dict()))
    assert isinstance(state["state"]["weights"], str)     # base64 of the float32 bytes
    fresh = make()
    fresh.load_state_dict(state)
    assert np.array_equal(fresh.weights, s.weights) and fresh.weights.dtype == np.float32
    assert drive(fresh, 12, lag=1) == drive(s, 12, lag=1)


def test_the_weights_are_needed_to_resume_exactly():
    """Without its weights a restored searcher refits from scratch and drifts: what the test above guards."""
    s = make()
    drive(s, 11)
    fresh = make()
    fresh.load_state_dict(json.loads(json.dumps(s.state_dict())))
    fresh.weights = None
    assert drive(fresh, 12) != drive(s, 12)


def test_the_journal_restores_the_weights():
    s = make(seed=5)
    j, rows = Journal(), []
    for k in range(3):
        drive(s, 7, lag=1)
        rows.append((k, json.loads(json.dumps(j.state_dict(s)))))
        j.commit(k)
    fresh = make(seed=5)
    Journal(rows).load(fresh, rows[-1][1])
    assert np.array_equal(fresh.weights, s.weights)
    assert drive(fresh, 12, lag=1) == drive(s, 12, lag=1)


def test_a_state_from_before_warm_starts_still_loads():
    s = make()
    drive(s, 8)
    state = json.loads(json.dumps(s.state_dict()))
    state["state"].pop("weights")
    fresh = make()
    fresh.load_state_dict(state)
    assert fresh.weights is None
    drive(fresh, 6)                       # refits from random weights, then warm again
    assert fresh.weights is not None


def test_warm_epochs_must_not_be_negative():
    with pytest.raises(ValueError, match="warm_epochs"):
        make(warm_epochs=-1)
