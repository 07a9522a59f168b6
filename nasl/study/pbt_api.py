"""``nasl.search(..., scheduler="pbt")``: set up (or resume) a PBT study and run it (:mod:`nasl.study.pbt`).

It takes the arguments of :func:`nasl.search` that make sense for PBT (space, evaluator and its
options, storage, seed, executor, workers, timeout, progress, resume, force) and refuses the others
in one line. ``scheduler_options`` are PBT's (:data:`nasl.study.pbt.DEFAULTS`); the total epochs are
the evaluator's ``epochs`` and the budget, the number of trials, is ``population`` times the number
of intervals. A resumed study is found to be a PBT study from its file, so ``nasl.search(storage=PATH,
resume=True)`` (``nasl search --study PATH --resume``) continues it without naming the scheduler.
"""
from __future__ import annotations

import math
import os
import sys

from nasl.ir.errors import NaslError
from nasl.study import pbt

SCHEDULERS = (pbt.NAME,)
# nasl.search arguments PBT has no use for: given (not None), they are refused
_UNUSED = ("searcher", "budget", "objectives", "cost", "warm_start", "pruner", "time_budget", "callbacks", "log_dir",
           "searcher_options", "pruner_options")


def is_pbt_file(storage) -> bool:
    """Whether the study file ``storage`` holds a PBT study."""
    if storage is None or not os.path.exists(os.fspath(storage)):
        return False
    from nasl.study.storage import read_study_row
    row = read_study_row(storage)
    return row is not None and row["searcher"] == pbt.NAME


def wanted(scheduler, resume, storage) -> bool:
    if scheduler is None:
        return bool(resume) and is_pbt_file(storage)
    if scheduler not in SCHEDULERS:
        raise NaslError(f"unknown scheduler {scheduler!r}; expected {', '.join(repr(s) for s in SCHEDULERS)}")
    return True


def search(source=None, *, evaluator=None, storage=None, seed=None, resume=False, executor=None, workers=None,
           timeout=None, progress=True, scheduler_options=None, evaluator_options=None, params=None, ops=None,
           force=False, trust=False, ray_address=None, resources=None, **unused):
    """See the module docstring; ``source`` is the space as ``(text, file name, params)``, None on resume.
    Returns the :class:`~nasl.study.study.Study`."""
    from nasl.study import evaluator_config, settings
    from nasl.study.locking import StudyLock
    from nasl.study.runners import check_executor, make_runner
    from nasl.study.storage import Storage
    from nasl.study.study import Study
    from nasl.study.trust import allowed_modules

    given = sorted(k for k, v in unused.items() if k in _UNUSED and v is not None)
    if given:
        raise NaslError(f"scheduler 'pbt' takes no {given[0]}: it trains its population for the evaluator's epochs")
    timeout, resources = settings.timeout(timeout), settings.resources(resources)
    executor, workers = settings.executor(executor), settings.workers(workers)
    path = ":memory:" if storage is None else os.fspath(storage)
    exists = path != ":memory:" and os.path.exists(path)
    if resume and not exists:
        raise NaslError(f"no study to resume: there is no file '{path}'; leave out resume (--resume) to start one")
    if exists and not resume:
        raise NaslError(f"'{path}' already holds a study; pass resume=True (--resume) to continue it, "
                        f"or choose another file")
    config = ev = None
    if not resume:
        config, ev = _new_config(source, evaluator, evaluator_options, scheduler_options, seed, params, ops)
        check_executor(executor or "inline", pbt.segment_evaluator(ev))
    store = Storage(storage)
    lock = StudyLock(store, force=force)
    if lock.note and (progress or lock.note.startswith("warning")):
        print(lock.note, file=sys.stderr)
    try:
        row = store.load_study()
        if row is None and config is None:
            raise NaslError(f"'{store.path}' holds no study yet; start it again without resume=True (--resume)")
        if row is None:
            store.create_study(**config)
        else:
            config = {k: row[k] for k in ("space_source", "space_file", "params", "ops", "searcher",
                                          "searcher_options", "seed", "objectives", "budget", "evaluator")}
            if scheduler_options is not None and \
                    pbt.options({**row["searcher_options"], **scheduler_options}) != pbt.options(row["searcher_options"]):
                raise NaslError(f"cannot resume: scheduler options {scheduler_options!r} differ from the study's "
                                f"{row['searcher_options']!r}")
            config["ops"] = allowed_modules(f"the study '{store.path}'", config["ops"], ops=ops, trust=trust,
                                            evaluator_spec=None)
            if evaluator is None:
                stored = evaluator_config.recorded_options(config["evaluator"])
                for name, value in (evaluator_options or {}).items():
                    if stored.get(name) != value:
                        raise NaslError(f"cannot resume: evaluator option {name}={value!r} differs from the "
                                        f"study's {stored.get(name)!r}")
                ev = evaluator_config.rebuild(config["evaluator"])
            else:
                ev = _evaluator(evaluator, evaluator_options)
            pbt.load_space(config)
        seg = pbt.segment_evaluator(ev)
        run = settings.for_run(store if row is not None else None, executor, workers, None)
        if workers is None and row is None:
            run["workers"] = config["searcher_options"]["population"]      # the whole population at once
        store.set_meta(settings.to_record(run))
        runner = make_runner(run["executor"], seg, list(config["objectives"]), workers=run["workers"],
                             timeout=timeout, ray_address=ray_address, resources=resources)
        try:
            pbt.run_study(store, config, seg.trainer, runner, progress=progress)
        except KeyboardInterrupt:
            from nasl.study.loop import SearchInterrupted
            c = store.counts()
            where = "storage=None (in memory): nothing to resume" if store.path == ":memory:" else \
                f"resume with: nasl search --study {store.path} --resume (or nasl.search(..., resume=True))"
            raise SearchInterrupted(f"interrupted: {c['complete']} of {config['budget']} PBT trials complete; {where}",
                                    Study(store, ops=ops, trust=trust)) from None
    finally:
        lock.release()
    return Study(store, ops=ops, trust=trust)


