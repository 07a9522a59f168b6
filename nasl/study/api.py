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


def search(space=None, searcher=None, evaluator=None, budget=None, objectives=None, executor="inline",
           workers: int = 1, storage=None, seed=None, resume: bool = False, timeout=None, searcher_options=None,
           params=None, ops=None, progress: bool = True, ray_address=None, resources=None,
           deterministic: bool = True, snapshot_every: int = 100):
    """Search ``space`` and record every trial; returns a :class:`~nasl.study.study.Study`.

    See docs/study.md for every argument. In short: ``searcher`` (default
    ``"regularized_evolution"``) with ``searcher_options`` and ``seed``
    (default 0) proposes; ``evaluator`` (an object or a spec string such as
    ``"digits"`` or ``"table:nb201.csv"``) scores; ``budget`` trials
    (complete + failed) run on ``executor`` with ``workers`` in flight, each
    within ``timeout`` seconds; ``storage`` is the SQLite file (None: in
    memory). ``resume=True`` continues the study in ``storage``; then
    ``space``, ``searcher``, ``evaluator`` and ``seed`` default to the recorded ones.
    Ctrl-C raises :class:`~nasl.study.loop.SearchInterrupted` after
    recording what finished.
    """
    from nasl.searchers import create
    from nasl.study.locking import StudyLock
    from nasl.study.loop import Loop, SearchInterrupted, restore_searcher
    from nasl.study.runners import make_runner
    from nasl.study.searcher_inputs import check_searcher_options, resolve_searcher_options
    from nasl.study.study import Study

    store = Storage(storage)
    lock = StudyLock(store)
    if lock.took_over and progress:
        print(f"note: process {lock.took_over[0]} on {lock.took_over[1]} that ran this study is gone; "
              f"taking it over", file=__import__("sys").stderr)
    try:
        row = store.load_study()
        if row is not None and not resume:
            n = sum(store.counts().values())
            raise NaslError(f"'{store.path}' already holds a study ({n} trials); pass resume=True (--resume) "
                            f"to continue it, or choose another file")
        if row is None:
            if space is None:
                raise NaslError("give the space to search (a .nas path, a Space or source text)")
            if budget is None or int(budget) < 1:
                raise NaslError(f"budget is the number of trials to run, at least 1 (got {budget!r})")
            source, file, space_params = _space_source(space)
            space_params.update(params or {})
            ev = _resolve_evaluator(evaluator, None)
            config = dict(space_source=source, space_file=file, params=sorted(space_params.items()),
                          ops=list(ops or ()), searcher=searcher or DEFAULT_SEARCHER,
                          searcher_options=dict(searcher_options or {}),
                          seed=0 if seed is None else int(seed),
                          evaluator={"spec": getattr(ev, "spec", None), "repr": repr(ev)},
                          objectives=_objectives(ev, objectives), budget=int(budget))
            check_searcher_options(config["searcher_options"])
            _check_searcher(config["searcher"], config["searcher_options"])
            _space_check(config)
            store.create_study(**config)
        else:
            config = _check_resume(row, space, params, searcher, searcher_options, seed)
            ev = _resolve_evaluator(evaluator, row["evaluator"])
            missing = [o for o in config["objectives"] if o not in getattr(ev, "directions", {})]
            if missing:
                raise NaslError(f"the evaluator does not report the study's objective '{missing[0]}'")
            if budget is not None:
                store.set_budget(int(budget))
                config["budget"] = int(budget)
        config["artifact_dir"] = None if store.path == ":memory:" else store.path + ".artifacts"
        space_obj = _space_check(config)
        try:
            s = create(config["searcher"], space_obj.spec, seed=config["seed"],
                       **resolve_searcher_options(config["searcher_options"], space_obj))
        except (KeyError, ValueError, TypeError) as e:
            raise NaslError(f"cannot create searcher '{config['searcher']}': {_message(e)}") from None
        journal = restore_searcher(s, store, config["objectives"])
        runner = make_runner(executor, ev, list(config["objectives"]), workers=workers, timeout=timeout,
                             ray_address=ray_address, resources=resources)
        loop = Loop(store, s, runner, config, progress=progress, deterministic=deterministic,
                    snapshot_every=snapshot_every, journal=journal)
        loop.requeue()
        try:
            loop.run()
        except KeyboardInterrupt:
            c = store.counts()
            where = "storage=None (in memory): nothing to resume" if store.path == ":memory:" else \
                f"resume with: nasl search --study {store.path} --resume (or nasl.search(..., resume=True))"
            raise SearchInterrupted(f"interrupted: {c['complete']} complete, {c['failed'] + c['pruned']} failed; "
                                    f"{c['running']} unfinished will run again on resume; {where}",
                                    Study(store)) from None
    finally:
        lock.release()
    return Study(store)


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
