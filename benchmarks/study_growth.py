"""Benchmark: does a study's per-trial cost stay flat as the study grows?

For every registered searcher, one ``nasl.search`` of ``--trials`` trials
(default 20,000) on ``examples/nas_bench_201.nas`` with the NAS-Bench-201
table evaluator (CIFAR-10, 200 epochs), ``executor="inline"``, storage in
a fresh SQLite file (WAL, two commits per trial, a searcher snapshot every
100 trials), no progress bar. The options per searcher are those of
``searcher_quality.py``; ``successive_halving`` and ``hyperband`` run with
budgets 1..81 (the table ignores the budget, so a trial costs the same).

The per-trial cost of trials ``a..b`` is the CPU time of the process
(``time.process_time``: the machine is shared, and wall time swings with
the other jobs) from the evaluation of trial ``a`` to that of trial ``b``,
divided by ``b - a``. It holds everything the loop does per trial (ask,
two commits, lookup, tell, snapshots). The evaluator is the table evaluator
on ``--csv``, wrapped to note the time of each call. Prints, per searcher,
the cost of the first and the last 1,000 trials and their ratio (target: at
most 1.3), the cost of the 1,000 trials that end at each of ``--sizes``,
and the size of the last snapshot row.

The **baseline** is the bare loop of the same searcher, options and seed:
``ask_with_budget``, the table lookup, ``tell``, timed the same way, with no
storage and no snapshots. Its ratio is the growth of the algorithm itself
(a tournament over a population that only grows, dedup retries as the
space is used up). ``nasl ratio`` is the ratio of the study's cost beyond
the bare loop's, last window over first: nasl's own bookkeeping per trial.

NAS-Bench-201 has 15,625 architectures: a searcher that never proposes one
twice stops there (``Exhausted``), so its last 1,000 are the last 1,000 it
ran. Searchers whose algorithm costs more with every trial (``SLOW``: a
model refit on all history) run fewer trials, stated in the output; see
BENCHMARKS.md, sections 21 and 43, for why. The list is empty now:
``optuna`` left it when its adapter began to bound Optuna's history
(``max_history``, section 61), ``bananas`` when a fit began to serve a whole
batch in a nearly used-up space (section 66).

``--space wide`` runs the same on NAS-Bench-201 with 6 nodes per cell
instead of 4 (15 edges, 5^15 = 3.1e10 architectures), so no searcher comes
near using the space up and de-duplication stays cheap: what grows there is
nasl's and the algorithm's own cost, not the retries of a space nearly
exhausted. No table covers it; the evaluator is deterministic and cheap
(:class:`WideScore`: a fixed score per operation per edge plus a hashed
per-architecture term, a few µs), so the searchers still have a signal to
follow.

Usage::

    python benchmarks/study_growth.py [--trials 20000] [--only NAME ...] [--slow-trials N]
        [--storage file|memory] [--csv PATH] [--space nb201|wide]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nasl  # noqa: E402
from nasl.ir.architecture import Architecture  # noqa: E402
from nasl.searchers import create, list_searchers  # noqa: E402
from nasl.searchers.base import Exhausted, Result  # noqa: E402
from nasl.study.protocol import TrialRequest  # noqa: E402
from nasl.study.searcher_inputs import resolve_searcher_options  # noqa: E402
from nasl.study.table import TableEvaluator  # noqa: E402
from _machine import machine  # noqa: E402
from searcher_quality import SETTINGS, default_csv  # noqa: E402

TARGET = 1.3
WINDOW = 1000
COLUMN = "CIFAR10TestAccuracy200Epochs"
SPACE = ROOT / "examples" / "nas_bench_201.nas"
# Searchers whose own algorithm grows with the history (see BENCHMARKS.md): trials they run instead of --trials
SLOW: dict = {}


WIDE = SPACE.read_text().replace("dag(nodes=4)", "dag(nodes=6)")
OP_SCORE = {"none": 0.0, "skip_connect": 0.4, "nor_conv_1x1": 0.8, "nor_conv_3x3": 1.2, "avg_pool_3x3": 0.3}


class WideScore:
    """A deterministic, cheap stand-in for a table on the 6-node NB201 space: 70 plus a fixed score per
    operation on each edge, plus a term in [0, 2) hashed from the architecture's id."""

    directions = {COLUMN: "max"}

    def __call__(self, request):
        arch = request.arch        # a dict in a study's request, an Architecture in the bare loop
        arch = arch if isinstance(arch, Architecture) else Architecture(arch)
        base = 70.0 + sum(OP_SCORE.get(v, 0.5) for v in arch.values())
        return {COLUMN: base + int(arch.id, 16) % 2000 / 1000.0}       # the id is a hex digest


def evaluator_for(kind, csv, bare=False):
    if kind == "wide":
        return WideScore()
    return TableEvaluator(csv, COLUMN, extra=[]) if bare else TableEvaluator(csv, COLUMN)