def _evaluator(evaluator, options):
    from nasl.study import evaluator_config
    if evaluator is None or isinstance(evaluator, str):
        return evaluator_config.build(evaluator or "digits", options)
    if options:
        raise NaslError("evaluator_options (-E) apply to an evaluator spec string, not to an evaluator object")
    return evaluator


def _new_config(source, evaluator, evaluator_options, scheduler_options, seed, params, ops):
    """``(study config, evaluator)`` of a new PBT study, every part checked; nothing is written."""
    from nasl.study import pbt_select, settings
    from nasl.study.evaluator_config import record as evaluator_record
    if source is None:
        raise NaslError("give the space to search (a .nas path, a Space or source text)")
    opts = pbt.options(scheduler_options)
    seed = 0 if seed is None else settings.integer("seed", seed, -settings.SQLITE_MAX - 1)
    source, file, space_params = source
    space_params = dict(space_params)
    space_params.update(params or {})
    ev = _evaluator(evaluator, evaluator_options)
    trainer = pbt.check_trainer(ev)
    config = dict(space_source=source, space_file=file, params=sorted(space_params.items()), ops=list(ops or ()),
                  searcher=pbt.NAME, searcher_options=opts, seed=seed, evaluator=evaluator_record(ev),
                  objectives=dict(trainer.directions),
                  budget=opts["population"] * math.ceil(int(trainer.epochs) / opts["interval"]))
    space_obj = pbt.load_space(config)
    if not pbt_select.float_choices(space_obj):
        raise NaslError(f"scheduler 'pbt' explores the space's float choices, and '{file}' has none; "
                        f"add one, e.g. `lr = float_range(1e-3, 0.1, log=true)` in the network block")
    if opts["interval"] >= trainer.epochs and opts["exploit"]:
        raise NaslError(f"PBT's interval ({opts['interval']} epochs) leaves no exploit step in the evaluator's "
                        f"{trainer.epochs:g} epochs; lower the interval or raise -E epochs")
    space_obj.sample(seed)
    trainer.check_space(space_obj)
    return config, ev
