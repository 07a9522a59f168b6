"""Learning-curve extrapolation: Domhan, Springenberg & Hutter, "Speeding up Automatic
Hyperparameter Optimization of Deep Neural Networks by Extrapolation of Learning
Curves" (IJCAI 2015).

A partial curve ``y(1..n)`` (validation accuracy per epoch) is fitted by the
paper's 11 parametric families (its Table 1), and the fits are combined into a
weighted ensemble that gives a predictive distribution of ``y(m)`` at a later
epoch ``m``. :func:`extrapolate` returns it as a mixture of normals;
:meth:`Extrapolation.prob_above` is the quantity the paper's early stopping
tests: ``P(y(m) > y_best)``.

Where the paper samples the ensemble's weights and every family's parameters
by MCMC, this module uses a Laplace approximation (docs/decisions.md): each
family is fitted by least squares (``scipy.optimize.curve_fit``), its
prediction's variance is the observation noise plus the parameters' covariance
pushed through the family at ``m`` (delta method), and the weights are the
families' BIC likelihoods. A family is used only once the curve has more points
than it has parameters (before that its fit is not determined), and only when
its prediction lies within ``bounds`` (the paper's prior: an accuracy stays in
[0, 1]). It is some milliseconds per curve instead of minutes of MCMC.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

# name -> (f(x, *theta), initial theta). x >= 1 are epochs. Each family is the paper's formula.
FAMILIES = {
    "vapor_pressure": (lambda x, a, b, c: np.exp(a + b / x + c * np.log(x)), (-0.6, -0.5, 0.04)),
    "pow3": (lambda x, c, a, alpha: c - a * x ** (-alpha), (0.9, 0.5, 0.5)),
    "log_log_linear": (lambda x, a, b: np.log(a * np.log(x) + b), (0.2, 2.0)),
    "hill3": (lambda x, ymax, eta, kappa: ymax * x ** eta / (kappa ** eta + x ** eta), (0.9, 1.0, 1.0)),
    "log_power": (lambda x, a, b, c: a / (1 + (x / np.exp(b)) ** c), (0.9, 0.0, -1.0)),
    "pow4": (lambda x, c, a, b, alpha: c - (a * x + b) ** (-alpha), (0.9, 1.0, 1.0, 0.5)),
    "mmf": (lambda x, alpha, beta, kappa, delta: alpha - (alpha - beta) / (1 + (kappa * x) ** delta),
            (0.9, 0.1, 1.0, 1.0)),
    "exp4": (lambda x, c, a, b, alpha: c - np.exp(-a * x ** alpha + b), (0.9, 1.0, 0.0, 1.0)),
    "janoschek": (lambda x, alpha, beta, kappa, delta: alpha - (alpha - beta) * np.exp(-kappa * x ** delta),
                  (0.9, 0.1, 1.0, 1.0)),
    "weibull": (lambda x, alpha, beta, kappa, delta: alpha - (alpha - beta) * np.exp(-(kappa * x) ** delta),
                (0.9, 0.1, 1.0, 1.0)),
    # log(x + 1): the paper's ilog2 is c - a / log(x), which is undefined at the first epoch
    "ilog2": (lambda x, c, a: c - a / np.log(x + 1), (0.9, 0.2)),
}


class Extrapolation:
    """The ensemble's predictive distribution of ``y(m)``: a mixture of normals."""

    def __init__(self, target, means, stds, weights, families):
        self.target = target
        self.means, self.stds, self.weights = np.asarray(means), np.asarray(stds), np.asarray(weights)
        self.families = list(families)

    @property
    def usable(self) -> bool:
        return len(self.families) > 0

    @property
    def mean(self) -> float:
        return float(self.weights @ self.means) if self.usable else math.nan

    @property
    def std(self) -> float:
        if not self.usable:
            return math.nan
        second = self.weights @ (self.stds ** 2 + self.means ** 2)
        return float(math.sqrt(max(second - self.mean ** 2, 0.0)))

    def prob_above(self, value: float) -> float:
        """``P(y(target) > value)`` under the mixture (1.0 when no family could be fitted: no evidence)."""
        if not self.usable:
            return 1.0
        z = (value - self.means) / self.stds
        upper = 0.5 * np.array([math.erfc(v / math.sqrt(2)) for v in z])
        return float(self.weights @ upper)

    def __repr__(self) -> str:
        return f"Extrapolation(y({self.target:g}) ~ {self.mean:.4f} ± {self.std:.4f}, {len(self.families)} families)"


def _fit(f, x, y, p0, sigma):
    from scipy.optimize import curve_fit
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        theta, cov = curve_fit(f, x, y, p0=p0, sigma=np.full_like(y, sigma), absolute_sigma=True, maxfev=2000)
    return theta, cov


def extrapolate(y, target: float, *, x=None, noise: float = 0.01, bounds=(0.0, 1.0),
                families=None) -> Extrapolation:
    """The predictive distribution of the curve ``y`` (values at epochs ``x``, default 1..n) at ``target``.

    ``noise`` is the observation noise's standard deviation, a floor under
    each fit's residual one (a few points can be fitted exactly; the data are
    not exact). ``bounds`` (low, high), or None, is the range a prediction
    must lie in. ``families`` (names) restricts the ensemble.
    """
    y = np.asarray(y, dtype=float)
    x = np.arange(1, len(y) + 1, dtype=float) if x is None else np.asarray(x, dtype=float)
    n = len(y)
    means, stds, logw, names = [], [], [], []
    for name in families or FAMILIES:
        f, p0 = FAMILIES[name]
        k = len(p0)
        if n <= k:
            continue                      # under-determined: any prediction would be the initial guess's
        try:
            theta, cov = _fit(f, x, y, p0, noise)
        except (RuntimeError, ValueError, TypeError, FloatingPointError):
            continue
        with np.errstate(all="ignore"):
            fitted = f(x, *theta)
            mu = float(f(np.array([float(target)]), *theta)[0])
        if not (np.all(np.isfinite(fitted)) and math.isfinite(mu)):
            continue
        if bounds is not None and not (bounds[0] <= mu <= bounds[1]):
            continue
        rss = float(np.sum((fitted - y) ** 2))
        sigma2 = max(rss / (n - k), noise ** 2)
        var = sigma2 + _param_variance(f, theta, cov, target)
        if not math.isfinite(var):
            continue
        names.append(name)
        means.append(mu)
        stds.append(math.sqrt(var))
        # BIC with the noise floor: log-likelihood of the fit minus k/2 log n
        logw.append(-rss / (2 * sigma2) - 0.5 * n * math.log(sigma2) - 0.5 * k * math.log(n))
    if not means:
        return Extrapolation(target, [], [], [], [])
    logw = np.asarray(logw)
    w = np.exp(logw - logw.max())
    return Extrapolation(target, means, stds, w / w.sum(), names)


def _param_variance(f, theta, cov, target) -> float:
    """``g' cov g`` with ``g`` the gradient of ``f(target)`` in the parameters (central differences)."""
    if not np.all(np.isfinite(cov)):
        return math.inf
    x = np.array([float(target)])
    g = np.empty(len(theta))
    with np.errstate(all="ignore"):
        for i in range(len(theta)):
            h = 1e-6 * max(1.0, abs(theta[i]))
            up, down = theta.copy(), theta.copy()
            up[i] += h
            down[i] -= h
            g[i] = (f(x, *up)[0] - f(x, *down)[0]) / (2 * h)
    v = float(g @ cov @ g)
    return v if math.isfinite(v) and v >= 0 else math.inf


__all__ = ["FAMILIES", "Extrapolation", "extrapolate"]
