"""Population-based training as a scheduler of a study (Jaderberg et al. 2017): ``nasl.search(..., scheduler="pbt")``.

A population of ``population`` members trains for the evaluator's ``epochs`` in intervals of
``interval`` epochs ("ready" in the paper). The members of an interval train concurrently on the
study's executor (inline, the process pool, Ray). After each interval the bottom ``fraction`` copies
the weights, optimizer state and hyperparameters of a top member and perturbs its float choices
(:mod:`nasl.study.pbt_select`), then every member trains the next interval (:mod:`nasl.study.pbt_train`).

The record uses the trials table as it is: one trial per member and interval, numbered
``interval * population + member``. Its architecture holds the interval's hyperparameters, its
budget the epoch it trained to, its curve that interval's epochs; ``parent`` is the trial whose
checkpoint it started from (its own member's previous interval, or the member it copied) and
``transformation`` says how (``"continue"``, ``"exploit member 2; explore lr x1.2"``). The options
are the study's ``searcher_options`` (searcher ``"pbt"``), so a file of this kind opens in every
older nasl. :func:`schedule` reads the members' histories back.

Resume: intervals whose trials are complete are kept, with their checkpoints; the decisions after
an interval depend only on its scores and the study's seed, so the next interval's trials are
written once and found again, and a trial that was running when the process died trains again from
its parent's checkpoint, with the same seed, to the same weights.
"""
from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile

from nasl.ir.architecture import Architecture
from nasl.ir.errors import NaslError
from nasl.study import pbt_select
from nasl.study.pbt_train import SegmentEvaluator, checkpoint_path
from nasl.study.protocol import TrialRequest, trial_seed

NAME = "pbt"
DEFAULTS = {"population": 4, "interval": 1, "fraction": 0.25, "factors": [0.8, 1.2], "resample_probability": 0.0,
            "exploit": True}


def options(given) -> dict:
    """The scheduler's options with the defaults filled in, checked (one-line NaslErrors)."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise NaslError(f"scheduler 'pbt' has no option '{unknown[0]}'; its options: {', '.join(DEFAULTS)}")
    out = {**DEFAULTS, **given}
    p, k, f, factors, r = pbt_select.check_options(out["population"], out["interval"], out["fraction"],
                                                   out["factors"], out["resample_probability"])
    if not isinstance(out["exploit"], bool):
        raise NaslError(f"PBT's exploit is true or false, not {out['exploit']!r}")
    return {"population": p, "interval": k, "fraction": f, "factors": list(factors), "resample_probability": r,
            "exploit": out["exploit"]}


def load_space(config: dict):
    """The study's space (cached per process); elaborating it validates the source and params."""
    return TrialRequest(trial_id=-1, number=-1, arch={}, budget=None, seed=0, space_source=config["space_source"],
                        space_file=config["space_file"], params=tuple(map(tuple, config["params"])),
                        ops_modules=tuple(config["ops"])).load_space()


def check_trainer(ev):
    """The training evaluator PBT drives; anything else is refused in one line."""
    from nasl.study.evaluator_config import inner
    from nasl.study.training import TrainEvaluator
    base = inner(ev)
    if type(base) is not TrainEvaluator:
        raise NaslError(f"scheduler 'pbt' trains with the training evaluator ('digits' or a TrainEvaluator), "
                        f"not {base!r}: it needs the weights and optimizer of every member")
    if ev is not base:
        raise NaslError("scheduler 'pbt' takes no cost objectives (cost=); it ranks members by the evaluator's score")
    if base.epochs != int(base.epochs):
        raise NaslError(f"scheduler 'pbt' trains whole epochs; the evaluator's epochs is {base.epochs}")
    return base


