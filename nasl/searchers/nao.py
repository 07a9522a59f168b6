"""NAO: neural architecture optimization in a learned continuous embedding (Luo et al., NeurIPS 2018)."""
from __future__ import annotations

import zlib

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher
from nasl.searchers.decisions import Decisions
from nasl.searchers.journal import ARCH_SCORE, Log
from nasl.searchers.novelty import Novelty
from nasl.searchers.registry import register_searcher
from nasl.searchers.training_set import BestResults
from nasl.searchers.walks import NoValidArchitecture, has_constraints, sample, satisfies


def _token(key: str, action: int, vocab: int) -> int:
    return zlib.crc32(f"{key}={action}".encode()) % vocab


@register_searcher("nao", example={"num_initial": 4, "epochs": 5, "num_parents": 3, "max_steps": 3,
                                  "batch_size": 3})
class NAO(Searcher):
    """Neural Architecture Optimization (Luo, Tian, Qin, Chen & Liu, NeurIPS 2018).

    An architecture is its sequence of decisions (the ChoiceSpec walked
    top-down, :class:`~nasl.searchers.decisions.Decisions`), one token per
    (decision, answer). Three parts are trained together on every result
    told so far: an LSTM **encoder** whose mean hidden state, normalised, is
    the architecture's embedding ``e``; a **predictor** (an MLP) of the score
    from ``e``; and an LSTM **decoder** that rebuilds the sequence from ``e``.
    The loss is ``tradeoff * MSE(predictor) + (1 - tradeoff) * cross-entropy
    (decoder)``, with scores standardised. To propose, the ``num_parents``
    best architectures are encoded, ``e`` moves up the predictor's gradient
    (steps of ``eta / max_steps`` along the normalised gradient, up to
    ``max_steps``: the paper increases the step until the decoding is new),
    and each new decoding met on the way is proposed. Decoding walks the
    spec: at each active decision only that decision's answers (and of those,
    only the allowed ones) compete, so every decoding is a valid
    architecture. The first ``num_initial`` asks are random; the model is
    retrained from scratch (seeded, so a resumed searcher retrains the same
    model) once ``batch_size`` new results have come in since the last
    training; when the queue empties before that, the same model walks
    further from the parents.

    torch is imported when the searcher first trains, not when ``nasl.searchers`` is.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    num_initial : int
        Random asks before the first model (default 20).
    num_parents : int
        Best architectures moved in the embedding per training, at most (default 20).
    batch_size : int
        New decodings queued per training (default 10): each parent's walk up the gradient gives every
        new architecture it meets, until the batch is full.
    hidden_size : int
        Embedding, LSTM and predictor width (default 16).
    epochs, learning_rate : int, float
        Full-batch Adam steps per training (default 60) and step size (0.01).
    tradeoff : float
        The predictor's share of the loss (the paper: 0.8).
    eta : float
        The step in the embedding (default 0.5; the embedding has unit norm).
    max_steps : int
        Gradient steps tried per parent before giving up on it (default 20).
    vocab : int
        Size of the hashed token table (default 4096).
    objective : str, optional
        The objective to maximise (default: each result's first).
    max_train : int
        Each training uses the best ``max_train`` results so far, in tell
        order (default 500; :mod:`nasl.searchers.training_set`): all of them
        in a search of the paper's length, a bounded training after that.
    max_arms, bins
        How choices become decisions; see :class:`~nasl.searchers.decisions.Decisions`.
    """

    def __init__(self, spec, seed=None, *, num_initial: int = 20, num_parents: int = 20, batch_size: int = 10,
                 hidden_size: int = 16, epochs: int = 60, learning_rate: float = 0.01, tradeoff: float = 0.8,
                 eta: float = 0.5, max_steps: int = 20, vocab: int = 4096, objective: str | None = None, max_arms: int = 32,
                 bins: int = 8, max_train: int = 500, **kw):
        super().__init__(spec, seed, **kw)
        for name, v in (("num_parents", num_parents), ("batch_size", batch_size), ("hidden_size", hidden_size),
                        ("epochs", epochs), ("max_steps", max_steps), ("vocab", vocab), ("max_train", max_train)):
            if v < 1:
                raise ValueError(f"{name} must be at least 1, not {v}")
        if num_initial < 0 or not 0 <= tradeoff <= 1 or not eta > 0 or not learning_rate > 0:
            raise ValueError("num_initial must be >= 0, tradeoff in [0, 1], eta and learning_rate > 0")
        self.num_initial, self.num_parents, self.hidden_size = num_initial, num_parents, hidden_size
        self.batch_size = batch_size
        self.epochs, self.learning_rate, self.tradeoff = epochs, learning_rate, tradeoff
        self.eta, self.max_steps, self.vocab, self.objective = eta, max_steps, vocab, objective
        self.decisions = Decisions(self.spec, max_arms, bins)
        self._check = has_constraints(self.spec)
        self.novelty = Novelty(self.spec, self._check)
        self.data = Log(codec=ARCH_SCORE)      # (arch, score) of successful results, in tell order
        self.queue: list = []                  # decoded proposals, best last (JSON)
        self.trainings = 0
        self.trained_on = 0                    # results the current model was trained on (the first ones)
        self.reach = 0                         # walks with the current model so far
        self.max_train = max_train
        self.train = BestResults(max_train)   # the best results so far (rebuilt from `data` on load)
        self._model = None
        self._trained: list = []               # (arch, score, tokens) the current model was trained on

    # ------------------------------------------------------------ asks
    def _propose(self) -> Architecture:
        for _ in range(8):
            while self.queue:
                arch = Architecture.from_json(self.queue.pop())
                if arch not in self.novelty.seen:
                    self.novelty.add(arch)
                    return arch
            if self.num_asked < self.num_initial or len(self.data) < 2 or not self._optimize():
                break
        return self.novelty.propose(lambda: sample(self.spec, self.rng, self._check), self.rng)

    def _tokens(self, arch) -> list:
        return [_token(s.key, s.action, self.vocab) for s in self.decisions.encode(arch)]

    def _optimize(self) -> bool:
        """Train, move the best architectures up the predictor, queue their new decodings; False if none."""
        import torch

        from nasl.searchers.controller import single_thread
        from nasl.searchers.nao_model import train
        if self._model is None or len(self.data) - self.trained_on >= self.batch_size:
            self.trainings += 1
            self.trained_on, self.reach = len(self.data), 0
            self._model = None
            self._trained = [(a, s, self._tokens(a)) for a, s in self.train.in_tell_order()]
        else:
            self.reach += 1                  # the same model again: walk further from the parents
        seqs = [t for _, _, t in self._trained]
        if not any(seqs):
            return False
        scores = [s for _, s, _ in self._trained]
        with single_thread():
            if self._model is None:
                # from scratch under a seed of the training's number: a resumed searcher rebuilds this model
                # from the first `trained_on` results exactly
                seed = zlib.crc32(f"{self.seed}:{self.trainings}".encode())
                self._model = train(seqs, scores, self.vocab, self.hidden_size, self.epochs, self.learning_rate,
                                    self.tradeoff, seed)
            model = self._model
            order = sorted(range(len(seqs)), key=lambda i: -scores[i])[:self.num_parents]
            found = []
            step = self.eta * (1 + self.reach) / self.max_steps
            for i in order:
                e = model.embed([seqs[i]])
                for k in range(1, self.max_steps + 1):
                    e = e.detach().requires_grad_(True)
                    grad, = torch.autograd.grad(model.predict(e).sum(), e)
                    e = e + step * grad / (grad.norm() + 1e-12)
                    arch = self._decode(model, e.detach())
                    if arch is not None and arch not in self.novelty.seen and arch.to_json() not in found:
                        found.append(arch.to_json())        # and go on stepping: further moves, more proposals
                if len(found) >= self.batch_size:
                    break
        self.queue = list(reversed(found))
        return bool(found) or self.reach < 3

    def _decode(self, model, e):
        """The architecture the decoder rebuilds from ``e``: a walk of the spec, each decision the
        decoder's best allowed answer; None if it breaks the constraints."""
        run = model.decoder(e)

        def pick(key, arms, allowed):
            options = tuple(range(arms)) if allowed is None else tuple(allowed)
            return run.step([_token(key, a, self.vocab) for a in options], options)
        try:
            values, _ = self.decisions.sample(pick, self.rng)
        except NoValidArchitecture:
            return None
        if self._check and not satisfies(self.spec, values):
            return None
        return Architecture._trusted(values)

    # ------------------------------------------------------------ tells
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        s = result.fit_score(self.objective)
        if s is not None:
            self.data.append((arch, s))
            self.train.add(arch, s)

    def _get_state(self):
        return {"data": self.data.state(), "novelty": self.novelty.state(), "queue": list(self.queue),
                "trainings": self.trainings, "trained_on": self.trained_on, "reach": self.reach}

    def _set_state(self, state) -> None:
        self.data = Log.load(state["data"], ARCH_SCORE)
        self.train = BestResults(self.max_train, self.data)
        self.novelty.load(state["novelty"])
        self.queue, self.trainings = list(state["queue"]), state["trainings"]
        self.trained_on, self.reach = state["trained_on"], state["reach"]
        self._model = None
        if self.trainings:
            self._rebuild()

    def _rebuild(self) -> None:
        """The current model, trained again as it was (same results, same seed)."""
        from nasl.searchers.controller import single_thread
        from nasl.searchers.nao_model import train
        best = BestResults(self.max_train, (self.data[i] for i in range(self.trained_on)))
        self._trained = [(a, s, self._tokens(a)) for a, s in best.in_tell_order()]
        seqs = [t for _, _, t in self._trained]
        if any(seqs):
            with single_thread():
                self._model = train(seqs, [s for _, s, _ in self._trained], self.vocab, self.hidden_size, self.epochs,
                                    self.learning_rate, self.tradeoff,
                                    zlib.crc32(f"{self.seed}:{self.trainings}".encode()))
