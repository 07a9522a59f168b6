"""NAO: neural architecture optimization in a learned continuous embedding (Luo et al., NeurIPS 2018)."""
from __future__ import annotations

import base64
import zlib

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Result, Searcher
from nasl.searchers.decisions import Decisions
from nasl.searchers.journal import ARCH_SCORE, Log
from nasl.searchers.nao_decode import SequenceCoding
from nasl.searchers.novelty import Novelty
from nasl.searchers.option_checks import at_least
from nasl.searchers.registry import register_searcher
from nasl.searchers.training_set import BestResults
from nasl.searchers.walks import has_constraints, sample


@register_searcher("nao", example={"num_initial": 4, "epochs": 5, "warm_epochs": 2, "num_parents": 3,
                                  "max_step_size": 4, "batch_size": 3, "hidden_size": 8, "vocab": 64})
class NAO(SequenceCoding, Searcher):
    """Neural Architecture Optimization (Luo, Tian, Qin, Chen & Liu, NeurIPS 2018).

    An architecture is its sequence of decisions (the ChoiceSpec walked
    top-down, :class:`~nasl.searchers.decisions.Decisions`). An encoder, a
    predictor and a decoder (:mod:`nasl.searchers.nao_model`) are trained
    together on the results so far, with the loss ``tradeoff * MSE
    (predictor) + (1 - tradeoff) * cross-entropy (decoder)``. Then, as in the
    paper's loop: the ``num_parents`` best architectures are encoded, their
    embeddings move up the predictor's gradient by step size 1, 2, ... up to
    ``max_step_size``, and every decoding not seen before is queued, until
    ``batch_size`` are. Asks take the queue; when it is empty and results
    have come in since the last training, the model trains again (warm:
    from its last weights, ``warm_epochs`` steps); otherwise it walks on
    from the step size it reached, and once that passes ``max_step_size``
    the asks are random until the next training. After each training whose
    walk found nothing new, the next one waits for twice as many new
    results (2, 4, ... up to ``batch_size``), so a space the walks no longer
    open costs a training per generation, not per result.

    The first ``num_initial`` asks are random (the seed population). A
    decoding answers each decision the spec asks, in the spec's order, among
    the arms the spec allows there (the decoder's best), so every decoding
    is an architecture of the space; one that breaks a constraint is
    dropped. The walks of a batch are decoded in lock step, one LSTM step
    per decision for the whole batch. When nothing new comes out up to the
    largest step, the ask is a random architecture.

    torch is imported when the searcher first trains, not when ``nasl.searchers`` is.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    num_initial : int
        Random asks before the first model (default 30).
    num_parents : int
        The best results moved in the embedding (default 20; the official code: 100).
    batch_size : int
        New architectures proposed per generation (default 10).
    hidden_size : int
        Width of the embeddings, LSTMs and predictor (default 32).
    epochs, warm_epochs : int
        Full-batch Adam steps of the first training (default 100) and of every later one, which starts
        from the last weights (default 10; the official code also keeps training one model). The
        official code trains 1,000 epochs of minibatches; these few steps beat random search on
        NAS-Bench-201 at a few seconds per 200 queries (BENCHMARKS.md, section 46).
    learning_rate : float
        Adam's step (default 0.01; the official code: 0.001 over its 1,000 epochs).
    tradeoff : float
        The predictor's share of the loss (the paper: 0.8).
    max_step_size : int
        The largest step size tried (default 50, the official code's for CIFAR-10).
    vocab : int
        Ids for decision keys (hashed) and for arms (arm index modulo ``vocab``; default 64). Two arms
        of one decision with the same id (a decision of more than ``vocab`` arms) cannot be told apart
        by the decoder: it takes the first of them.
    objective : str, optional
        The objective to maximise (default: each result's first).
    max_train : int
        Each training uses the best ``max_train`` results so far, in tell order (default 500;
        :mod:`nasl.searchers.training_set`), so a training costs the same however long the study.
    max_arms, bins
        How choices become decisions; see :class:`~nasl.searchers.decisions.Decisions`.
    """

    def __init__(self, spec, seed=None, *, num_initial: int = 30, num_parents: int = 20, batch_size: int = 10,
                 hidden_size: int = 32, epochs: int = 100, warm_epochs: int = 10, learning_rate: float = 0.01,
                 tradeoff: float = 0.8, max_step_size: int = 50, vocab: int = 64, objective: str | None = None,
                 max_arms: int = 32, bins: int = 8, max_train: int = 500, **kw):
        super().__init__(spec, seed, **kw)
        at_least(1, num_parents=num_parents, batch_size=batch_size, hidden_size=hidden_size, epochs=epochs,
                 max_step_size=max_step_size, vocab=vocab, max_train=max_train)
        if num_initial < 0 or warm_epochs < 0 or not 0 <= tradeoff <= 1 or not learning_rate > 0:
            raise ValueError("num_initial and warm_epochs must be >= 0, tradeoff in [0, 1], learning_rate > 0")
        self.num_initial, self.num_parents, self.batch_size = num_initial, num_parents, batch_size
        self.hidden_size, self.epochs, self.warm_epochs = hidden_size, epochs, warm_epochs
        self.learning_rate, self.tradeoff = learning_rate, tradeoff
        self.max_step_size, self.vocab, self.objective = max_step_size, vocab, objective
        self.decisions = Decisions(self.spec, max_arms, bins)
        self._check = has_constraints(self.spec)
        self.novelty = Novelty(self.spec, self._check)
        self.data = Log(codec=ARCH_SCORE)      # (arch, score) of successful results, in tell order
        self.max_train = max(max_train, num_parents)
        self.train = BestResults(self.max_train)   # rebuilt from `data` on load
        self.queue: list = []                  # decoded proposals, next last (JSON)
        self.trainings = 0
        self.trained_on = 0                    # results added when the current model was trained
        self.next_size = 1                     # the next step size to try with the current model
        self.dry = 0                           # trainings in a row whose walk found nothing new
        self.weights: bytes | None = None      # the current model's weights (searcher state)
        self._model = None                     # built from `weights` when needed
        self._seqs: dict = {}                  # arch -> its decision sequence, for the training set only
        self._ranges: dict = {}
        self._flat = self._flat_decisions()

    # ------------------------------------------------------------ asks
    def _propose(self) -> Architecture:
        while True:
            while self.queue:
                arch = Architecture.from_json(self.queue.pop())
                if arch not in self.novelty.seen:
                    self.novelty.add(arch)
                    return arch
            if self.num_asked < self.num_initial or len(self.train) < 2 or not self._generate():
                break
        return self.novelty.propose(lambda: sample(self.spec, self.rng, self._check), self.rng)

    def _generate(self) -> bool:
        """Train if results came in, move the parents up the predictor, queue the new decodings; False if none."""
        from nasl.searchers.controller import single_thread
        # Retrain on every new result while the walks find architectures; after each training whose
        # walk found none, wait for twice as many (up to batch_size, the paper's generation).
        # Retraining on every result for ever made each late ask a training and a full walk (section 65).
        need = min(self.batch_size, 2 ** self.dry)
        if self.weights is None or self.train.added - self.trained_on >= need:
            with single_thread():
                self._train()
        if self.next_size > self.max_step_size:
            return False
        from nasl.searchers.nao_model import Batch
        parents = [a for a, _ in self.train.best(self.num_parents)]
        batch = Batch([self._seq(a) for a in parents], self.vocab)
        model, found, known = self._current(), [], set()
        seed = self.rng.getrandbits(32)
        with single_thread():
            while self.next_size <= self.max_step_size and len(found) < self.batch_size:
                H = model.step_up(batch, float(self.next_size))
                self.next_size += 1
                for arch in self._decode(model, H, batch.mask, seed):
                    if arch is not None and arch not in self.novelty.seen and arch not in known:
                        known.add(arch)
                        found.append(arch.to_json())
                        if len(found) == self.batch_size:
                            break
        self.queue = list(reversed(found))
        if found:
            self.dry = 0
        elif self.next_size > self.max_step_size:
            self.dry += 1
        return bool(found)

    def _train(self) -> None:
        from nasl.searchers import nao_model
        rows = self.train.in_tell_order()
        self._seqs = {a: self._seqs.get(a) or self._encode(a) for a, _ in rows}
        model = self._current()
        warm = model is not None
        if not warm:
            model = nao_model.new_model(self.vocab, self.hidden_size, zlib.crc32(f"nao:{self.seed}".encode()))
        steps = self.warm_epochs if warm else self.epochs
        nao_model.fit(model, nao_model.Batch([self._seqs[a] for a, _ in rows], self.vocab),
                      [s for _, s in rows], steps, self.learning_rate, self.tradeoff)
        self._model, self.weights = model, nao_model.get_weights(model)
        self.trainings += 1
        self.trained_on, self.next_size = self.train.added, 1

    def _current(self):
        if self._model is None and self.weights is not None:
            from nasl.searchers import nao_model
            self._model = nao_model.new_model(self.vocab, self.hidden_size, 0)
            nao_model.set_weights(self._model, self.weights)
        return self._model

    # ------------------------------------------------------------ tells
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        s = result.fit_score(self.objective)
        if s is None:
            return
        try:
            self.decisions.encode(arch)         # an architecture told from outside that does not fit is skipped
        except ValueError:
            return
        self.data.append((arch, s))
        self.train.add(arch, s)

    def _get_state(self):
        return {"data": self.data.state(), "novelty": self.novelty.state(), "queue": list(self.queue),
                "trainings": self.trainings, "trained_on": self.trained_on, "next_size": self.next_size,
                "dry": self.dry,
                "weights": None if self.weights is None else base64.b64encode(self.weights).decode("ascii")}

    def _set_state(self, state) -> None:
        self.data = Log.load(state["data"], ARCH_SCORE)
        self.train = BestResults(self.max_train, self.data)
        self.novelty.load(state["novelty"])
        self.queue, self.trainings = list(state["queue"]), state["trainings"]
        self.trained_on, self.next_size = state["trained_on"], state["next_size"]
        self.dry = state.get("dry", 0)        # absent from a study saved before it was kept
        w = state["weights"]
        self.weights = None if w is None else base64.b64decode(w)
        self._model, self._seqs = None, {}
