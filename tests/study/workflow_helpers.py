"""Small data and a small space for the end-to-end CLI workflow tests (a trial trains in well under a second)."""
from __future__ import annotations

import numpy as np

TINY_SPACE = """\
param classes = 10
input x: [1, 8, 8]
network {
    w = choice(4, 8)
    k = choice(1, 3)
    return x >> conv(w, k=k) >> bn >> relu >> global_avg_pool >> linear(classes)
}
"""


def arrays(n: int = 120, classes: int = 3, shape=(2, 6, 6), seed: int = 0) -> dict:
    """A separable toy problem that is not digits: class k brightens rows 2k..2k+1 of channel k % 2."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(0, 0.3, (n, *shape)).astype(np.float32)
    for i, k in enumerate(y):
        x[i, k % shape[0], 2 * k:2 * k + 2, :] += 1.5
    cut, cut2 = int(n * 0.7), int(n * 0.85)
    return {"x_train": x[:cut], "y_train": y[:cut], "x_val": x[cut:cut2], "y_val": y[cut:cut2],
            "x_test": x[cut2:], "y_test": y[cut2:]}


def load():
    """``--data tests.study.workflow_helpers:load``: the same arrays from a function."""
    return arrays()
