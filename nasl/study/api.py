"""``nasl.search``: set up (or resume) a study and run the loop."""
from __future__ import annotations

import os

from nasl.ir.errors import NaslError
from nasl.study.storage import Storage
from nasl.study.study_checks import (check_evaluator_space, check_model_inputs, check_resume_evaluator,
                                     check_searcher, make_searcher, refuse_unsatisfiable, space_check)

DEFAULT_SEARCHER = "regularized_evolution"


def space_source(space) -> tuple[str, str, dict]:
    """``(source text, file name, params)`` of a path, a Space or source text."""
    if hasattr(space, "spec") and hasattr(space, "_backend"):
        source = getattr(space._backend, "source", None)
        if source is None:
            raise NaslError("this Space was not built from nasl source text; pass its .nas path instead")
        return source, space.name, dict(space.params)
    if isinstance(space, (str, os.PathLike)) and ("\n" not in str(space)):
        path = os.fspath(space)
        try:
            with open(path, encoding="utf-8") as f:
                return f.read(), path, {}
        except OSError as e:
            raise NaslError(f"cannot read the space '{path}': {e.strerror}") from None
    if isinstance(space, str):
        return space, "<string>", {}
    raise NaslError(f"the space is a .nas path, a Space or source text, not {type(space).__name__}")


def _objectives(evaluator, objectives) -> dict:
    directions = dict(getattr(evaluator, "directions", None) or {})
    if not directions:
        raise NaslError(f"the evaluator {evaluator!r} has no 'directions' ({{objective: 'max'|'min'}})")
    if objectives is None:
        return directions
    if isinstance(objectives, str):
        objectives = [objectives]
    if isinstance(objectives, dict):
        # a name without a direction (None) takes the evaluator's: `--objective val_accuracy --objective params:min`
        unknown = [k for k, v in objectives.items() if v is None and k not in directions]
        if unknown:
            raise NaslError(f"the evaluator has no objective '{unknown[0]}'; its objectives: {', '.join(directions)} "
                            f"(for another metric it reports, give a direction: --objective {unknown[0]}:min)")
        out = {k: directions[k] if v is None else v for k, v in objectives.items()}
    else:
        out = {}
        for o in objectives:
            # "name:max" / "name:min" gives the direction (the command line's --objective NAME:DIR)
            name, sep, direction = str(o).rpartition(":") if str(o).endswith((":max", ":min")) else (o, "", "")
            if not sep and name not in directions:
                guess = "min" if _costlike(name) else "max"
                raise NaslError(f"the evaluator has no objective '{name}'; its objectives: {', '.join(directions)} "
                                f"(for another metric it reports, give its direction: --objective {name}:{guess} "
                                f"on the command line, objectives=['{name}:{guess}'] in Python)")
            out[name] = direction or directions[name]
    bad = {k: v for k, v in out.items() if v not in ("max", "min")}
    if bad or not out:
        raise NaslError(f"objectives map names to 'max' or 'min'; got {objectives!r}")
    return out


def _costlike(name: str) -> bool:
    """A metric that is better smaller (a cost, a loss, an error): what a hint suggests minimising."""
    return name.lower().startswith(("param", "flop", "mac", "latency", "loss", "error", "val_loss", "time",
                                    "memory", "size", "energy"))


def _resolve_evaluator(evaluator, stored, options=None, cost=None):
    from nasl.study import evaluator_config
    if evaluator is None and stored is not None:
        return evaluator_config.rebuild(stored, options)
    if evaluator is None or isinstance(evaluator, str):
        return evaluator_config.build(evaluator or "digits", options, cost)
    if not callable(evaluator):
        raise NaslError(f"an evaluator is a callable or a spec string, not {type(evaluator).__name__}")
    if options:
        raise NaslError("evaluator_options (-E) apply to an evaluator spec string, not to an evaluator object")
    return evaluator_config.with_cost(evaluator, cost)


def evaluator_record(ev) -> dict:
    """What a study records of its evaluator (:func:`nasl.study.evaluator_config.record`)."""
    from nasl.study.evaluator_config import record
    return record(ev)


