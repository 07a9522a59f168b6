"""``nasl.search``: set up (or resume) a study and run the loop."""
from __future__ import annotations

import os

from nasl.ir.errors import NaslError
from nasl.study.storage import Storage

DEFAULT_SEARCHER = "regularized_evolution"


def _space_source(space) -> tuple[str, str, dict]:
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
        out = {k: v for k, v in objectives.items()}
    else:
        unknown = [o for o in objectives if o not in directions]
        if unknown:
            raise NaslError(f"the evaluator has no objective '{unknown[0]}'; its objectives: {', '.join(directions)} "
                            f"(for another metric it reports, give a direction: objectives={{'{unknown[0]}': 'max'}})")
        out = {o: directions[o] for o in objectives}
    bad = {k: v for k, v in out.items() if v not in ("max", "min")}
    if bad or not out:
        raise NaslError(f"objectives map names to 'max' or 'min'; got {objectives!r}")
    return out


def _resolve_evaluator(evaluator, stored):
    from nasl.study.evaluators import parse_evaluator
    if evaluator is None:
        spec = (stored or {}).get("spec") if stored else "digits"
        if spec is None:
            raise NaslError(f"this study's evaluator ({stored['repr']}) was an object, not a spec string; "
                            f"pass it again with evaluator=")
        return parse_evaluator(spec)
    if isinstance(evaluator, str):
        return parse_evaluator(evaluator)
    if not callable(evaluator):
        raise NaslError(f"an evaluator is a callable or a spec string, not {type(evaluator).__name__}")
    return evaluator


def search(space=None, searcher=None, evaluator=None, budget=None, objectives=None, executor=None,
           workers=None, storage=None, seed=None, resume: bool = False, timeout=None, searcher_options=None,
           params=None, ops=None, progress: bool = True, ray_address=None, resources=None,
           deterministic=None, snapshot_every: int = 100, force: bool = False, trust: bool = False):
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
    Ctrl-C raises :class:`~nasl.study.loop.SearchInterrupted` after
    recording what finished. ``force=True`` takes the study over from a
    process that still holds its lock (see :mod:`nasl.study.locking`).
    """
    from nasl.study import settings
    from nasl.study.locking import StudyLock
    from nasl.study.loop import Loop, SearchInterrupted, restore_searcher
    from nasl.study.runners import check_executor, make_runner
    from nasl.study.study import Study
    from nasl.study.trust import allowed_modules

    # every option is checked before a file is created: a failed start leaves nothing behind
    timeout, resources = settings.timeout(timeout), settings.resources(resources)
    executor, workers = settings.executor(executor), settings.workers(workers)
    deterministic = settings.deterministic(deterministic)
    path = ":memory:" if storage is None else os.fspath(storage)
    new_file = path == ":memory:" or not os.path.exists(path)
    if resume and new_file:
        where = "storage=None keeps a study in memory" if path == ":memory:" else f"there is no file '{path}'"
        raise NaslError(f"no study to resume: {where}; leave out resume (--resume) to start one")
    new = dict(space=space, searcher=searcher, evaluator=evaluator, budget=budget, objectives=objectives,
               seed=seed, searcher_options=searcher_options, params=params, ops=ops)
    prepared = _prepare_new(**new) if new_file else None
    if prepared is not None:
        check_executor(executor or "inline", prepared[1])

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
        else:
            config = _check_resume(row, space, params, searcher, searcher_options, seed)
            recorded = row["evaluator"] if isinstance(row["evaluator"], dict) else {}
            config["ops"] = allowed_modules(f"the study '{store.path}'", config["ops"], ops=ops, trust=trust,
                                            evaluator_spec=recorded.get("spec") if evaluator is None else None)
            ev = _resolve_evaluator(evaluator, row["evaluator"])
            missing = [o for o in config["objectives"] if o not in getattr(ev, "directions", {})]
            if missing:
                raise NaslError(f"the evaluator does not report the study's objective '{missing[0]}'")
            if budget is not None:
                budget = settings.integer("budget", budget, 1)
                store.set_budget(budget)
                config["budget"] = budget
            space_obj = _space_check(config)
            _evaluator_check(ev, space_obj)
            s = _make_searcher(config, space_obj)
            restore_searcher(s, store, config["objectives"])
        config["artifact_dir"] = None if store.path == ":memory:" else store.path + ".artifacts"
        run = settings.for_run(store if row is not None else None, executor, workers, deterministic)
        store.set_meta(settings.to_record(run))
        runner = make_runner(run["executor"], ev, list(config["objectives"]), workers=run["workers"],
                             timeout=timeout, ray_address=ray_address, resources=resources)
        loop = Loop(store, s, runner, config, progress=progress, deterministic=run["deterministic"],
                    snapshot_every=snapshot_every)
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


def _prepare_new(*, space, searcher, evaluator, budget, objectives, seed, searcher_options, params, ops):
    """``(config, evaluator, searcher)`` of a new study, every part checked; nothing is written."""
    from nasl.study import settings
    from nasl.study.searcher_inputs import check_searcher_options
    if space is None:
        raise NaslError("give the space to search (a .nas path, a Space or source text)")
    if budget is None:
        raise NaslError("budget is the number of trials to run, at least 1 (got None)")
    budget = settings.integer("budget", budget, 1)
    seed = 0 if seed is None else settings.integer("seed", seed, -settings.SQLITE_MAX - 1)
    source, file, space_params = _space_source(space)
    space_params.update(params or {})
    ev = _resolve_evaluator(evaluator, None)
    config = dict(space_source=source, space_file=file, params=sorted(space_params.items()),
                  ops=list(ops or ()), searcher=searcher or DEFAULT_SEARCHER,
                  searcher_options=dict(searcher_options or {}), seed=seed,
                  evaluator={"spec": getattr(ev, "spec", None), "repr": repr(ev)},
                  objectives=_objectives(ev, objectives), budget=budget)
    check_searcher_options(config["searcher_options"])
    _check_searcher(config["searcher"], config["searcher_options"])
    space_obj = _space_check(config)
    _refuse_unsatisfiable(space_obj, config["seed"])      # before the file exists: nothing to search
    _evaluator_check(ev, space_obj)
    return config, ev, _make_searcher(config, space_obj)


def _evaluator_check(ev, space_obj) -> None:
    """An evaluator's ``check_space(space)``, if it has one: what would fail every trial fails now."""
    check = getattr(ev, "check_space", None)
    if check is not None:
        check(space_obj)


