"""``nasl search --oneshot MODE --epochs N`` and ``nasl search --supernet FILE`` (flags added by cli_study).

``--oneshot`` trains a supernet of FILE (default: the bundled digits space)
on the digits for ``--epochs`` epochs, recording each epoch in ``--study``;
``-O NAME=VALUE`` sets a loop option (``-O order=2``, ``-O arch_lr=0.003``)
and ``--supernet-option NAME=VALUE`` a supernet one. It ends by printing the
derived architecture and exporting it (``--export``, default
``<study>-derived.pt``, untrained: retrain it with ``nasl train``).
``--resume`` continues a one-shot study (``--oneshot`` may then be left out).

``--supernet FILE`` searches a trained supernet with an ordinary study: the
evaluator becomes ``supernet:FILE`` (inherited weights, BatchNorm
recalibrated; :mod:`nasl.study.supernet_eval`).
"""
from __future__ import annotations

import os
import sys

from nasl.ir.errors import NaslError

# flags of an ordinary search that a one-shot run does not take
_NOT_ONESHOT = {"searcher": "--searcher", "budget": "--budget", "evaluator": "--evaluator", "executor": "--executor",
                "workers": "--workers", "supernet": "--supernet", "warm_start": "--warm-start", "cost": "--cost",
                "data": "--data", "timeout": "--timeout", "time_budget": "--time-budget", "log_dir": "--log-dir"}


def add_arguments(s, parse_define) -> None:
    s.add_argument("--oneshot", metavar="MODE",
                   help="train a weight-sharing supernet instead: darts, snas, gdas, pcdarts, proxyless, spos, "
                        "enas, oneshot, ofa or bank (see docs/oneshot.md); -O sets its loop options")
    s.add_argument("--epochs", type=int, metavar="N", help="--oneshot: epochs to train the supernet (default 10)")
    s.add_argument("--supernet-option", dest="supernet_options", action="append", type=parse_define, default=[],
                   metavar="NAME=VALUE", help="--oneshot: an option of the supernet (repeatable)")
    s.add_argument("--supernet", metavar="CHECKPOINT",
                   help="search a trained supernet (its -supernet.pt file): the evaluator is supernet:CHECKPOINT")


def wanted(args) -> bool:
    """A one-shot run: ``--oneshot``, or ``--resume`` of a study that is one."""
    if args.oneshot is not None:
        return True
    if args.epochs is not None or args.supernet_options:
        raise NaslError("--epochs and --supernet-option go with --oneshot MODE")
    return bool(args.resume) and _is_oneshot(args.study)


def evaluator(args):
    """``supernet:PATH`` for ``--supernet PATH`` (None without it)."""
    if args.supernet is None:
        return None
    if args.evaluator is not None:
        raise NaslError("--supernet sets the evaluator (supernet:CHECKPOINT); leave out --evaluator")
    if not os.path.isfile(args.supernet):
        raise NaslError(f"no supernet checkpoint at '{args.supernet}' (a one-shot run writes <study>-supernet.pt)")
    return "supernet:" + args.supernet


def _is_oneshot(path) -> bool:
    if not os.path.exists(path):
        return False
    from nasl.study.oneshot_record import SEARCHER_PREFIX
    from nasl.study.storage import read_study_row
    row = read_study_row(path)
    return row is not None and str(row["searcher"]).startswith(SEARCHER_PREFIX)


def run(args) -> int:
    from nasl.study.digits import default_space_path
    from nasl.study.oneshot_study import final_trial, oneshot_search
    given = [flag for name, flag in _NOT_ONESHOT.items() if getattr(args, name, None) not in (None, [], False)]
    if given:
        raise NaslError(f"{given[0]} does not apply to a one-shot run (--oneshot); see docs/oneshot.md")
    space = args.file if args.file else (None if args.resume else default_space_path())
    try:
        result = oneshot_search(space, args.oneshot, args.epochs, args.study, resume=args.resume,
                                options=dict(args.searcher_options) or None,
                                supernet_options=dict(args.supernet_options) or None, seed=args.seed,
                                params=dict(args.defines) if space is not None else None,
                                progress=not args.no_progress, force=args.force)
    except KeyboardInterrupt:
        print(f"interrupted; the finished epochs are kept: resume with nasl search --study {args.study} --resume",
              file=sys.stderr)
        return 130
    study = result.study
    trial = final_trial(study)
    mode = study.config["searcher"].partition(":")[2]
    shown = ", ".join(f"{k}={trial.metrics[k]:.4g}" for k in ("val_accuracy", "train_loss") if k in trial.metrics)
    print(f"one-shot {mode}: {len(result.history)} epochs recorded in {study.path}; epoch {trial.number}: {shown}")
    print(f"derived architecture: {trial.arch.to_json()}")
    if result.supernet_path:
        print(f"trained supernet: {result.supernet_path} (search it: nasl search --supernet {result.supernet_path} "
              f"--searcher regularized_evolution --study OTHER.db)")
    out = args.export or (None if study.path == ":memory:" else os.path.splitext(study.path)[0] + "-derived.pt")
    if out:
        from nasl.study.export import export_trial, format_from_suffix
        path = export_trial(study, trial, out, to=format_from_suffix(out))
        print(f"exported the derived architecture to {path}; retrain it from scratch: "
              f"nasl train {study.path} --trial {trial.number}")
    return 0
