"""A small ensemble of MLP regressors in numpy: the surrogate of predictor-based search.

All members train at once, full batch with Adam, as one batched matrix
product per layer in float32, so fitting 5 members on a few hundred points takes
milliseconds and needs no torch. Members differ by their initial weights
(and optionally by a bootstrap of the data), which is where the ensemble's
spread, its estimate of uncertainty, comes from.

A fit can start from the weights of an earlier fit (``fit(X, y, init=...)``,
a warm start): predictor-based search refits after every few new points, and
continuing from the last fit needs a fraction of the steps of a fit from
random weights (BENCHMARKS.md, section "bananas ask+tell vs Optuna TPE").
The members keep their own weights, so they keep their spread.
"""
from __future__ import annotations

from typing import Sequence


class MLPEnsemble:
    """``M`` ReLU networks ``d -> hidden... -> 1`` trained on ``(X, y)``.

    Parameters
    ----------
    members : int
        Ensemble size M.
    hidden : sequence of int
        Widths of the hidden layers.
    epochs : int
        Full-batch Adam steps.
    lr, weight_decay : float
        Adam's step size; L2 penalty on the weights.
    bootstrap : bool
        Train each member on a bootstrap resample of the data.
    seed : int
        Seeds the initial weights (and the resampling).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(4); y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> m = MLPEnsemble(members=3, epochs=300, seed=0).fit(X, y)
    >>> bool(np.abs(m.predict(X).mean(axis=0) - y).max() < 0.2)
    True
    """

    def __init__(self, members: int = 5, hidden: Sequence[int] = (32, 32), epochs: int = 200, lr: float = 0.01,
                 weight_decay: float = 1e-4, bootstrap: bool = False, seed: int = 0):
        if members < 1 or epochs < 1 or not hidden or min(hidden) < 1:
            raise ValueError("an MLP ensemble needs members >= 1, epochs >= 1 and hidden widths >= 1")
        self.members, self.hidden, self.epochs = members, tuple(hidden), epochs
        self.lr, self.weight_decay, self.bootstrap, self.seed = lr, weight_decay, bootstrap, seed
        self.params = None
        self.theta = None       # every weight and bias of the members, one flat float32 array (views: params)

    def fit(self, X, y, init=None, epochs: int | None = None) -> "MLPEnsemble":
        """Train on ``(X, y)``; ``init``: the :attr:`theta` of an earlier fit of the same shape to start from
        (a warm start: the seed then draws only the bootstrap), ``epochs``: Adam steps of this fit (default ``self.epochs``)."""
        import numpy as np
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=float)
        rng = np.random.default_rng(self.seed)
        M, n = self.members, len(y)
        self._mu, self._sd = float(y.mean()), float(y.std()) or 1.0
        t = ((y - self._mu) / self._sd).astype(np.float32)
        if self.bootstrap:
            idx = rng.integers(0, n, size=(M, n))
            Xs, ts = X[idx], t[idx]                        # (M, n, d), (M, n)
        else:
            Xs, ts = np.ascontiguousarray(np.broadcast_to(X, (M,) + X.shape)), np.broadcast_to(t, (M, n))
        sizes = (X.shape[1],) + self.hidden + (1,)
        shapes = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            shapes += [(M, a, b), (M, 1, b)]
        # one flat buffer holds every parameter, so each Adam step is a handful of vector ops
        total = sum(int(np.prod(sh)) for sh in shapes)
        if init is not None and np.shape(init) != (total,):
            raise ValueError(f"a warm start needs {total} weights for this ensemble, not {np.size(init)}")
        theta = np.zeros(total, dtype=np.float32) if init is None else np.array(init, dtype=np.float32)
        decay = np.zeros(total, dtype=np.float32)
        params, off = [], 0
        for k, sh in enumerate(shapes):
            size = int(np.prod(sh))
            view = theta[off:off + size].reshape(sh)
            if k % 2 == 0:
                if init is None:
                    view[...] = rng.normal(0.0, np.sqrt(2.0 / sh[1]), size=sh)
                decay[off:off + size] = self.weight_decay
            params.append(view)
            off += size
        m1, m2 = np.zeros(total, dtype=np.float32), np.zeros(total, dtype=np.float32)
        # the gradients land in views of one flat buffer (no concatenation per step), and the transposed
        # operands of the backward pass are contiguous: a strided operand can make numpy's batched matmul
        # several times slower at a few hundred rows
        g = np.zeros(total, dtype=np.float32)
        gviews, off = [], 0
        for sh in shapes:
            size = int(np.prod(sh))
            gviews.append(g[off:off + size].reshape(sh))
            off += size
        XsT = np.ascontiguousarray(np.swapaxes(Xs, 1, 2))   # fixed over the fit
        b1, b2, eps = 0.9, 0.999, 1e-8
        # Adam's moments start from zero on a warm start too: its first steps are then of size lr, which
        # shakes the members out of the last fit's minimum a little, as a restart would
        for step in range(1, (self.epochs if epochs is None else epochs) + 1):
            self._grads(params, Xs, XsT, ts, gviews)
            g += decay * theta
            m1 *= b1
            m1 += (1 - b1) * g
            m2 *= b2
            m2 += (1 - b2) * g * g
            theta -= (self.lr / (1 - b1 ** step)) * m1 / (np.sqrt(m2 / (1 - b2 ** step)) + eps)
        self.params, self.theta = params, theta
        return self

    @staticmethod
    def _forward(params, X):
        import numpy as np
        acts = [X]
        h = X
        L = len(params) // 2
        for k in range(L):
            h = h @ params[2 * k] + params[2 * k + 1]
            if k < L - 1:
                h = np.maximum(h, 0.0)
            acts.append(h)
        return acts

    def _grads(self, params, Xs, XsT, ts, out):
        """The mean squared error's gradient with respect to ``params``, written into ``out`` (same shapes)."""
        import numpy as np
        acts = self._forward(params, Xs)
        n = ts.shape[1]
        delta = 2.0 * (acts[-1][..., 0] - ts)[..., None] / n      # d(mean squared error)/d(output)
        for k in range(len(params) // 2 - 1, -1, -1):
            aT = XsT if k == 0 else np.ascontiguousarray(np.swapaxes(acts[k], 1, 2))
            np.matmul(aT, delta, out=out[2 * k])
            np.sum(delta, axis=1, keepdims=True, out=out[2 * k + 1])
            if k > 0:
                delta = delta @ np.ascontiguousarray(np.swapaxes(params[2 * k], 1, 2))
                delta *= acts[k] > 0

    def predict(self, X):
        """``(members, len(X))`` predictions, in the units of the training targets."""
        import numpy as np
        if self.params is None:
            raise RuntimeError("fit the ensemble before predicting")
        X = np.asarray(X, dtype=np.float32)
        out = self._forward(self.params, np.broadcast_to(X, (self.members,) + X.shape))[-1][..., 0]
        return out.astype(float) * self._sd + self._mu
