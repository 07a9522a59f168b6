"""The study file of a one-shot run: set it up or reopen it, check a resume, record epochs.

Every check happens before anything is written: an unknown mode or option, a
space that does not compile to the mode, a study of another kind, and a
checkpoint that is corrupt or of another space or mode are one-line errors
that leave the study file and the checkpoint as they were.
"""
from __future__ import annotations

import json
import os

from nasl.ir.errors import NaslError

SEARCHER_PREFIX = "oneshot:"
# the table the dashboard reads (docs/study.md, "a one-shot run's architecture weights")
EPOCHS_TABLE = ("CREATE TABLE IF NOT EXISTS oneshot_epochs (epoch INTEGER PRIMARY KEY, alphas TEXT NOT NULL, "
                "derived TEXT, metrics TEXT)")
RETRAIN = {"test_fraction": 0.2, "epochs": 10}      # the evaluator recorded for retraining a derived architecture


def paths(storage) -> tuple:
    """``(checkpoint, supernet file)`` beside the study file ``storage`` (None, None in memory)."""
    if storage is None or os.fspath(storage) == ":memory:":
        return None, None
    s = os.fspath(storage)
    return s + ".ckpt", os.path.splitext(s)[0] + "-supernet.pt"


class Setup:
    """An open one-shot study: its storage and lock, the run's config, the checkpoint state to resume."""

    def __init__(self, store, lock, config, space, resuming, state, checkpoint, supernet_path):
        self.store, self.lock, self.config, self.space = store, lock, config, space
        self.resuming, self.state = resuming, state
        self.checkpoint, self.supernet_path = checkpoint, supernet_path

    def record(self, record: dict) -> None:
        """Epoch ``record`` as trial ``epoch`` (complete) and its probs in ``oneshot_epochs``; once only."""
        from nasl.ir.architecture import Architecture
        store, e = self.store, int(record["epoch"])
        if store.conn.execute("SELECT 1 FROM trials WHERE number = ?", (e,)).fetchone():
            return
        arch = Architecture.from_json(record["arch"])
        tid = store.add_trial(e, arch.to_json(), arch.id, None, self.config["seed"], 2 * e)
        metrics = {k: float(v) for k, v in record["metrics"].items()}
        store.finish_trial(tid, "complete", metrics=metrics, duration=None, worker="oneshot", tell_seq=2 * e + 1)
        with store.transaction():
            store.conn.execute("INSERT OR REPLACE INTO oneshot_epochs VALUES (?, ?, ?, ?)",
                               (e, json.dumps(record.get("probs") or {}), arch.to_json(), json.dumps(metrics)))

    def catch_up(self, history) -> None:
        """Record the checkpoint's epochs that the study lacks (a kill between checkpoint and commit)."""
        for record in history:
            self.record(record)

    def study(self):
        from nasl.study.study import Study
        return Study(self.store)

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def prepare(space, mode, epochs, storage, resume, options, supernet_options, seed, params, force,
            inputs=None) -> Setup:
    from nasl.oneshot import MODES, checkpoint as ckpt
    from nasl.oneshot.loops import check_options
    from nasl.study.api import space_source
    from nasl.study.study_checks import space_check
    from nasl.study.locking import StudyLock
    from nasl.study.storage import Storage
    from nasl.oneshot.loops_dist import Dist
    writer = Dist().main            # under torch.distributed rank 0 writes; the others keep a study in memory
    path = ":memory:" if storage is None else os.fspath(storage)
    if resume and (path == ":memory:" or not os.path.exists(path)):
        raise NaslError(f"no one-shot run to resume: there is no file '{path}'; leave out resume (--resume) to "
                        f"start one")
    if writer and not resume and path != ":memory:" and os.path.exists(path):
        raise NaslError(f"'{path}' already holds a study; pass resume=True (--resume) to continue it, or choose "
                        f"another file")
    checkpoint, supernet_path = paths(storage)
    if resume:
        row, state = _resume_row(path, checkpoint, space, mode, epochs, options, supernet_options, seed, params)
        config = row
    else:
        if space is None:
            raise NaslError("give the space to train a supernet of (a .nas path, a Space or source text)")
        mode = mode or "darts"
        if mode not in MODES:
            from nasl.ir.errors import did_you_mean
            raise NaslError(f"unknown one-shot mode {mode!r}; the modes: {', '.join(sorted(MODES))}",
                            hint=did_you_mean(str(mode), sorted(MODES)))
        epochs = 10 if epochs is None else epochs
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise NaslError(f"epochs must be a positive integer, not {epochs!r}")
        source, file, space_params = space_source(space)
        space_params.update(params or {})
        options = dict(options or {})
        check_options(mode, options)
        supernet_options = dict(supernet_options or {})
        if inputs is not None:
            supernet_options.setdefault("input_shape", list(inputs[0]))
            declared = space_check(dict(space_source=source, space_file=file, params=sorted(space_params.items()),
                                         ops=[])).params
            if "classes" in declared and "classes" not in space_params and declared["classes"] != inputs[1]:
                space_params["classes"] = inputs[1]
        config = dict(space_source=source, space_file=file, params=sorted(space_params.items()), ops=[], mode=mode,
                      epochs=epochs, options=options, supernet_options=supernet_options,
                      seed=0 if seed is None else int(seed))
        state = None
    space_obj = space_check(config)
    if state is not None:
        from nasl.oneshot import compile_supernet
        ckpt.check(state, checkpoint, compile_supernet(space_obj, config["mode"], **config["supernet_options"]),
                   config["mode"])
    store = Storage(storage if writer else None)
    lock = StudyLock(store, force=force) if writer else None
    try:
        with store.transaction():
            store.conn.execute(EPOCHS_TABLE)
        if not resume or not writer:
            from nasl.study import evaluator_config
            ev = evaluator_config.build("digits", dict(RETRAIN))
            store.create_study(space_source=config["space_source"], space_file=config["space_file"],
                               params=config["params"], ops=[], searcher=SEARCHER_PREFIX + config["mode"],
                               searcher_options={"epochs": config["epochs"], "options": config["options"],
                                                 "supernet_options": config["supernet_options"]},
                               seed=config["seed"], evaluator=evaluator_config.record(ev),
                               objectives={"val_accuracy": "max"}, budget=config["epochs"])
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return Setup(store, lock, config, space_obj, resume, state, checkpoint, supernet_path)