def search(space=None, searcher=None, evaluator=None, budget=None, objectives=None, executor=None,
           workers=None, storage=None, seed=None, resume: bool = False, timeout=None, searcher_options=None,
           params=None, ops=None, progress: bool = True, ray_address=None, resources=None,
           deterministic=None, snapshot_every: int = 100, force: bool = False, trust: bool = False,
           evaluator_options=None, cost=None, time_budget=None, callbacks=None, log_dir=None, warm_start=None,
           run_config=None, pruner=None, pruner_options=None, scheduler=None, scheduler_options=None):
    """Search ``space`` and record every trial; returns a :class:`~nasl.study.study.Study`.

    See docs/study.md for every argument. In short: ``searcher`` (default
    ``"regularized_evolution"``) with ``searcher_options`` and ``seed``
    (default 0) proposes; ``evaluator`` (an object or a spec string such as
    ``"digits"`` or ``"table:nb201.csv"``) scores; ``budget`` trials
    (complete + failed) run on ``executor`` (default ``"inline"``) with
    ``workers`` (default 1) in flight, each within ``timeout`` seconds;
    ``storage`` is the SQLite file (None: in memory). ``resume=True``
    continues the study in ``storage``; then ``space``, ``searcher``,
    ``evaluator`` and ``seed`` default to the recorded ones, and
    ``executor``, ``workers`` and ``deterministic`` to the last run's.
    A study file is data: the op modules it records, and a ``python:``
    evaluator spec it records, are imported on resume only when ``ops``
    names them again (or ``evaluator`` is given again), or with
    ``trust=True`` (see :mod:`nasl.study.trust`).
    ``evaluator_options`` go to a spec string's evaluator (``{"epochs": 8,
    "lr": 0.05, "data": "mine.npz"}``) and ``cost`` (``["params"]``) adds
    cost metrics as minimised objectives (:mod:`nasl.study.evaluator_config`);
    both are recorded, so resume rebuilds the same evaluator.
    ``time_budget`` (seconds) stops asking new trials once the run has
    lasted that long (:mod:`nasl.study.time_budget`). ``callbacks``
    (functions ``fn(study, trial)``) run after each recorded trial
    (:mod:`nasl.study.callbacks`); ``log_dir`` writes each trial's curve
    as CSV, and to TensorBoard when installed (:mod:`nasl.study.curve_log`).
    ``warm_start`` (a study file) tells a new study's searcher that study's
    results before it asks (:mod:`nasl.study.warm_start`). ``run_config``
    (a JSON-able dict; ``nasl search`` passes its resolved options) is
    recorded in the study's ``meta`` as ``config``. ``pruner``
    (``"median"``, ``"curve"`` or a :class:`~nasl.study.pruners.Pruner`,
    with ``pruner_options``) stops trials whose partial curve will not win;
    they are recorded ``pruned`` (:mod:`nasl.study.pruners`). A named pruner
    is recorded, and a resume without one uses it again.
    ``scheduler="pbt"`` (with ``scheduler_options``) trains a population
    with population-based training instead of asking a searcher
    (:mod:`nasl.study.pbt_api`); a PBT study resumes as one.
    Ctrl-C raises :class:`~nasl.study.loop.SearchInterrupted` after
    recording what finished. ``force=True`` takes the study over from a
    process that still holds its lock (see :mod:`nasl.study.locking`).
    """
    given = dict(locals())            # every argument by name, before any other local exists
    from nasl.study import pbt_api
    if pbt_api.wanted(scheduler, resume, storage):
        # the space as (source, file, params): pbt_api does not import this module back; it refuses
        # the arguments a population does not use (searcher, budget, ...) by name
        rest = {k: v for k, v in given.items() if k not in ("space", "scheduler")}
        return pbt_api.search(None if space is None else space_source(space), **rest)
    if scheduler_options is not None:
        raise NaslError("scheduler_options apply to a scheduler (scheduler='pbt')")
    from nasl.study import settings
    from nasl.study.locking import StudyLock
    from nasl.study.loop import Loop, SearchInterrupted, restore_searcher
    from nasl.study.runners import check_executor, make_runner
    from nasl.study.study import Study
    from nasl.study.trust import allowed_modules

    # every option is checked before a file is created: a failed start leaves nothing behind
    searcher, searcher_options, seed = _searcher_argument(searcher, searcher_options, seed)
    from nasl.study.time_budget import check as check_time_budget
    timeout, resources = settings.timeout(timeout), settings.resources(resources)
    time_budget = check_time_budget(time_budget)
    from nasl.study.callbacks import check as check_callbacks
    callbacks = check_callbacks(callbacks)
    if log_dir is not None:
        from nasl.study.curve_log import CurveLog
        callbacks.append(CurveLog(log_dir))
    from nasl.study.pruners import make_pruner
    pruner = make_pruner(pruner, pruner_options)
    executor, workers = settings.executor(executor), settings.workers(workers)
    deterministic = settings.deterministic(deterministic)
    path = ":memory:" if storage is None else os.fspath(storage)
    new_file = path == ":memory:" or not os.path.exists(path)
    if resume and new_file:
        where = "storage=None keeps a study in memory" if path == ":memory:" else f"there is no file '{path}'"
        raise NaslError(f"no study to resume: {where}; leave out resume (--resume) to start one")
    new = dict(space=space, searcher=searcher, evaluator=evaluator, budget=budget, objectives=objectives,
               seed=seed, searcher_options=searcher_options, params=params, ops=ops,
               evaluator_options=evaluator_options, cost=cost)
    prepared = _prepare_new(**new) if new_file else None
    if prepared is not None:
        check_executor(executor or "inline", prepared[1])
    warm = None
    if warm_start is not None:
        from nasl.study import warm_start as warm_module
        if prepared is None:
            raise NaslError("warm_start (--warm-start) applies to a new study; this one has its own results already")
        warm = warm_module.read(warm_start, prepared[0]["objectives"], space_check(prepared[0]))

    store = Storage(storage)
    lock = StudyLock(store, force=force)
    if lock.note and (progress or lock.note.startswith("warning")):
        print(lock.note, file=__import__("sys").stderr)
    try:
        row = store.load_study()
        if row is not None and not resume:
            n = sum(store.counts().values())
            raise NaslError(f"'{store.path}' already holds a study ({n} trials); pass resume=True (--resume) "
                            f"to continue it, or choose another file")
        if row is None:
            if space is None and resume:
                # a run killed while it set the study up leaves the schema (and maybe a lock) but no study
                raise NaslError(f"'{store.path}' holds no study yet (the run that created it stopped before "
                                f"recording one); start it again without resume=True (--resume), giving the space")
            config, ev, s = prepared or _prepare_new(**new)
            store.create_study(**config)
            journal = None
            if warm is not None:
                note = warm_module.apply(s, warm[0], store, warm_start)
                if progress:
                    print(note + (f" ({warm[1]} of other spaces skipped)" if warm[1] else ""),
                          file=__import__("sys").stderr)
        else:
            config = _check_resume(row, space, params, searcher, searcher_options, seed)
            recorded = row["evaluator"] if isinstance(row["evaluator"], dict) else {}
            config["ops"] = allowed_modules(f"the study '{store.path}'", config["ops"], ops=ops, trust=trust,
                                            evaluator_spec=recorded.get("spec") if evaluator is None else None)
            check_resume_evaluator(store.path, recorded, evaluator, evaluator_options, cost, trust)
            ev = _resolve_evaluator(evaluator, recorded if evaluator is None else None,
                                    None if evaluator is None else evaluator_options, cost)
            check_model_inputs(recorded, ev)
            missing = [o for o in config["objectives"] if o not in getattr(ev, "directions", {})]
            if missing:
                raise NaslError(f"the evaluator does not report the study's objective '{missing[0]}'")
            if budget is not None:
                budget = settings.integer("budget", budget, 1)
                store.set_budget(budget)
                config["budget"] = budget
            space_obj = space_check(config)
            check_evaluator_space(ev, space_obj)
            s = make_searcher(config, space_obj)
            journal = restore_searcher(s, store, config["objectives"])
        config["artifact_dir"] = None if store.path == ":memory:" else store.path + ".artifacts"
        run = settings.for_run(store if row is not None else None, executor, workers, deterministic)
        pruner = _run_pruner(store, pruner, resuming=row is not None)
        store.set_meta(settings.to_record(run))
        if run_config is not None:
            store.set_meta({"config": run_config})      # the resolved options of this run (nasl search --config)
        runner = make_runner(run["executor"], ev, list(config["objectives"]), workers=run["workers"],
                             timeout=timeout, ray_address=ray_address, resources=resources)
        loop = Loop(store, s, runner, config, progress=progress, deterministic=run["deterministic"],
                    snapshot_every=snapshot_every, journal=journal, time_budget=time_budget,
                    callbacks=callbacks, pruner=pruner)
        loop.requeue()
        try:
            loop.run()
        except KeyboardInterrupt:
            c = store.counts()
            where = "storage=None (in memory): nothing to resume" if store.path == ":memory:" else \
                f"resume with: nasl search --study {store.path} --resume (or nasl.search(..., resume=True))"
            raise SearchInterrupted(f"interrupted: {c['complete']} complete, {c['failed'] + c['pruned']} failed; "
                                    f"{c['running']} unfinished will run again on resume; {where}",
                                    Study(store, ops=ops, trust=trust)) from None
    finally:
        lock.release()
    return Study(store, ops=ops, trust=trust)


