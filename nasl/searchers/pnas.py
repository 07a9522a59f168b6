"""PNAS: progressive search with a surrogate that ranks the expansions (Liu et al., ECCV 2018)."""
from __future__ import annotations

import math
import zlib

from nasl.ir.architecture import Architecture
from nasl.ir.errors import NaslError
from nasl.searchers.base import Result, Searcher
from nasl.searchers.decisions import Decisions
from nasl.searchers.encoding import OneHotEncoder
from nasl.searchers.journal import ARCH_SCORE, Log
from nasl.searchers.novelty import Novelty
from nasl.searchers.option_checks import at_least, positive
from nasl.searchers.registry import register_searcher
from nasl.searchers.surrogate import MLPEnsemble
from nasl.searchers.training_set import BestResults
from nasl.searchers.walks import has_constraints, sample, satisfies

SURROGATES = ("mlp", "lstm")


class UnknownSurrogate(NaslError, ValueError):
    """A ``surrogate`` option that is not one of :data:`SURROGATES` (a ValueError too, as other bad options are)."""


class _Done(Exception):
    """The walk reached the decision being looked for (the prefix is one short of it)."""


@register_searcher("pnas", example={"beam_size": 4, "epochs": 20})
class PNAS(Searcher):
    """Progressive neural architecture search (Liu, Zoph, Neumann, Shlens, Hua,
    Li, Fei-Fei, Yuille, Huang & Murphy, "Progressive Neural Architecture
    Search", ECCV 2018), on any space.

    PNAS grows cells block by block: it trains every cell of 1 block, then
    repeatedly expands the ``K`` cells of the last stage by one more block,
    ranks all the expansions with a surrogate fitted on every result so far,
    and trains the best ``K``, up to ``B`` blocks. Here the "blocks" are the
    space's decisions in walk order (:class:`~nasl.searchers.decisions.Decisions`:
    a cell-growing space lists a cell's blocks in order, and conditional
    choices appear only once they are active): stage ``b`` decides the first
    ``b`` decisions, and the later ones take their value in a *reference*
    architecture (a random one in the first round, so every stage's candidates
    are complete, valid architectures). When the last decision is reached,
    a new round starts with the best architecture found as the reference,
    so the search continues around it.

    The surrogate ranks by its ensemble's mean prediction (PNAS's ranking). It is
    either ``"mlp"``, the MLP ensemble of
    :class:`~nasl.searchers.surrogate.MLPEnsemble` on the one-hot encoding of
    the ChoiceSpec (or the study's ``encoder``), fitted afresh at every stage;
    or ``"lstm"``, the paper's: an ensemble of LSTMs over the architecture's
    decisions read as tokens, one per decision in walk order
    (:class:`~nasl.searchers.lstm_surrogate.LSTMEnsemble`), with a sigmoid
    output and an L1 loss, each member fitted to 4/5 of the data, and each
    fit after the first continuing from the last one's weights (kept in the
    searcher's state, so a resumed search ranks as the uninterrupted one).

    Parameters
    ----------
    spec, seed, encoder
        See :class:`~nasl.searchers.base.Searcher`.
    beam_size : int
        ``K``: architectures evaluated per stage (the paper: 256, over 1,160 models).
    decisions_per_stage : int
        Decisions added per stage (1: one block at a time).
    max_children : int
        Expansions scored per stage, at most (a random subset beyond).
    surrogate : {"mlp", "lstm"}
        The predictor (default "mlp"; BENCHMARKS.md section 47 compares them).
    ensemble_size, lr
        Members of either ensemble (5, the paper's) and Adam's step size (0.01).
    hidden, epochs
        The MLP's hidden widths ((32, 32)) and Adam steps per fit (200).
    lstm_size, lstm_epochs, warm_epochs
        The LSTM's hidden and embedding size (100, the paper's), its Adam steps in the first
        fit (100) and in each later, warm-started fit (30).
    objective : str, optional
        The objective to maximise (default: each result's first).
    max_train : int
        The surrogate learns from the best ``max_train`` results, in tell
        order (default 500; :mod:`nasl.searchers.training_set`): all of them in
        a search of the paper's length, a bounded fit after that.
    max_arms, bins
        How choices become decisions; see :class:`~nasl.searchers.decisions.Decisions`.
    """

    def __init__(self, spec, seed=None, *, beam_size: int = 20, decisions_per_stage: int = 1,
                 max_children: int = 1000, surrogate: str = "mlp", ensemble_size: int = 5, hidden: tuple = (32, 32),
                 epochs: int = 200, lr: float = 0.01, lstm_size: int = 100, lstm_epochs: int = 100,
                 warm_epochs: int = 30, objective: str | None = None, max_arms: int = 32,
                 bins: int = 8, max_train: int = 500, **kw):
        super().__init__(spec, seed, **kw)
        at_least(1, beam_size=beam_size, decisions_per_stage=decisions_per_stage, max_children=max_children,
                 ensemble_size=ensemble_size, epochs=epochs, lstm_size=lstm_size, lstm_epochs=lstm_epochs,
                 warm_epochs=warm_epochs)
        positive(lr=lr)
        if surrogate not in SURROGATES:
            raise UnknownSurrogate(f"pnas: unknown surrogate {surrogate!r}; the choices are {', '.join(SURROGATES)}")
        self.beam_size, self.decisions_per_stage, self.max_children = beam_size, decisions_per_stage, max_children
        self.surrogate, self.ensemble_size, self.hidden = surrogate, ensemble_size, tuple(hidden)
        self.epochs, self.lr, self.objective = epochs, lr, objective
        self.lstm_size, self.lstm_epochs, self.warm_epochs = lstm_size, lstm_epochs, warm_epochs
        self.decisions = Decisions(self.spec, max_arms, bins)
        self._check = has_constraints(self.spec)
        self.novelty = Novelty(self.spec, self._check)
        self.data = Log(codec=ARCH_SCORE)        # (arch, score) of successful results, in tell order
        if max_train < 1:
            raise ValueError(f"max_train must be at least 1, not {max_train}")
        self.max_train = max_train
        self.train = BestResults(max_train)      # what the surrogate learns from; rebuilt from `data` on load
        self.known: dict = {}                    # arch -> its latest score
        self.reference: dict | None = None       # decision key -> action of the round's reference
        self.beam: list = []                     # the stage's prefixes (lists of actions)
        self.stage = 0                           # decisions fixed by the beam's prefixes
        self.queue: list = []                    # the stage's architectures still to propose, best last
        self.rounds = 0
        self._onehot = None
        self._lstm = None                        # the LSTM ensemble, once fitted (its weights are state)
        self._tokens = None

    # ------------------------------------------------------------ prefixes
    def _complete(self, prefix):
        """``(architecture, arms of the next decision or None)``: ``prefix`` for the first decisions,
        the reference's actions (or a fixed hash of the key) for the rest."""
        n, nxt = len(prefix), []
        ref = self.reference or {}

        def pick(key, arms, allowed):
            t = len(picked)
            options = tuple(range(arms)) if allowed is None else tuple(allowed)
            if t == n:
                nxt.append(options)
            a = prefix[t] if t < n else ref.get(key)
            if a is None or a not in options:
                a = options[zlib.crc32(f"{key}:{self.seed}".encode()) % len(options)]
            picked.append(a)
            return a
        picked: list = []
        values, _ = self.decisions.sample(pick, self.rng)
        return Architecture._trusted(values), (nxt[0] if nxt else None)

    def _expand(self, prefixes) -> list:
        out = []
        for p in prefixes:
            _, options = self._complete(p)
            if options is not None:
                out.extend(list(p) + [a] for a in options)
        return out

    # ------------------------------------------------------------ stages
    def _propose(self) -> Architecture:
        for _ in range(8):                       # a stage (or a new round) that adds nothing new: the next
            while self.queue:
                arch = Architecture.from_json(self.queue.pop())
                if arch not in self.novelty.seen:
                    self.novelty.add(arch)
                    return arch
            self._next_stage()
        # nothing new from the progressive stages (a space nearly used up): a new architecture at random
        return self.novelty.propose(lambda: sample(self.spec, self.rng, self._check), self.rng)

    def _next_stage(self) -> None:
        if self.reference is None or self.stage == 0:
            self._new_round()
        children = [[]] if self.stage == 0 else self.beam
        for _ in range(self.decisions_per_stage):
            grown = self._expand(children)
            if not grown:
                break
            children = grown
        if not children or children == self.beam or children == [[]]:
            self.stage = 0                        # every prefix is complete: the round is over
            return
        if len(children) > self.max_children:
            children = self.rng.sample(children, self.max_children)
        cands, seen_here = [], set()
        for p in children:
            arch, _ = self._complete(p)
            if arch in seen_here or (self._check and not satisfies(self.spec, arch)):
                continue
            seen_here.add(arch)
            cands.append((p, arch))
        # the K best new expansions by the surrogate are evaluated, and they are the next beam (PNAS);
        # expansions evaluated before (a new round revisits the reference's neighbours) fill the beam
        # by their measured scores when fewer than K are new
        fresh = [c for c in cands if c[1] not in self.novelty.seen]
        if len(fresh) > self.beam_size:
            fresh = self._rank(fresh)[:self.beam_size]
        known = self.known
        old = sorted((c for c in cands if c[1] in self.novelty.seen), key=lambda c: -known.get(c[1], -math.inf))
        chosen = fresh + old[:self.beam_size - len(fresh)]
        self.beam = [p for p, _ in chosen]
        self.stage = len(self.beam[0]) if self.beam else 0
        self.queue = [a.to_json() for _, a in reversed(fresh)]

    def _new_round(self) -> None:
        """The reference is the best architecture found (a random one before any result)."""
        if len(self.data):
            best = self.train.best(1)[0][0]
        else:
            try:
                best = sample(self.spec, self.rng, self._check)
            except Exception:  # noqa: BLE001 - a space without a valid sample: the hash fallback decides
                best = None
        self.reference = {} if best is None else {s.key: s.action for s in self.decisions.encode(best)}
        self.stage, self.beam = 0, []
        self.rounds += 1

    def _rank(self, cands) -> list:
        """The candidates by the surrogate's predicted score, best first (random order before 2 results)."""
        if len(self.data) < 2:
            cands = list(cands)
            self.rng.shuffle(cands)
            return cands
        import numpy as np
        train = self.train.in_tell_order()
        y = np.array([s for _, s in train])
        if self.surrogate == "lstm":
            model = self._lstm_model()
            model.fit([self._tokens(a) for a, _ in train], y, seed=self.rng.getrandbits(32))
            mean = model.predict([self._tokens(a) for _, a in cands]).mean(axis=0)
        else:
            X = self._encode([a for a, _ in train])
            model = MLPEnsemble(self.ensemble_size, self.hidden, self.epochs, self.lr, seed=self.rng.getrandbits(32))
            model.fit(X, y)
            mean = model.predict(self._encode([a for _, a in cands])).mean(axis=0)
        order = sorted(range(len(cands)), key=lambda i: (-mean[i], i))
        return [cands[i] for i in order]

    def _lstm_model(self):
        if self._lstm is None:
            from nasl.searchers.lstm_surrogate import DecisionTokens, LSTMEnsemble
            # the first fit's weights come from the searcher's seed, so a restored searcher that has not
            # fitted yet draws the same ones
            self._lstm = LSTMEnsemble(self.ensemble_size, self.lstm_size, self.lstm_size, self.lstm_epochs,
                                      self.warm_epochs, self.lr, seed=zlib.crc32(f"pnas-lstm:{self.seed}".encode()))
            self._tokens = DecisionTokens(self.decisions)
        return self._lstm

    def _encode(self, archs):
        import numpy as np
        if self.encoder is not None:
            return np.stack([np.asarray(self.encoder(a), dtype=float).ravel() for a in archs])
        if self._onehot is None:
            self._onehot = OneHotEncoder(self.spec)
        return np.stack([self._onehot(a) for a in archs])

    # ------------------------------------------------------------ tells
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self.novelty.add(arch)
        s = result.fit_score(self.objective)
        if s is not None:
            self.data.append((arch, s))
            self.train.add(arch, s)
            self.known[arch] = s

    def _get_state(self):
        return {"data": self.data.state(), "novelty": self.novelty.state(), "reference": self.reference,
                "beam": self.beam, "stage": self.stage, "queue": list(self.queue), "rounds": self.rounds,
                "lstm": None if self._lstm is None else self._lstm.state()}

    def _set_state(self, state) -> None:
        self.data = Log.load(state["data"], ARCH_SCORE)
        self.train = BestResults(self.max_train, self.data)
        self.known = {a: s for a, s in self.data}
        self.novelty.load(state["novelty"])
        self.reference = state["reference"]
        self.beam = [list(p) for p in state["beam"]]
        self.stage, self.queue, self.rounds = state["stage"], list(state["queue"]), state["rounds"]
        self._lstm = None
        if state.get("lstm") is not None:        # absent in states written before the LSTM surrogate
            self._lstm_model().load(state["lstm"])


__all__ = ["PNAS"]