def _resume_row(path, checkpoint, space, mode, epochs, options, supernet_options, seed, params):
    """The recorded config of the one-shot study at ``path`` and its checkpoint's state; given values must agree."""
    from nasl.oneshot import checkpoint as ckpt
    from nasl.study.api import space_source
    from nasl.study.storage import read_study_row
    row = read_study_row(path)
    if row is None or not str(row["searcher"]).startswith(SEARCHER_PREFIX):
        what = "no study yet" if row is None else f"a '{row['searcher']}' study, not a one-shot run"
        raise NaslError(f"'{path}' holds {what}; resume it with nasl search --study {path} --resume")
    so = row["searcher_options"]
    config = dict(space_source=row["space_source"], space_file=row["space_file"], ops=[],
                  params=[tuple(p) for p in row["params"]], mode=row["searcher"][len(SEARCHER_PREFIX):],
                  epochs=so["epochs"], options=so["options"], supernet_options=so["supernet_options"],
                  seed=row["seed"])
    if space is not None:
        source, _, space_params = space_source(space)
        space_params.update(params or {})
        if source != config["space_source"] or sorted(space_params.items()) != sorted(config["params"]):
            raise NaslError("cannot resume: the space (or its -D parameters) differs from the one the run was "
                            "started with; leave it out to use the recorded one")
    given = {"mode": mode, "epochs": epochs, "seed": seed,
             "options": None if options is None else {**config["options"], **dict(options)},
             "supernet_options": None if supernet_options is None else {**config["supernet_options"],
                                                                         **dict(supernet_options)}}
    for key, value in given.items():
        if value is not None and value != config[key]:
            raise NaslError(f"cannot resume: {key} {value!r} differs from the run's {config[key]!r}")
    if checkpoint is None or not os.path.exists(checkpoint):
        raise NaslError(f"cannot resume '{path}': its checkpoint '{checkpoint}' is missing (the run stopped before "
                        f"its first epoch ended?); start it again in a new file")
    state = ckpt.read(checkpoint)
    return config, state


def save_supernet(sn, space, supernet_options, path) -> str:
    """The trained supernet as ``sn.save`` writes it (``format: nasl-supernet``, no ``trainer`` state), for ``--supernet`` and the
    ``supernet:PATH`` evaluator."""
    if hasattr(sn, "save"):
        return sn.save(path)
    from nasl.oneshot.saving import payload, write
    return write(payload(sn, space, supernet_options), path)
