"""The search loop: ask, record, evaluate, record, tell; resumable at any instant.

Determinism (``deterministic=True``, the default): with ``workers=K``,
K trials are in flight and results are *told in trial-number order*: an
outcome that arrives before an older trial's waits until that one is told.
After each tell, one new trial is asked. So the searcher sees the same asks
and tells (ask 0..K-1, then tell i, ask i+K) whatever the executor and the
timing; with deterministic evaluators, inline, process and Ray studies of the
same seed and ``workers`` are identical. ``deterministic=False`` tells in
completion order and never holds a free worker back, for the most
throughput when trial times vary a lot.

Resume: the searcher comes back from its last snapshot (``state_dict``,
stored by increments: :mod:`nasl.searchers.journal`) plus a replay of the
asks and tells recorded after it, in their recorded order (``ask_seq`` /
``tell_seq``); trials that a killed run left
``running`` are evaluated again (same architecture, same trial seed), and
complete or failed trials never are.
"""
from __future__ import annotations

import sys

from nasl.ir.errors import NaslError
from nasl.study.protocol import TrialRequest, trial_seed


class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a search; finished trials are kept. ``.study`` is the study so far."""

    def __init__(self, message: str, study=None):
        super().__init__(message)
        self.study = study


def result_of(row: dict, objectives: dict):
    """The searcher's :class:`~nasl.searchers.base.Result` for a finished trial row."""
    from nasl.searchers.base import Result
    if row["state"] != "complete":
        return Result.failure(row["error"] or row["state"])
    return Result({k: row["metrics"][k] for k in objectives}, directions=objectives)


def restore_searcher(searcher, store, objectives: dict):
    """Bring a fresh searcher to the recorded state: snapshot, then replay what came after.

    Returns the :class:`~nasl.searchers.journal.Journal` of the stored
    snapshots, for the loop's next ones.
    """
    from nasl.ir.architecture import Architecture
    from nasl.searchers.journal import Journal
    store.check_numbering()
    rows = store.searcher_states()
    try:
        journal = Journal(rows)
    except ValueError as e:
        raise NaslError(f"cannot resume: {e}") from None
    start = -1
    if rows:
        start, state = rows[-1]
        try:
            journal.load(searcher, state)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            # the snapshot is data from the file: a damaged or edited one is the file's fault, not nasl's
            raise NaslError(f"cannot resume: the searcher snapshot in '{store.path}' does not fit the searcher "
                            f"({type(e).__name__}: {e})") from None
    events = []
    for row in store.trials():
        if row["ask_seq"] > start:
            events.append((row["ask_seq"], "ask", row))
        if row["tell_seq"] is not None and row["tell_seq"] > start:
            events.append((row["tell_seq"], "tell", row))
    events.sort(key=lambda e: e[0])
    for _, kind, row in events:
        arch = Architecture.from_json(row["arch"])
        if kind == "ask":
            got, budget = searcher.ask_with_budget()
            if got != arch or budget != row["budget"]:
                raise NaslError(f"cannot resume: the searcher's replay diverges at trial {row['number']} "
                                f"(it proposes {got.id}, the study has {arch.id}); was the searcher, its "
                                f"options or the space changed?")
            searcher.lineage_of(got)        # recorded with the trial at its first ask
        else:
            searcher.tell(arch, result_of(row, objectives), budget=row["budget"])
    return journal


def _inherited(metrics) -> float | None:
    """The fraction of weights a trial inherited, where its evaluator reports one."""
    v = (metrics or {}).get("inherited")
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