class Scheduler:
    """One run of PBT over an open study (``store`` holds its study row)."""

    def __init__(self, store, config: dict, trainer, runner, artifact_dir: str, progress=False):
        self.store, self.config, self.runner, self.folder = store, config, runner, artifact_dir
        self.opts = options(config["searcher_options"])
        self.P, self.k = self.opts["population"], self.opts["interval"]
        self.epochs = int(trainer.epochs)
        self.intervals = math.ceil(self.epochs / self.k)
        self.primary, self.direction = next(iter(config["objectives"].items()))
        self.space = load_space(config)
        self.floats = pbt_select.float_choices(self.space)
        self.progress = progress
        self.seq = store.last_seq() + 1

    def span(self, interval: int) -> tuple[int, int]:
        return interval * self.k, min(self.epochs, (interval + 1) * self.k)

    # ------------------------------------------------------------ decisions
    def plan(self, interval: int, previous: list) -> list:
        """``(arch, parent number or None, transformation)`` per member for ``interval``."""
        seed = self.config["seed"]
        if interval == 0:
            return [(dict(self.space.sample(trial_seed(seed, m))), None, "initial") for m in range(self.P)]
        scores = [row["metrics"][self.primary] if row["state"] == "complete" else None for row in previous]
        rng = pbt_select.interval_rng(seed, interval)
        donors = pbt_select.exploit(scores, self.opts["fraction"], rng, self.direction) if self.opts["exploit"] else {}
        out = []
        for m, row in enumerate(previous):
            if m not in donors:
                out.append((dict(Architecture.from_json(row["arch"])), row["number"], "continue"))
                continue
            donor = previous[donors[m]]
            arch, changes = pbt_select.explore(dict(Architecture.from_json(donor["arch"])), self.floats, rng,
                                               self.opts["factors"], self.opts["resample_probability"])
            text = f"exploit member {donors[m]} at epoch {self.span(interval)[0]}; explore " + ", ".join(changes)
            out.append((arch, donor["number"], text))
        return out

    def write_interval(self, interval: int, previous: list) -> list:
        """The interval's trial rows: those already recorded (checked against the plan), the rest added."""
        have = {r["number"]: r for r in self.store.trials("WHERE number >= ? AND number < ?",
                                                          (interval * self.P, (interval + 1) * self.P))}
        for m, (arch, parent, text) in enumerate(self.plan(interval, previous)):
            number = interval * self.P + m
            a = Architecture(arch)
            if number in have:
                row = have[number]
                if Architecture.from_json(row["arch"]) != a or row["parent"] != parent:
                    raise NaslError(f"cannot resume: PBT trial {number} in '{self.store.path}' differs from the "
                                    f"schedule (was the seed, the space or an option changed?)")
                continue
            self.store.add_trial(number, a.to_json(), a.id, float(self.span(interval)[1]),
                                 trial_seed(self.config["seed"], number), self.seq, parent=parent, transformation=text)
            self.seq += 1
        return self.store.trials("WHERE number >= ? AND number < ?", (interval * self.P, (interval + 1) * self.P))

    # ------------------------------------------------------------ training
    def request(self, row, interval: int) -> TrialRequest:
        c = self.config
        start, end = self.span(interval)
        parent = row["parent"]
        checkpoint = None
        if parent is not None:
            prow = self.store.trials("WHERE number = ?", (parent,))[0]
            checkpoint = checkpoint_path(self.folder, prow["id"])
        step = {"start": start, "end": end, "total": self.epochs, "checkpoint": checkpoint, "folder": self.folder}
        return TrialRequest(trial_id=row["id"], number=row["number"], arch=dict(Architecture.from_json(row["arch"])),
                            budget=float(end), seed=row["seed"], space_source=c["space_source"],
                            space_file=c["space_file"], params=tuple(map(tuple, c["params"])),
                            ops_modules=tuple(c["ops"]), artifact_dir=self.folder, lineage={"pbt": step})

    def train(self, rows: list, interval: int) -> None:
        todo = [r for r in rows if r["state"] == "running"]
        for row in todo:
            if row["parent"] is not None and self._failed(row["parent"]):
                # no checkpoint to go on from (exploit off, or nothing to copy): the member stays failed
                self._finish(row["id"], {"state": "failed", "metrics": None, "curve": None, "duration": 0.0,
                                         "worker": None, "error": f"its parent trial {row['parent']} failed"})
        todo = [r for r in todo if not (r["parent"] is not None and self._failed(r["parent"]))]
        pending = list(todo)
        waiting = 0
        while pending or waiting:
            while pending and waiting < self.runner.workers:
                self.runner.submit(self.request(pending.pop(0), interval))
                waiting += 1
            for trial_id, outcome in self.runner.wait():
                waiting -= 1
                self._finish(trial_id, outcome)

    def _failed(self, number: int) -> bool:
        return self.store.trials("WHERE number = ?", (number,))[0]["state"] != "complete"

    def _finish(self, trial_id, outcome) -> None:
        self.store.finish_trial(trial_id, outcome["state"], metrics=outcome["metrics"], curve=outcome["curve"],
                                error=outcome["error"], duration=outcome["duration"], worker=outcome["worker"],
                                tell_seq=self.seq)
        self.seq += 1

    def run(self) -> None:
        previous = None
        try:
            for interval in range(self.intervals):
                rows = self.write_interval(interval, previous)
                self.train(rows, interval)
                previous = self.store.trials("WHERE number >= ? AND number < ?",
                                             (interval * self.P, (interval + 1) * self.P))
                done = [r["metrics"][self.primary] for r in previous if r["state"] == "complete"]
                if not done:
                    errors = {r["error"] for r in previous}
                    raise NaslError(f"PBT: every member failed in interval {interval}: {sorted(errors)[0]}")
                if self.progress:
                    print(f"pbt interval {interval + 1}/{self.intervals} (epoch {self.span(interval)[1]}): "
                          f"best {self.primary}={max(done) if self.direction == 'max' else min(done):.4g}, "
                          f"{len(previous) - len(done)} failed", file=sys.stderr)
        finally:
            self.runner.close()


