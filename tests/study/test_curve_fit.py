"""Domhan et al.'s curve extrapolation on synthetic curves whose final value is known."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

from nasl.study.curve_fit import FAMILIES, extrapolate  # noqa: E402

X = np.arange(1, 31, dtype=float)
# curves of three shapes (a power law, an exponential saturation, a sigmoid in log x), final values known
TRUE = {
    "power": 0.95 - 0.6 * X ** -0.8,
    "exponential": 0.90 - 0.5 * np.exp(-0.2 * X),
    "sigmoid": 0.92 * X ** 1.5 / (4 ** 1.5 + X ** 1.5),
}


def test_the_paper_has_eleven_families_and_each_fits_its_own_curve():
    assert len(FAMILIES) == 11
    x = np.arange(1, 11, dtype=float)
    for name, (f, p0) in FAMILIES.items():
        y = f(x, *p0)
        if not (np.all(np.isfinite(y)) and np.ptp(y) > 1e-3):
            continue                       # an initial guess that is flat or undefined says nothing
        e = extrapolate(y, 20, families=[name], bounds=None, noise=1e-4)
        assert e.usable and e.mean == pytest.approx(float(f(np.array([20.0]), *p0)[0]), abs=1e-3), name


@pytest.mark.parametrize("shape", sorted(TRUE))
def test_the_extrapolated_final_value_is_within_a_few_points_from_half_the_curve(shape):
    true = TRUE[shape]
    errors = []
    for seed in range(5):
        y = true + np.random.default_rng(seed).normal(0, 0.005, len(X))
        e = extrapolate(y[:15], 30)
        errors.append(abs(e.mean - true[-1]))
        # the truth lies inside the predictive distribution, not in a tail
        assert 0.02 < e.prob_above(true[-1]) < 0.98
        assert e.prob_above(true[-1] + 0.15) < 0.05 and e.prob_above(true[-1] - 0.15) > 0.95
    assert np.mean(errors) < 0.03, errors


def test_more_of_the_curve_gives_a_tighter_prediction():
    y = TRUE["power"] + np.random.default_rng(1).normal(0, 0.005, len(X))
    early, late = extrapolate(y[:6], 30), extrapolate(y[:24], 30)
    assert late.std < early.std
    assert abs(late.mean - TRUE["power"][-1]) < 0.01


def test_too_few_points_give_no_evidence():
    e = extrapolate([0.3, 0.5], 10)
    assert not e.usable and e.prob_above(0.99) == 1.0


def test_predictions_outside_the_bounds_are_left_out():
    y = np.linspace(0.5, 0.99, 8)             # a straight line: most families run past 1 by epoch 100
    e = extrapolate(y, 100)
    assert all(0 <= m <= 1 for m in e.means)