def _run_pruner(store, pruner, resuming: bool):
    """This run's pruner: the one given (recorded, when it has a name), else on resume the study's."""
    from nasl.study.pruners import PRUNERS, from_record
    if pruner is None and resuming:
        try:
            return from_record(store.meta("pruner"))
        except (NaslError, KeyError, TypeError, AttributeError) as e:
            raise NaslError(f"'{store.path}' records a bad pruner ({e}); give the pruner explicitly") from None
    # a pruner of one's own is not recorded (as an Executor object is not): a resume needs it again
    store.set_meta({"pruner": pruner.record() if type(pruner) in PRUNERS.values() else None})
    return pruner


def _searcher_argument(searcher, searcher_options, seed):
    """A searcher name as is; a searcher object as the name, options and seed it is recorded by."""
    from nasl.study.searcher_object import describe, is_searcher_object
    if searcher is None or isinstance(searcher, str):
        return searcher, searcher_options, seed
    if is_searcher_object(searcher):
        return describe(searcher, searcher_options, seed)
    kind = f"the class {searcher.__qualname__}" if isinstance(searcher, type) else f"a {type(searcher).__name__}"
    raise NaslError(f"searcher is a registered name ('regularized_evolution'; see nasl.searchers.list_searchers()) "
                    f"or a Searcher object, not {kind}")