def _make_searcher(config, space_obj):
    from nasl.searchers import create
    from nasl.study.searcher_inputs import resolve_searcher_options
    try:
        return create(config["searcher"], space_obj.spec, seed=config["seed"],
                      **resolve_searcher_options(config["searcher_options"], space_obj))
    except (KeyError, ValueError, TypeError) as e:
        raise NaslError(f"cannot create searcher '{config['searcher']}': {_message(e)}") from None


def _message(e: Exception) -> str:
    return e.args[0] if isinstance(e, KeyError) and e.args else str(e)


def _check_searcher(name: str, options) -> None:
    """An unknown searcher or option is refused before the study file is written."""
    from nasl.searchers.registry import _options_of, get_searcher
    try:
        cls = get_searcher(name)
    except KeyError as e:
        raise NaslError(_message(e)) from None
    unknown = sorted(set(options) - _options_of(cls))
    if unknown:
        raise NaslError(f"searcher '{name}' has no option '{unknown[0]}'; its options: "
                        f"{', '.join(sorted(_options_of(cls)))}")


def _space_check(config):
    """The space; elaborating it also validates the source and params up front."""
    from nasl.study.protocol import TrialRequest
    req = TrialRequest(trial_id=-1, number=-1, arch={}, budget=None, seed=0, space_source=config["space_source"],
                       space_file=config["space_file"], params=tuple(map(tuple, config["params"])),
                       ops_modules=tuple(config["ops"]))
    return req.load_space()


def _refuse_unsatisfiable(space, seed) -> None:
    """A space that no architecture satisfies (or where none can be found) is refused before the study.

    One draw is what a searcher does first; its error names the constraint
    at its position and what was tried, and it is bounded in time.
    """
    space.sample(seed)


def _check_resume(row, space, params, searcher, searcher_options, seed) -> dict:
    config = {k: row[k] for k in ("space_source", "space_file", "params", "ops", "searcher", "searcher_options",
                                  "seed", "objectives", "budget")}
    config["params"] = [tuple(p) for p in config["params"]]
    if space is not None:
        source, _, space_params = _space_source(space)
        space_params.update(params or {})
        if source != row["space_source"] or sorted(space_params.items()) != sorted(config["params"]):
            raise NaslError("cannot resume: the space (or its -D parameters) differs from the one the study "
                            "was made with; leave it out to use the recorded one")
    given = {"searcher": searcher, "seed": seed,
             "searcher_options": None if searcher_options is None else dict(searcher_options)}
    for key, value in given.items():
        if value is not None and value != config[key]:
            raise NaslError(f"cannot resume: {key} {value!r} differs from the study's {config[key]!r}")
    return config