class Loop:
    """One run of the loop over an open study (see :func:`nasl.study.api.search`)."""

    def __init__(self, store, searcher, runner, config: dict, *, progress=True, deterministic=True,
                 snapshot_every: int = 100, journal=None, time_budget=None, callbacks=(), pruner=None):
        from nasl.searchers.journal import Journal
        from nasl.study.time_budget import Clock
        self.store, self.searcher, self.runner, self.config = store, searcher, runner, config
        self.journal = journal if journal is not None else Journal(store.searcher_states())
        last = self.journal.last_row   # (seq, its increments only) of the newest stored snapshot
        self._previous_row = None if last is None else (last[0], {"$logs": self.journal.superseded(last[1])})
        self.clock = Clock(time_budget)
        self.callbacks = list(callbacks or ())
        self.pruner = pruner
        self.objectives = config["objectives"]
        self.primary = next(iter(self.objectives))
        self.sign = 1.0 if self.objectives[self.primary] == "max" else -1.0
        self.deterministic, self.snapshot_every = deterministic, snapshot_every
        self.stopped_by_time, self.progress_notes, self.stop_requested = False, bool(progress), False
        self.seq = store.last_seq() + 1
        self.rows: dict = {}            # trial id -> (number, Architecture, budget) for trials not yet told
        self.outcomes: dict = {}        # trial id -> outcome waiting for its turn to be told
        self.to_submit: list = []       # requests asked (or re-queued) but not yet running
        self.in_flight = 0
        self.exhausted = False
        self.consistent = True
        counts = store.counts()
        self.finished = counts["complete"] + counts["failed"] + counts["pruned"]
        self.failed = counts["failed"] + counts["pruned"]
        self.best = None
        for row in store.trials("WHERE state = 'complete'"):
            self._note_best(row["metrics"][self.primary])
        self.bar = progress_bar(progress, config["budget"], self.finished)
        self._update_bar(0)

    # ------------------------------------------------------------ pieces
    def _request(self, trial_id, number, arch, budget, ask_seq, parent=None, transformation=None) -> TrialRequest:
        c = self.config
        return TrialRequest(trial_id=trial_id, number=number, arch=dict(arch), budget=budget,
                            seed=trial_seed(c["seed"], number), space_source=c["space_source"],
                            space_file=c["space_file"], params=tuple(map(tuple, c["params"])),
                            ops_modules=tuple(c["ops"]), artifact_dir=c.get("artifact_dir"),
                            pruner=self._judge(budget, ask_seq), lineage=self._lineage(parent, transformation))

    def _lineage(self, parent, transformation):
        """The request's lineage from the parent trial's number (its row gives its id and architecture)."""
        from nasl.ir.architecture import Architecture
        if parent is None:
            return None
        row = self.store.trials("WHERE number = ?", (parent,))
        if not row:
            return None
        return {"parent": parent, "parent_id": row[0]["id"], "parent_arch": dict(Architecture.from_json(row[0]["arch"])),
                "transformation": transformation}

    def _parent_number(self, lineage):
        """The trial that evaluated a lineage's parent: the latest complete one of that architecture
        (a parent that never completed is no parent: the child starts fresh)."""
        if lineage is None:
            return None, None
        number = self.store.latest_complete(lineage.parent.id)
        return (number, lineage.transformation) if number is not None else (None, None)

    def _judge(self, budget, ask_seq):
        """The pruner bound to a trial: it sees the complete trials told before the trial was asked, so a
        re-queued trial gets the same judge as on its first run (see nasl.study.pruners)."""
        if self.pruner is None:
            return None
        history = [row["curve"] for row in self.store.trials("WHERE state = 'complete' AND tell_seq < ?", (ask_seq,))
                   if row["curve"]]
        target = budget if budget is not None else getattr(self.runner.evaluator, "epochs", None)
        return self.pruner.bind(history, metric=self.primary, direction=self.objectives[self.primary],
                                target=target)

    def requeue(self) -> None:
        """Trials that a killed or interrupted run left running go first."""
        from nasl.ir.architecture import Architecture
        for row in self.store.trials("WHERE state = 'running'"):
            arch = Architecture.from_json(row["arch"])
            self.rows[row["id"]] = (row["number"], arch, row["budget"])
            self.store.restart_trial(row["id"])
            self.to_submit.append(self._request(row["id"], row["number"], arch, row["budget"], row["ask_seq"],
                                                row["parent"], row["transformation"]))

    def _ask(self) -> bool:
        from nasl.searchers.base import Exhausted
        self.consistent = False          # until the searcher and the file agree again
        try:
            arch, budget = self.searcher.ask_with_budget()
        except Exhausted as e:
            self.exhausted = True
            self.consistent = True
            if self.finished + len(self.rows) == 0:
                # not one proposal: say why, instead of an empty study and "no trial completed"
                raise NaslError(f"searcher '{self.config['searcher']}' proposed no architecture: {e}") from None
            return False
        number = self.finished + len(self.rows)
        ask_seq = self.seq
        parent, transformation = self._parent_number(self.searcher.lineage_of(arch))
        trial_id = self.store.add_trial(number, arch.to_json(), arch.id, budget, trial_seed(self.config["seed"], number),
                                        ask_seq, parent=parent, transformation=transformation)
        self.seq += 1
        self.consistent = True
        self.rows[trial_id] = (number, arch, budget)
        self.to_submit.append(self._request(trial_id, number, arch, budget, ask_seq, parent, transformation))
        return True

    def _tell(self, trial_id, outcome) -> None:
        number, arch, budget = self.rows[trial_id]
        state = outcome["state"]
        self.consistent = False
        self.store.finish_trial(trial_id, state, metrics=outcome["metrics"], curve=outcome["curve"],
                                error=outcome["error"], duration=outcome["duration"], worker=outcome["worker"],
                                tell_seq=self.seq, inherited=_inherited(outcome["metrics"]))
        self.seq += 1
        self.searcher.tell(arch, result_of(outcome, self.objectives), budget=budget)
        del self.rows[trial_id]
        self.finished += 1
        self.consistent = True
        if state == "complete":
            self._note_best(outcome["metrics"][self.primary])
        else:
            self.failed += 1
        if self.snapshot_every and self.finished % self.snapshot_every == 0:
            self.snapshot()
        self._update_bar(1)
        if self.callbacks:
            from nasl.study.callbacks import StopSearch, call_all
            try:
                call_all(self.callbacks, self.store, trial_id)
            except StopSearch:
                self.stop_requested = True       # ask no more; the trials in flight finish and are recorded

    def _note_best(self, value) -> None:
        if self.best is None or self.sign * value > self.sign * self.best:
            self.best = value

    def _update_bar(self, n) -> None:
        if self.bar is not None:
            best = "-" if self.best is None else f"{self.best:.4g}"
            self.bar.set_postfix_str(f"best {self.primary}={best} failed={self.failed}", refresh=False)
            self.bar.update(n)

    def snapshot(self) -> None:
        # incremental: history-sized containers write only what is new since the last snapshot
        seq = self.seq - 1
        if seq == self.journal.last_seq:
            return          # nothing happened since; replacing that row would drop the entries it holds
        state = self.journal.state_dict(self.searcher)
        previous = self._previous_row
        try:
            self.store.save_searcher_state(seq, state, keep_from=self.journal.oldest_needed(seq), strip=previous)
        except BaseException:
            self.journal.discard()
            raise
        self.journal.commit(seq)
        # the row just written becomes an older one at the next snapshot: then it keeps only its increments
        self._previous_row = (seq, {"$logs": self.journal.superseded(state)})

    # ------------------------------------------------------------ the loop
    def run(self) -> None:
        budget, workers = self.config["budget"], self.runner.workers
        try:
            while True:
                # ask: keep `workers` trials outstanding, never past the budget
                while (not self.exhausted and len(self.rows) < workers
                       and self.finished + len(self.rows) < budget and not self._out_of_time()):
                    if not self._ask():
                        break
                while self.to_submit and self.in_flight < workers:
                    self.runner.submit(self.to_submit.pop(0))
                    self.in_flight += 1
                if not self.in_flight:
                    break
                for trial_id, outcome in self.runner.wait():
                    self.in_flight -= 1
                    self.outcomes[trial_id] = outcome
                self._tell_ready()
        finally:
            self.runner.close()
            # a snapshot taken between a searcher call and its record would not match the file;
            # then the next resume replays from the previous snapshot instead
            if self.consistent:
                self.snapshot()
            if self.bar is not None:
                self.bar.close()

    def _tell_ready(self) -> None:
        if not self.deterministic:
            for trial_id in list(self.outcomes):
                self._tell(trial_id, self.outcomes.pop(trial_id))
            return
        # the oldest outstanding trial first; a later one waits for it
        while self.rows:
            oldest = min(self.rows, key=lambda t: self.rows[t][0])
            if oldest not in self.outcomes:
                return
            self._tell(oldest, self.outcomes.pop(oldest))
            if len(self.rows) < self.runner.workers and not self.exhausted \
                    and self.finished + len(self.rows) < self.config["budget"] and not self._out_of_time():
                self._ask()

    def _out_of_time(self) -> bool:
        """The time budget is used: ask no more (the running trials finish and are recorded)."""
        if self.stop_requested:
            return True
        if not self.clock.out():
            return False
        if not self.clock.reported:
            from nasl.study.time_budget import describe
            self.clock.reported = True
            self.stopped_by_time = True
            if self.bar is not None or self.progress_notes:
                print(f"time budget {describe(self.clock.seconds)} used: no new trials "
                      f"({self.finished + len(self.rows)} asked)", file=sys.stderr)
        return True


def progress_bar(progress, total, initial):
    if not progress:
        return None
    from nasl.study import rich_output
    if rich_output.available(sys.stderr):          # a terminal to draw on: rich; otherwise tqdm's plain bar
        return rich_output.ProgressBar(total, initial)
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, desc="search", unit="trial", file=sys.stderr, dynamic_ncols=True,
                mininterval=0.2)