def schedule(study) -> list:
    """Each member's history, from a PBT study (a :class:`~nasl.study.study.Study` or its ``Storage``).

    A list over members of lists over intervals: ``{"trial", "interval", "epochs": (start, end),
    "hyperparameters", "copied_from" (the member copied before this interval, or None),
    "transformation", "state", "score"}``.
    """
    from nasl.study.storage import Storage
    store = getattr(study, "storage", study)
    if not isinstance(store, (str, os.PathLike)):
        return _members(store)
    store = Storage(store, readonly=True)       # opened here, so closed here
    try:
        return _members(store)
    finally:
        store.close()


def _members(store) -> list:
    row = store.load_study()
    if row is None or row["searcher"] != NAME:
        raise NaslError(f"'{store.path}' is not a PBT study (its searcher is {row and row['searcher']!r})")
    opts = options(row["searcher_options"])
    P, k = opts["population"], opts["interval"]
    primary = row["objectives"] and next(iter(row["objectives"]))
    floats = None
    members: list = [[] for _ in range(P)]
    for t in store.trials():
        arch = dict(Architecture.from_json(t["arch"]))
        if floats is None:
            floats = [p for p, v in arch.items() if isinstance(v, float)]
        interval, member = divmod(t["number"], P)
        parent = t["parent"]
        members[member].append({
            "trial": t["number"], "interval": interval, "epochs": (interval * k, int(t["budget"])),
            "hyperparameters": {p: arch[p] for p in floats if p in arch},
            "copied_from": None if parent is None or parent % P == member else parent % P,
            "transformation": t["transformation"], "state": t["state"],
            "score": (t["metrics"] or {}).get(primary) if t["state"] == "complete" else None})
    return members


def final_population(study) -> list:
    """The last interval of each member (see :func:`schedule`)."""
    return [m[-1] for m in schedule(study) if m]


def artifact_folder(store) -> tuple[str, bool]:
    """``(folder for the checkpoints, temporary?)``: beside the study file, or a temporary one in memory."""
    if store.path == ":memory:":
        return tempfile.mkdtemp(prefix="nasl-pbt-"), True
    folder = store.path + ".artifacts"
    os.makedirs(folder, exist_ok=True)
    return folder, False


def run_study(store, config: dict, ev, runner, progress=False) -> None:
    """Run (or go on with) the PBT study in ``store`` on ``runner`` (made for a :class:`SegmentEvaluator`)."""
    folder, temporary = artifact_folder(store)
    try:
        Scheduler(store, config, ev, runner, folder, progress).run()
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)


def segment_evaluator(ev) -> SegmentEvaluator:
    return SegmentEvaluator(check_trainer(ev))