def _budget_options(name: str, options: dict, budget: int) -> dict:
    """The searcher's options with the defaults it scales to the budget filled in (they are recorded, so
    a resume, even with a larger budget, rebuilds the same searcher); its warnings go to stderr."""
    import sys
    from nasl.searchers.registry import get_searcher
    scale = getattr(get_searcher(name), "options_for_budget", None)
    if scale is None:
        return options
    options, warnings = scale(budget, options)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return options


def _prepare_new(*, space, searcher, evaluator, budget, objectives, seed, searcher_options, params, ops,
                 evaluator_options=None, cost=None, time_budget=None, callbacks=None, log_dir=None, warm_start=None,
           run_config=None):
    """``(config, evaluator, searcher)`` of a new study, every part checked; nothing is written."""
    from nasl.study import settings
    from nasl.study.searcher_inputs import check_searcher_options
    if space is None:
        raise NaslError("give the space to search (a .nas path, a Space or source text)")
    if budget is None:
        raise NaslError("budget is the number of trials to run, at least 1 (got None)")
    budget = settings.integer("budget", budget, 1)
    seed = 0 if seed is None else settings.integer("seed", seed, -settings.SQLITE_MAX - 1)
    source, file, space_params = space_source(space)
    space_params.update(params or {})
    ev = _resolve_evaluator(evaluator, None, evaluator_options, cost)
    config = dict(space_source=source, space_file=file, params=sorted(space_params.items()),
                  ops=list(ops or ()), searcher=searcher or DEFAULT_SEARCHER,
                  searcher_options=dict(searcher_options or {}), seed=seed,
                  evaluator=evaluator_record(ev),
                  objectives=_objectives(ev, objectives), budget=budget)
    check_searcher_options(config["searcher_options"])
    check_searcher(config["searcher"], config["searcher_options"])
    _default_top_budget(config, ev)
    config["searcher_options"] = _budget_options(config["searcher"], config["searcher_options"], budget)
    space_obj = space_check(config)
    refuse_unsatisfiable(space_obj, config["seed"])      # before the file exists: nothing to search
    check_evaluator_space(ev, space_obj)
    return config, ev, make_searcher(config, space_obj)


def _default_top_budget(config, ev) -> None:
    """A multi-fidelity searcher's ``max_budget`` defaults to the evaluator's epochs (recorded, for resume)."""
    from nasl.searchers.registry import options_of, get_searcher
    options = config["searcher_options"]
    epochs = getattr(ev, "epochs", None)
    if "max_budget" in options or epochs is None or "max_budget" not in options_of(get_searcher(config["searcher"])):
        return
    options["max_budget"] = epochs
    min_budget = options.get("min_budget", 1)
    if isinstance(min_budget, (int, float)) and min_budget > epochs:
        raise NaslError(f"searcher '{config['searcher']}': min_budget {min_budget} is above the evaluator's "
                        f"{epochs} epochs (its max_budget); lower -O min_budget or raise -E epochs")


def _check_resume(row, space, params, searcher, searcher_options, seed) -> dict:
    config = {k: row[k] for k in ("space_source", "space_file", "params", "ops", "searcher", "searcher_options",
                                  "seed", "objectives", "budget")}
    config["params"] = [tuple(p) for p in config["params"]]
    if space is not None:
        source, _, space_params = space_source(space)
        space_params.update(params or {})
        if source != row["space_source"] or sorted(space_params.items()) != sorted(config["params"]):
            raise NaslError("cannot resume: the space (or its -D parameters) differs from the one the study "
                            "was made with; leave it out to use the recorded one")
    given = {"searcher": searcher, "seed": seed,
             "searcher_options": None if searcher_options is None else dict(searcher_options)}
    if given["searcher_options"] is not None:
        # the recorded options hold the defaults the study filled in (scaled to the budget): the given ones
        # must agree with them, not list them all
        given["searcher_options"] = {**config["searcher_options"], **given["searcher_options"]}
    for key, value in given.items():
        if value is not None and value != config[key]:
            raise NaslError(f"cannot resume: {key} {value!r} differs from the study's {config[key]!r}")
    return config
