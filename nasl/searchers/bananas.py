"""BANANAS: Bayesian optimization with a neural-network ensemble surrogate."""
from __future__ import annotations


from nasl.ir.architecture import Architecture
from nasl.searchers.base import Exhausted, Result, Searcher
from nasl.searchers.encoding import OneHotEncoder
from nasl.searchers.journal import ARCH, ARCH_SCORE, ArchSet, Log
from nasl.searchers.option_checks import at_least, positive
from nasl.searchers.registry import register_searcher
from nasl.searchers.surrogate import MLPEnsemble
from nasl.searchers.training_set import BestResults
from nasl.searchers.walks import NoValidArchitecture, Odometer, has_constraints, mutate, sample, satisfies

ACQUISITIONS = ("its", "ucb", "mean")


@register_searcher("bananas", example={"num_initial": 4, "candidates": 20, "random_candidates": 4, "batch_size": 3,
                                       "epochs": 20})
class Bananas(Searcher):
    """BANANAS (White, Neiswanger & Savani, "BANANAS: Bayesian Optimization with
    Neural Architectures for Neural Architecture Search", AAAI 2021), in the
    predictor-based style of PNAS (Liu et al., ECCV 2018).

    The first ``num_initial`` asks are random. Then, whenever its queue of
    proposals is empty, the searcher trains an ensemble of small MLPs
    (:class:`~nasl.searchers.surrogate.MLPEnsemble`) on the encodings and
    scores of every successful result told so far, builds a pool of
    ``candidates`` architectures (one- or two-choice mutations of the
    ``num_parents`` best, plus ``random_candidates`` random ones, none
    proposed before), ranks the pool by the acquisition over the ensemble's
    predictions, and queues the best ``batch_size``.

    Encodings: the study's ``encoder`` callable when one is given (e.g. the
    path encoding of :mod:`nasl.ir.encodings`), else the one-hot encoding of
    the ChoiceSpec (:class:`~nasl.searchers.encoding.OneHotEncoder`).

    Parameters
    ----------
    spec, seed, encoder
        See :class:`~nasl.searchers.base.Searcher`.
    num_initial : int
        Random asks before the first model (default 10).
    ensemble_size : int
        MLPs in the ensemble (paper: 5).
    candidates : int
        Mutations per model fit (default 100).
    random_candidates : int
        Random architectures added to the pool (default 10).
    num_parents : int
        How many of the best results are mutated (default 10).
    batch_size : int
        Proposals queued per model fit (paper: 10).
    acquisition : {"its", "ucb", "mean"}
        Independent Thompson sampling (the paper's), upper confidence bound
        ``mean + ucb_beta * std``, or the ensemble mean.
    ucb_beta : float
        Exploration weight of UCB (default 1.0).
    hidden, epochs, lr
        The MLPs' hidden widths (default (32, 32)), Adam steps of a fit from
        random weights (200) and step size (0.01).
    warm_epochs : int
        Adam steps of every later fit, which continues from the last fit's
        weights (default 40: a fifth of the cost, at the same quality,
        BENCHMARKS.md); 0 fits every time from random weights, as the paper does.
    objective : str, optional
        The objective to maximise (its direction respected; default: each result's first).
    max_train : int
        The ensemble learns from the best ``max_train`` results, in tell order
        (default 500; :mod:`nasl.searchers.training_set`): all of them in a
        search of the paper's length, and past that a fit costs the same
        however long the study runs. The parents are the best of all results.
    """

    def __init__(self, spec, seed=None, *, num_initial: int = 10, ensemble_size: int = 5, candidates: int = 100,
                 random_candidates: int = 10, num_parents: int = 10, batch_size: int = 10,
                 acquisition: str = "its", ucb_beta: float = 1.0, hidden: tuple = (32, 32), epochs: int = 200,
                 lr: float = 0.01, warm_epochs: int = 40, objective: str | None = None, max_train: int = 500,
                 **kw):
        super().__init__(spec, seed, **kw)
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition must be one of {', '.join(ACQUISITIONS)}, not {acquisition!r}")
        at_least(1, ensemble_size=ensemble_size, batch_size=batch_size, num_parents=num_parents, epochs=epochs,
                 max_train=max_train)
        if candidates < 0 or random_candidates < 0 or num_initial < 0 or warm_epochs < 0:
            raise ValueError("candidates, random_candidates, num_initial and warm_epochs cannot be negative")
        positive(lr=lr)
        at_least(0, ucb_beta=ucb_beta)
        self.num_initial, self.ensemble_size = num_initial, ensemble_size
        self.candidates, self.random_candidates = candidates, random_candidates
        self.num_parents, self.batch_size = num_parents, batch_size
        self.acquisition, self.ucb_beta = acquisition, ucb_beta
        self.hidden, self.epochs, self.lr, self.warm_epochs = tuple(hidden), epochs, lr, warm_epochs
        self.objective = objective
        self.max_train = max(max_train, num_parents)
        self.train = BestResults(self.max_train)     # rebuilt from `data` on load
        # journaled (nasl.searchers.journal): a study's snapshots store only what is new
        self.data = Log(codec=ARCH_SCORE)  # (arch, score) of successful results, in tell order
        self.seen = ArchSet()              # asked or told
        self.queue: list = []              # proposals of the last fit, best last
        self.num_fits = 0
        self.weights = None                # the last fit's flat float32 weights, which the next fit starts from
        self._rest = None                  # the unseen architectures, once random draws keep repeating
        self._check = has_constraints(self.spec)
        self._onehot = None
        self._cache: dict = {}

    # ------------------------------------------------------------ asks
    def _propose(self) -> Architecture:
        while self.queue:
            arch = self.queue.pop()
            if arch not in self.seen:
                return self._take(arch)
        if self.num_asked >= self.num_initial and len(self.data) >= 2:
            self.queue = self._acquire()
            while self.queue:
                arch = self.queue.pop()
                if arch not in self.seen:
                    return self._take(arch)
        return self._take(self._random())

    def _take(self, arch: Architecture) -> Architecture:
        self.seen.add(arch)
        return arch

    def _random(self) -> Architecture:
        try:
            if self._rest is None:
                for _ in range(100):
                    arch = sample(self.spec, self.rng, self._check)
                    if arch not in self.seen:
                        return arch
                rest = [a for a in Odometer(self.spec) if a not in self.seen
                        and (not self._check or satisfies(self.spec, a))]
                self.rng.shuffle(rest)
                self._rest = Log(rest, ARCH)
            while self._rest:
                arch = self._rest.pop()
                if arch not in self.seen:
                    return arch
        except NoValidArchitecture as e:
            raise Exhausted(str(e)) from None
        raise Exhausted(f"bananas has proposed all {len(self.seen)} architectures of the space")

    def _acquire(self) -> list:
        """Fit the ensemble, score a fresh pool, return the best ``batch_size`` (best last)."""
        import numpy as np
        pool = self._pool()
        if not pool:
            return []
        train = self.train.in_tell_order()
        X = self._encode([a for a, _ in train])
        y = np.array([s for _, s in train])
        model = MLPEnsemble(self.ensemble_size, self.hidden, self.epochs, self.lr, seed=self.rng.getrandbits(32))
        if self.warm_epochs and self.weights is not None:
            model.fit(X, y, init=self.weights, epochs=self.warm_epochs)
        else:
            model.fit(X, y)
        if self.warm_epochs:
            self.weights = model.theta
        pred = model.predict(self._encode(pool))
        mean, std = pred.mean(axis=0), pred.std(axis=0)
        if self.acquisition == "its":
            value = np.random.default_rng(self.rng.getrandbits(32)).normal(mean, std)
        elif self.acquisition == "ucb":
            value = mean + self.ucb_beta * std
        else:
            value = mean
        self.num_fits += 1
        order = sorted(range(len(pool)), key=lambda i: (-value[i], i))[:self.batch_size]
        return [pool[i] for i in reversed(order)]

    def _pool(self) -> list:
        parents = [a for a, _ in self.train.best(self.num_parents)]
        pool, inpool = [], set()
        rng = self.rng
        try:
            for i in range(self.candidates):
                child = mutate(self.spec, parents[i % len(parents)], rng, self._check)
                if rng.random() < 0.5:
                    child = mutate(self.spec, child, rng, self._check)
                if child not in self.seen and child not in inpool:
                    pool.append(child)
                    inpool.add(child)
            for _ in range(self.random_candidates):
                a = sample(self.spec, rng, self._check)
                if a not in self.seen and a not in inpool:
                    pool.append(a)
                    inpool.add(a)
        except NoValidArchitecture:
            pass        # a heavily constrained space: score what we have
        # a nearly used-up space leaves few unseen mutants: fill the batch with unseen architectures, so
        # a fit still serves batch_size asks (a fit per ask made late asks cost 2.8x, BENCHMARKS.md section 66)
        for _ in range(4 * self.batch_size):
            if len(pool) >= self.batch_size:
                break
            try:
                a = self._random()
            except Exhausted:
                break
            if a not in inpool:
                pool.append(a)
                inpool.add(a)
        return pool

    def _encode(self, archs):
        import numpy as np
        rows = []
        for a in archs:
            x = self._cache.get(a)
            if x is None:
                if self.encoder is not None:
                    x = np.asarray(self.encoder(a), dtype=float).ravel()
                else:
                    if self._onehot is None:
                        self._onehot = OneHotEncoder(self.spec)
                    x = self._onehot(a)
                self._cache[a] = x
            rows.append(x)
        return np.stack(rows)

    # ------------------------------------------------------------ tells
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.seen.add(arch)
        s = result.fit_score(self.objective)
        if s is not None:
            self.data.append((arch, s))
            self.train.add(arch, s)

    def _get_state(self):
        return {"data": self.data.state(), "seen": self.seen.state(),
                "queue": [a.to_json() for a in self.queue], "num_fits": self.num_fits,
                "rest": None if self._rest is None else self._rest.state(), "weights": _pack(self.weights)}

    def _set_state(self, state) -> None:
        self.data = Log.load(state["data"], ARCH_SCORE)
        self.train = BestResults(self.max_train, self.data)
        self.seen = ArchSet.load(state["seen"])
        self.queue = [Architecture.from_json(a) for a in state["queue"]]
        self.num_fits = state["num_fits"]
        rest = state["rest"]
        self._rest = None if rest is None else Log.load(rest, ARCH)
        self.weights = _unpack(state.get("weights"))      # absent in states written before warm starts


def _pack(theta):
    """Float32 weights as base64 of their little-endian bytes: exact, and a third of their JSON decimals' size."""
    import base64
    return None if theta is None else base64.b64encode(theta.astype("<f4").tobytes()).decode("ascii")


def _unpack(text):
    import base64

    import numpy as np
    return None if text is None else np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32)
