"""An adapter that drives Optuna's samplers over a ChoiceSpec (optuna is optional).

Each ask is one Optuna trial (``study.ask()``). The spec's decision tree is
walked define-by-run: every *active* choice becomes ``trial.suggest_*``
calls named by its path, so a conditional choice is suggested only when its
branch is taken, and the sampler sees exactly the parameters that exist.

=====================  ==========================================================
choice kind            Optuna parameter(s)
=====================  ==========================================================
choice                 ``suggest_categorical(path, values)`` when the values are
                       plain str/int/float/bool, else over their indices; with
                       ``ordinal`` (the default for CMA-ES) ``suggest_int(path, 0, n-1)``
bool                   ``suggest_categorical(path, [False, True])``
int range              ``suggest_int(path, lo, hi, step=step, log=log)``
float range            ``suggest_float(path, lo, hi, log=log)``
subset, permutation    up to 1,000 values: a categorical (or ordinal) index over
                       them; more: one ``suggest_float(f"{path}[i]", 0, 1)`` key per
                       item (random keys: the items ordered by key)
any other kind         as a choice, over its values; a kind may instead give a
                       ``numeric_range()`` or random keys (``nasl.ir.choice_kind``)
=====================  ==========================================================

An architecture that breaks a constraint of the spec is told to Optuna as a
failed trial and the sampler asks again (up to ``max_tries`` times).

Bounded history: Optuna's samplers read every trial of their study on each
ask (TPE's cost per ask grows linearly with the study, BENCHMARKS.md
sections 43 and 61). Once the study holds ``max_history`` trials it is
rebuilt (:mod:`nasl.searchers.optuna_window`): a fresh in-memory study whose
sampler is seeded from ``seed`` and the rebuild's number, holding the most
recent ``max_history // 4`` finished trials and the best ``KEEP_BEST`` (TPE's
"good" group is at most the best 25), and the trials asked and not yet told.

Resumption: the searcher keeps a log of its asks and tells since the last
rebuild (which starts it with the trials it kept); ``state_dict`` holds that
log, and ``load_state_dict`` (like ``recover(history)``) replays it on a
fresh in-memory study with a sampler seeded as before. Optuna's seeded
samplers are deterministic given the same trials in the same order, so the
replayed searcher asks the same next architectures. A sampler created with
``seed=None`` is not reproducible, and neither is a resume.
"""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.ir.choice import Choice
from nasl.ir.errors import MissingDependency
from nasl.searchers.base import Exhausted, Result, Searcher
from nasl.searchers.journal import PLAIN, Log
from nasl.searchers.option_checks import at_least
from nasl.searchers.optuna_layout import distribution, layout

_layout = layout       # the name tests and older callers import from this module
from nasl.searchers.optuna_window import KEEP_BEST, kept_trials, sampler_seed
from nasl.searchers.registry import register_searcher
from nasl.searchers.walks import failed_constraint, has_constraints, none_met

SAMPLERS = ("tpe", "cmaes", "gp", "nsga2", "random")


def _require(module: str, feature: str, install: str):
    # MissingDependency is an ImportError and a NaslError: one line in the CLI, exit 1. (Searchers
    # import only nasl.ir's choice types and errors, so not nasl.ir.optional's table.)
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(f"{feature} needs the '{module}' package, which is not installed: "
                                f"{install}") from None


def _optuna():
    return _require("optuna", "the 'optuna' searcher", "pip install 'nasl[optuna]' (or pip install optuna)")