class Clocked:
    """An evaluator that notes the CPU time at each call (inline, so once per trial, in trial order)."""

    def __init__(self, inner):
        self.inner, self.directions, self.times = inner, inner.directions, []

    def __call__(self, request):
        self.times.append(time.process_time())
        return self.inner(request)


def run_study(name, n, csv, folder, storage_kind, space):
    path = None if storage_kind == "memory" else os.path.join(folder, f"{name}.db")
    evaluator = Clocked(evaluator_for(space[0], csv))
    t = time.perf_counter()
    study = nasl.search(space[1], searcher=name, evaluator=evaluator, budget=n, seed=0,
                        searcher_options=SETTINGS.get(name, {}), storage=path, progress=False)
    total = time.perf_counter() - t
    row = study.storage.conn.execute("SELECT length(state) FROM searcher_states ORDER BY seq DESC LIMIT 1").fetchone()
    failed = sum(1 for t in study.trials if t.state != "complete")
    study.close()
    if failed:      # a benchmark of failure handling would measure the wrong thing
        raise SystemExit(f"{name}: {failed} trials did not complete")
    return evaluator.times, total, (row[0] if row else 0)


def bare_loop(name, n, csv, space_kind):
    """The ask times of the searcher's own loop: ask, lookup, tell; no study."""
    kind, path = space_kind
    space = nasl.load(path)
    source = Path(path).read_text()
    evaluator = evaluator_for(kind, csv, bare=True)
    s = create(name, space.spec, seed=0, **resolve_searcher_options(SETTINGS.get(name, {}), space))
    started, clock = [], time.process_time
    for i in range(n):
        t = clock()
        try:
            arch, budget = s.ask_with_budget()
        except Exhausted:
            break
        started.append(t)
        req = TrialRequest(trial_id=i, number=i, arch=arch, budget=budget, seed=i, space_source=source)
        s.tell(arch, Result({COLUMN: evaluator(req)[COLUMN]}, directions={COLUMN: "max"}), budget=budget)
    return started


def per_trial(started, end):
    """µs per trial over the WINDOW trials that end at ``end`` (from the clock of end-WINDOW-1 to end-1)."""
    end = min(end, len(started))
    a = max(0, end - 1 - WINDOW)
    return (started[end - 1] - started[a]) / max(1, end - 1 - a) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=20000)
    ap.add_argument("--slow-trials", type=int, default=None, help="trials for the SLOW searchers (default: SLOW)")
    ap.add_argument("--sizes", type=int, nargs="*", default=[2500, 5000, 10000, 20000])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--storage", choices=("file", "memory"), default="file")
    ap.add_argument("--csv", default=str(default_csv()))
    ap.add_argument("--space", choices=("nb201", "wide"), default="nb201")
    args = ap.parse_args()
    names = args.only or list_searchers()
    print(machine())
    folder0 = tempfile.mkdtemp()
    if args.space == "wide":
        wide = os.path.join(folder0, "nb201_wide.nas")
        Path(wide).write_text(WIDE)
        space = ("wide", wide)
    else:
        space = ("nb201", str(SPACE))
    print(f"{'NAS-Bench-201 table' if args.space == 'nb201' else 'NB201 with 6-node cells (5^15), WideScore'}, inline, {args.storage} storage, snapshot every 100 trials, seed 0; "
          f"CPU µs per trial over {WINDOW}-trial windows")
    sizes = [s for s in args.sizes if s <= args.trials]
    print(f"{'searcher':22s} {'trials':>6s} {'first':>7s} {'last':>7s} {'ratio':>6s}  "
          + " ".join(f"{'@' + str(s):>7s}" for s in sizes)
          + f" {'snapshot':>9s} {'total s':>8s} | {'bare first':>10s} {'last':>7s} {'ratio':>6s} | {'nasl ratio':>10s}")
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            n = args.trials if name not in SLOW else min(args.trials, args.slow_trials or SLOW[name])
            started, total, snap = run_study(name, n, args.csv, folder, args.storage, space)
            bare = bare_loop(name, n, args.csv, space)
            ran = len(started)
            first, last = per_trial(started, WINDOW + 1), per_trial(started, ran)
            b_first, b_last = per_trial(bare, WINDOW + 1), per_trial(bare, len(bare))
            ratio = last / first
            own = (last - b_last) / (first - b_first)       # the study's own cost per trial, beyond the searcher's
            at = " ".join(f"{per_trial(started, s):7.0f}" if s <= ran else f"{'-':>7s}" for s in sizes)
            note = "" if ran == n else f"  (exhausted the space at {ran})"
            if name in SLOW and n < args.trials:
                note += f"  (SLOW: {n} trials)"
            print(f"{name:22s} {ran:6d} {first:7.0f} {last:7.0f} {ratio:6.2f}  {at} {snap / 1024:7.1f}kB "
                  f"{total:8.1f} | {b_first:10.0f} {b_last:7.0f} {b_last / b_first:6.2f} | {own:10.2f}  "
                  f"{'PASS' if ratio <= TARGET else 'FAIL'}{note}", flush=True)

if __name__ == "__main__":
    main()