@register_searcher("optuna", example={"sampler_options": {"n_startup_trials": 5}})
class OptunaSearcher(Searcher):
    """Drive an Optuna sampler (Akiba et al., "Optuna: A Next-generation Hyperparameter
    Optimization Framework", KDD 2019) through its ask/tell interface.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`; ``seed`` seeds the sampler.
    sampler : {"tpe", "cmaes", "gp", "nsga2", "random"}
        TPE (Bergstra et al. 2011), CMA-ES (Hansen 2016; needs the ``cmaes``
        package), Gaussian-process BO (needs torch and scipy), NSGA-II (Deb et
        al. 2002) or random.
    sampler_options : dict, optional
        Keyword arguments for the sampler's constructor (e.g. ``n_startup_trials``).
    objectives : list of str, optional
        Several objectives to optimise together (a multi-objective study, each
        objective's direction taken from the results). Default: one objective,
        each result's first.
    ordinal : bool, optional
        Suggest choices as integer indices rather than categories (default:
        True for CMA-ES, which has no categorical model, else False).
    max_tries : int
        Trials per ask that may break the spec's constraints before
        :class:`Exhausted` is raised (default 100).
    max_history : int or None
        The most trials Optuna's study holds (default 1,000; at least 8).
        At that size it is rebuilt with the most recent quarter of its
        finished trials, the best ``KEEP_BEST`` and the pending ones, so a
        sampler reads between about a quarter of and all ``max_history``
        trials per ask and the cost of an ask stops growing with the search.
        None: the study keeps every trial (an ask's cost then grows with it).
    """

    def __init__(self, spec, seed=None, *, sampler: str = "tpe", sampler_options: dict | None = None,
                 objectives: list | None = None, ordinal: bool | None = None, max_tries: int = 100,
                 max_history: int | None = 1000, **kw):
        super().__init__(spec, seed, **kw)
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown Optuna sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
        _optuna()
        if sampler == "cmaes":
            _require("cmaes", "Optuna's CMA-ES sampler", "pip install cmaes")
        self.sampler_name = sampler
        self.sampler_options = dict(sampler_options or {})
        self.objectives = list(objectives) if objectives else None
        self.ordinal = (sampler == "cmaes") if ordinal is None else bool(ordinal)
        at_least(1, max_tries=max_tries)
        self.max_tries = max_tries
        if max_history is not None and (isinstance(max_history, bool) or not isinstance(max_history, int)
                                        or max_history < 8):
            raise ValueError(f"max_history must be an integer of at least 8, or None, not {max_history!r}")
        self.max_history = max_history
        self._check = has_constraints(self.spec)
        self._layouts: dict = {}
        self._reset()

    def _reset(self) -> None:
        self._new_study(0)
        self._log = Log(codec=PLAIN)    # every ask and tell since the last rebuild, to replay (journaled)

    def _new_study(self, generation: int) -> None:
        optuna = _optuna()
        if optuna.logging.get_verbosity() == optuna.logging.INFO:
            optuna.logging.set_verbosity(optuna.logging.WARNING)    # one log line per trial otherwise
        n = len(self.objectives) if self.objectives else 1
        self._generation = generation
        self.study = optuna.create_study(storage=optuna.storages.InMemoryStorage(),
                                         sampler=self._sampler(sampler_seed(self.seed, generation)),
                                         directions=["maximize"] * n)   # scores are signed: larger is better
        self._trials: dict = {}     # arch -> trials (objects, or numbers after a rebuild) asked, not yet told
        self._held = 0              # trials in self.study
        self._window: list = []     # [arch JSON, values] of its finished trials, in order

    def _rebuild(self) -> None:
        """A fresh study with the trials :func:`kept_trials` keeps; the log starts again from it."""
        pending = sorted((t if isinstance(t, int) else t.number, arch.to_json())
                         for arch, ts in self._trials.items() for t in ts)
        recent = self.max_history // 4
        kept = kept_trials(self._window, recent,
                           min(KEEP_BEST, recent) if not self.objectives or len(self.objectives) == 1 else 0)
        event = ["rebuild", self._generation + 1, kept, [a for _, a in pending]]
        self._apply_rebuild(*event[1:])
        self._log = Log([event], codec=PLAIN)

    def _apply_rebuild(self, generation: int, kept: list, pending: list) -> None:
        from optuna.trial import TrialState
        optuna = _optuna()
        self._new_study(generation)
        for arch, values in kept:
            self._add_known(Architecture.from_json(arch), values)
        for a in pending:       # asked, not told: running trials of the new study, told by number later
            arch = Architecture.from_json(a)
            params, dists = self._params(arch)
            self.study.add_trial(optuna.trial.create_trial(state=TrialState.RUNNING, params=params,
                                                           distributions=dists))
            self._trials.setdefault(arch, []).append(self._held)
            self._held += 1

    def _sampler(self, seed):
        s = _optuna().samplers
        cls = {"tpe": s.TPESampler, "cmaes": s.CmaEsSampler, "nsga2": s.NSGAIISampler,
               "random": s.RandomSampler}.get(self.sampler_name)
        if cls is None:
            cls = s.GPSampler
        try:
            return cls(seed=seed, **self.sampler_options)
        except TypeError as e:
            raise ValueError(f"bad sampler_options for Optuna's {cls.__name__}: {e}") from None

    # ------------------------------------------------------------ asks
    def _propose(self) -> Architecture:
        if self.max_history is not None and self._held >= self.max_history:
            self._rebuild()
        arch = self._ask_trial()
        self._log.append(["ask"])
        return arch

    def _ask_trial(self) -> Architecture:
        from collections import Counter
        from optuna.trial import TrialState
        fails: Counter = Counter()
        for _ in range(self.max_tries):
            trial = self.study.ask()
            self._held += 1
            values = self.spec.walk(lambda c, v: self._suggest(trial, c))
            con = failed_constraint(self.spec, values) if self._check else None
            if con is None:
                arch = Architecture._trusted(values)
                self._trials.setdefault(arch, []).append(trial)     # telling the object skips a deep copy
                return arch
            fails[con] += 1
            self.study.tell(trial, state=TrialState.FAIL)
        raise Exhausted(f"optuna: {none_met(fails, self.max_tries, 'Optuna trials in a row')} "
                        f"(Optuna samples each choice itself; 'random' draws such constraints exactly)")

    def _layout(self, c: Choice):
        """``(params, decode, encode)``: the Optuna parameters of ``c`` and the maps to and from its value."""
        lay = self._layouts.get(c.path)
        if lay is None:
            lay = self._layouts[c.path] = _layout(c, self.ordinal)
        return lay

    def _suggest(self, trial, c: Choice):
        params, decode, _ = self._layout(c)
        raw = []
        for name, kind, args in params:
            if kind == "int":
                lo, hi, step, log = args
                raw.append(trial.suggest_int(name, lo, hi, step=step, log=log))
            elif kind == "float":
                raw.append(trial.suggest_float(name, args[0], args[1], log=args[2]))
            else:
                raw.append(trial.suggest_categorical(name, args))
        return decode(raw)

    # ------------------------------------------------------------ tells
    def _feedback(self, arch: Architecture, result: Result) -> None:
        self._tell_trial(arch, result)
        self._log.append(["tell", arch.to_json(), result.to_dict()])

    def _values(self, result: Result):
        if result.failed:
            return None
        names = self.objectives or [None]
        if any(n is not None and n not in result.objectives for n in names):
            return None
        return [result.score(n) for n in names]

    def _tell_trial(self, arch: Architecture, result: Result) -> None:
        from optuna.trial import TrialState
        values = self._values(result)
        trials = self._trials.get(arch)
        if trials:
            trial = trials.pop(0)
            if not trials:
                del self._trials[arch]
            if values is None:
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                self.study.tell(trial, values if len(values) > 1 else values[0])
                self._window.append([arch.to_json(), values])
        elif values is not None:
            self._add_known(arch, values)

    def _params(self, arch: Architecture):
        """Optuna's ``(params, distributions)`` of ``arch``; KeyError or ValueError if not of this spec."""
        optuna = _optuna()
        params, dists = {}, {}
        for c in self.spec.active_choices(dict(arch)):
            layout, _, encode = self._layout(c)
            for (name, kind, args), raw in zip(layout, encode(arch[c.path])):
                dists[name] = distribution(optuna, kind, args)
                params[name] = raw
        return params, dists

    def _add_known(self, arch: Architecture, values) -> None:
        """A result for an architecture never asked: add it as a finished trial the sampler learns from."""
        try:
            params, dists = self._params(arch)
            trial = _optuna().trial.create_trial(params=params, distributions=dists, values=values)
        except (KeyError, ValueError):
            return      # not an architecture of this spec: nothing the sampler could learn from
        self.study.add_trial(trial)
        self._held += 1
        self._window.append([arch.to_json(), list(values)])

    # ------------------------------------------------------------ state
    def _get_state(self):
        return {"log": self._log.state()}

    def _set_state(self, state) -> None:
        self._reset()
        log = Log.load(state["log"], PLAIN)
        for event in log:
            if event[0] == "ask":
                self._ask_trial()
            elif event[0] == "rebuild":         # only ever the first event
                self._apply_rebuild(*event[1:])
            else:
                self._tell_trial(Architecture.from_json(event[1]), Result.coerce(event[2]))
        self._log = log       # the loaded one: a study's next snapshot stores only new events
