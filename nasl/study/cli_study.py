"""``nasl search`` and ``nasl study show|plot|export`` (wired into :mod:`nasl.cli`)."""
from __future__ import annotations

import os
import sys

from nasl.ir.errors import NaslError
from nasl.registry import LazyHelp

DEFAULT_STUDY = "nasl-study.db"


def bundled_space() -> str:
    """The default space of ``nasl search``: ``nasl/spaces/digits.nas``."""
    from nasl.study.digits import default_space_path
    return default_space_path()


def _evaluator_help() -> str:
    from nasl.study.evaluators import spec_forms
    return f"{spec_forms()} (default digits; nasl list evaluators)".replace("%", "%%")


def _executor_help() -> str:
    from nasl.study.runners import executor_names
    return f"where trials run: {', '.join(executor_names())} (default inline, or the study's on --resume)"


def _model_export_help() -> str:
    from nasl.exporters import exporters
    return f"the format: {', '.join(exporters('model'))} (default pt)"


def add_commands(sub, common, parse_define) -> None:
    """Add the study commands to the ``nasl`` argument parser."""
    s = sub.add_parser("search", parents=[common], help="search a space; record every trial in a study file")
    s.add_argument("file", nargs="?", metavar="FILE",
                   help="the .nas space (default: the bundled digits space, or the study's on --resume)")
    s.add_argument("--searcher", help="default regularized_evolution (see docs/searchers.md)")
    s.add_argument("-O", "--searcher-option", dest="searcher_options", action="append", type=parse_define,
                   default=[], metavar="NAME=VALUE", help="a searcher option, e.g. -O population_size=10")
    s.add_argument("--budget", type=int, help="trials to run, complete + failed (default 10)")
    s.add_argument("--evaluator", metavar="SPEC", help=LazyHelp(_evaluator_help))
    s.add_argument("--objective", action="append", metavar="NAME[:max|min]",
                   help="an objective (repeatable; default: all the evaluator's), e.g. --objective val_accuracy "
                        "--objective params:min; a direction makes any reported metric an objective")
    s.add_argument("-E", "--evaluator-option", dest="evaluator_options", action="append", type=parse_define,
                   default=[], metavar="NAME=VALUE",
                   help="an evaluator option, e.g. -E epochs=8 -E lr=0.05 -E optimizer=adamw (repeatable)")
    s.add_argument("--cost", metavar="METRICS",
                   help="add cost objectives (minimised) to the evaluator's: params, flops, macs, latency_ms, "
                        "comma-separated")
    s.add_argument("--data", metavar="FILE.npz|MODULE:FUNC",
                   help="train on one's own data: a .npz file (x_train, y_train[, x_val, y_val, x_test, y_test]) "
                        "or a function returning tensors or Datasets (see docs/study.md)")
    s.add_argument("--executor", metavar="NAME", help=LazyHelp(_executor_help))
    s.add_argument("--workers", type=int, help="trials in flight (default 1, or the study's on --resume)")
    s.add_argument("--study", default=DEFAULT_STUDY, metavar="PATH", help=f"the study file (default {DEFAULT_STUDY})")
    s.add_argument("--resume", action="store_true", help="continue the study in --study")
    s.add_argument("--force", action="store_true",
                   help="take the study over even from a process that seems to run it (it stops at its next write)")
    s.add_argument("--trust", action="store_true",
                   help="on --resume, import the op modules and python: evaluator the study file names "
                        "(otherwise name them again with --ops / --evaluator)")
    s.add_argument("--ray-address", metavar="ADDR", help="connect to a Ray cluster (default: start a local one)")
    s.add_argument("--cpus-per-trial", type=float, help="Ray: CPUs per trial (default 1)")
    s.add_argument("--gpus-per-trial", type=float, help="Ray: GPUs per trial")
    s.add_argument("--seed", type=int, help="study seed (default 0)")
    s.add_argument("--timeout", type=float, metavar="SECONDS", help="fail a trial that runs longer")
    s.add_argument("--time-budget", metavar="DURATION",
                   help="stop asking new trials after this long in all, e.g. 90s, 30m, 2h (running ones finish)")
    s.add_argument("--export", metavar="OUT", help="export the best model (.pt, .py or .onnx)")
    s.add_argument("--config", metavar="FILE.toml",
                   help="read any of these options from a TOML file (the command line wins; see docs/study.md)")
    s.set_defaults(_defaults_of=s)
    s.add_argument("--warm-start", metavar="OTHER.db",
                   help="tell the new study's searcher another study's results before it asks")
    s.add_argument("--log-dir", metavar="DIR",
                   help="write each trial's curve to DIR/trial_N.csv (and TensorBoard, when installed)")
    s.add_argument("--pruner", choices=["median", "curve"],
                   help="stop trials early by their partial curve: median (Optuna's rule) or curve (Domhan et "
                        "al.'s extrapolation); pruned trials are recorded 'pruned' (default none, or the study's)")
    s.add_argument("-P", "--pruner-option", dest="pruner_options", action="append", type=parse_define, default=[],
                   metavar="NAME=VALUE", help="a pruner option, e.g. -P delta=0.1 -P min_epochs=2")
    s.add_argument("--scheduler", choices=["pbt"],
                   help="pbt: population-based training of the space's float choices instead of a searcher "
                        "(see docs/study.md)")
    s.add_argument("-S", "--scheduler-option", dest="scheduler_options", action="append", type=parse_define,
                   default=[], metavar="NAME=VALUE", help="a scheduler option, e.g. -S population=8 -S interval=2")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    from nasl.study.oneshot_cli import add_arguments as add_oneshot_arguments
    add_oneshot_arguments(s, parse_define)

    tr = sub.add_parser("train", parents=[common],
                        help="retrain a study's architecture from scratch, longer, over seeds; report mean ± std")
    tr.add_argument("path", metavar="STUDY.db")
    pick = tr.add_mutually_exclusive_group(required=True)
    pick.add_argument("--best", action="store_true", help="the best trial (by validation, within the top budget)")
    pick.add_argument("--trial", type=int, metavar="N", help="trial number N")
    tr.add_argument("--epochs", type=float, metavar="E", help="epochs to train (default: the search's)")
    tr.add_argument("--seeds", type=int, default=1, metavar="S", help="train under seeds 0..S-1 (default 1)")
    tr.add_argument("-E", "--evaluator-option", dest="evaluator_options", action="append", type=parse_define,
                    default=[], metavar="NAME=VALUE", help="replace a recorded evaluator option, e.g. -E lr=0.05")
    tr.add_argument("--data", metavar="MODULE:FUNC", help="approve the data module the study records")
    tr.add_argument("--trust", action="store_true", help="import the op and data modules the study file names")

    st = sub.add_parser("study", parents=[common], help="show, plot or export a recorded study")
    ss = st.add_subparsers(dest="study_command", required=True, metavar="ACTION")
    sh = ss.add_parser("show", help="a table of the top trials")
    sh.add_argument("path", metavar="PATH")
    sh.add_argument("--top", type=int, default=10, metavar="K", help="how many (default 10)")
    sh.add_argument("--pareto", action="store_true", help="list the Pareto front (multi-objective studies)")
    sh.add_argument("--trial", type=int, metavar="N", help="one trial in full: choices, metrics, curve, params/FLOPs")
    sh.add_argument("--trust", action="store_true", help="import the op modules the study file names (--trial)")
    sh.add_argument("--lineage", action="store_true",
                    help="the lineage tree: each trial under the parent it was made from, with the transformation")
    csvp = ss.add_parser("export-csv", help="every trial as a CSV table (the columns of Study.dataframe())")
    csvp.add_argument("path", metavar="PATH")
    csvp.add_argument("-o", "--output", required=True, metavar="OUT.csv")
    cmp_ = ss.add_parser("compare", help="best-so-far curves of several studies overlaid, with their mean and band")
    cmp_.add_argument("paths", nargs="+", metavar="PATH")
    cmp_.add_argument("-o", "--output", metavar="FILE.png", help="draw the curves (otherwise only the table)")
    cmp_.add_argument("--objective", metavar="NAME", help="the objective to compare (default: the primary one)")
    pl = ss.add_parser("plot", help="best-so-far over trials (and the Pareto front) as an image")
    pl.add_argument("path", metavar="PATH")
    pl.add_argument("-o", "--output", required=True, metavar="FILE.png")
    pl.add_argument("--pareto", action="store_true", help="draw the Pareto front of the first two objectives only")
    ex = ss.add_parser("export", help="export a trial's model")
    ex.add_argument("path", metavar="PATH")
    which = ex.add_mutually_exclusive_group(required=True)
    which.add_argument("--best", action="store_true", help="the best trial")
    which.add_argument("--trial", type=int, metavar="N", help="trial number N")
    ex.add_argument("--to", default="pt", metavar="FORMAT", help=LazyHelp(_model_export_help))
    ex.add_argument("-o", "--output", required=True, metavar="OUT")
    # own dest: a sub-subcommand's default must not replace `nasl study --ops M` given before it
    ex.add_argument("--ops", dest="export_ops", action="append", default=[], metavar="MODULE",
                    help="approve (and import) an op module the study file names (repeatable)")
    ex.add_argument("--trust", action="store_true", help="import the op modules the study file names")


def parse_objectives(items):
    """``--objective`` values: a list of names, or a dict ``{name: direction or None}`` once one has a direction."""
    if not items:
        return None
    out = {}
    for item in items:
        name, sep, direction = item.partition(":")
        name, direction = name.strip(), direction.strip().lower()
        if not name or (sep and direction not in ("max", "min")):
            raise NaslError(f"--objective takes NAME or NAME:max or NAME:min, not '{item}'")
        out[name] = direction or None
    return out if any(out.values()) else list(out)


def run_search(args) -> int:
    import nasl.study
    from nasl.study import config_file
    from nasl.study.time_budget import parse as parse_duration
    parser = args._defaults_of
    if args.config is not None:
        config_file.merge(args, {a.dest: a.default for a in parser._actions}, args.config)
    run_config = config_file.resolved(args)
    if args.resume and not os.path.exists(args.study):
        raise NaslError(f"no study to resume: there is no file '{args.study}'; leave out --resume to start one")
    from nasl.study import oneshot_cli
    if oneshot_cli.wanted(args):
        return oneshot_cli.run(args)
    resuming = args.resume
    space = args.file if args.file else (None if resuming else bundled_space())
    evaluator = oneshot_cli.evaluator(args) or (args.evaluator if args.evaluator or resuming else "digits")
    budget = args.budget if args.budget is not None or resuming or args.scheduler else 10
    options = dict(args.evaluator_options)
    if args.data is not None:
        options["data"] = args.data
    resources = None
    if args.cpus_per_trial is not None or args.gpus_per_trial is not None:
        resources = {"num_cpus": 1 if args.cpus_per_trial is None else args.cpus_per_trial}
        if args.gpus_per_trial is not None:
            resources["num_gpus"] = args.gpus_per_trial
    try:
        study = nasl.study.search(
            space, searcher=args.searcher, evaluator=evaluator, budget=budget, objectives=parse_objectives(args.objective),
            executor=args.executor, workers=args.workers, storage=args.study, seed=args.seed,
            resume=args.resume, timeout=args.timeout, searcher_options=dict(args.searcher_options) or None,
            params=dict(args.defines) if space is not None else None, ops=args.ops or None,
            progress=not args.no_progress, ray_address=args.ray_address, resources=resources, force=args.force,
            trust=args.trust, evaluator_options=options or None, cost=args.cost,
            time_budget=None if args.time_budget is None else parse_duration(args.time_budget),
            log_dir=args.log_dir, warm_start=args.warm_start, run_config=run_config,
            pruner=args.pruner, pruner_options=dict(args.pruner_options) or None,
            scheduler=args.scheduler, scheduler_options=dict(args.scheduler_options) or None)
    except nasl.study.SearchInterrupted as e:
        print(str(e), file=sys.stderr)
        return 130
    c = study.counts()
    from nasl.study import rich_output
    fancy = rich_output.available()                 # a terminal and rich: a table; piped: the plain lines
    if fancy:
        rich_output.search_summary(study, study.best() if c["complete"] else None)
    else:
        pruned = f", {c['pruned']} pruned" if c["pruned"] else ""
        print(f"study {study.path}: {c['complete']} complete, {c['failed']} failed{pruned}")
    if not c["complete"]:
        print("no trial completed; see `nasl study show` for the errors", file=sys.stderr)
        return 1
    best = study.best()
    if not fancy:
        shown = rich_output.shown_metrics(study, [best])   # with held-out test accuracy when the data has a test set
        print(f"best trial #{best.number}: " + ", ".join(f"{k}={best.metrics[k]:.6g}" for k in shown))
        print(f"best architecture: {best.arch.to_json()}")
    out = args.export
    if out is None and (study.config["evaluator"].get("spec") or "") == "digits":
        out = os.path.splitext(study.path)[0] + "-best.pt"
    if out:
        from nasl.study.export import format_from_suffix
        path = study.export_best(out, to=format_from_suffix(out))
        print(f"exported the best model to {path}")
    return 0


def run_train(args) -> int:
    from nasl.study.retrain import results_path, retrain, summary_lines
    from nasl.study.study import Study
    study = Study.load(args.path)
    try:
        trial = study.best() if args.best else _trial(study, args.trial)
        epochs = args.epochs
        if epochs is not None and epochs == int(epochs):
            epochs = int(epochs)
        summary = retrain(study, trial, epochs=epochs, seeds=args.seeds, options=dict(args.evaluator_options),
                          ops=args.ops, trust=args.trust, data=args.data,
                          log=lambda line: print(line, file=sys.stderr))
    finally:
        study.close()
    for line in summary_lines(summary):
        print(line)
    where = results_path(study)
    if where:
        print(f"results: {where}")
    return 0


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return "-" if v is None else str(v)


def run_study(args) -> int:
    from nasl.study.study import Study
    if args.study_command == "compare":
        return _compare(args)
    study = Study.load(args.path)
    try:
        if args.study_command == "export-csv":
            from nasl.study.dataframe import write_csv
            print(write_csv(study, args.output))
            return 0
        if args.study_command == "show":
            if args.trial is not None:
                from nasl.study.trial_view import show_trial
                return show_trial(study, args.trial, ops=args.ops, trust=args.trust)
            if args.pareto:
                from nasl.study.pareto_view import show_pareto
                return show_pareto(study)
            if args.lineage:
                from nasl.study.lineage_tree import has_lineage, render
                if not has_lineage(study.trials):
                    print("no trial of this study has a parent (its searcher passes no lineage)")
                    return 0
                print(render(study.trials, next(iter(study.objectives))))
                return 0
            return _show(study, args.top)
        if args.study_command == "plot":
            if args.pareto:
                from nasl.study.pareto_view import plot_pareto
                print(plot_pareto(study, args.output))
                return 0
            from nasl.study.plot import plot_study
            print(plot_study(study, args.output))
            return 0
        trial = study.best() if args.best else _trial(study, args.trial)
        from nasl.study.export import export_trial
        print(export_trial(study, trial, args.output, args.to, ops=list(args.ops) + list(args.export_ops),
                           trust=args.trust))
        return 0
    finally:
        study.close()


def _compare(args) -> int:
    from nasl.study.compare import plot_compare, summary
    from nasl.study.study import Study
    studies = []
    try:
        for path in args.paths:
            studies.append(Study.load(path))
        for line in summary(studies, args.objective):
            print(line)
        if args.output:
            print(plot_compare(studies, args.output, args.objective))
    finally:
        for s in studies:
            s.close()
    return 0


def _trial(study, number):
    for t in study.trials:
        if t.number == number:
            if t.state != "complete":
                raise NaslError(f"trial {number} is {t.state}, not complete")
            return t
    raise NaslError(f"the study has no trial {number}")


def _show(study, k: int) -> int:
    from nasl.study import rich_output
    if rich_output.available():
        rich_output.show(study, k)
        return 0
    c, cfg = study.counts(), study.config
    objectives = list(study.objectives)
    print(f"study {study.path}: space {cfg['space_file']}, searcher {cfg['searcher']} "
          f"{__import__('json').dumps(cfg['searcher_options'])}, seed {cfg['seed']}, budget {cfg['budget']}")
    print(f"evaluator {cfg['evaluator'].get('spec') or cfg['evaluator']['repr']}; objectives "
          + ", ".join(f"{n} ({d})" for n, d in study.objectives.items()))
    if cfg["ops"]:
        # shown, never imported: resuming or exporting needs them named again (--ops) or --trust
        print("op modules: " + ", ".join(map(str, cfg["ops"])))
    print(f"trials: {c['complete']} complete, {c['failed']} failed, {c['pruned']} pruned, {c['running']} running")
    top = study.top(k)
    if top:
        objectives = rich_output.shown_metrics(study, top)
        budgets = any(t.budget is not None for t in top)       # a multi-fidelity study: at the top budget
        header = ["rank", "trial"] + (["budget"] if budgets else []) + objectives + ["seconds", "arch"]
        rows = [[str(i + 1), str(t.number)] + ([_fmt(t.budget)] if budgets else [])
                + [_fmt(t.metrics.get(o)) for o in objectives]
                + [_fmt(t.duration), t.arch_id] for i, t in enumerate(top)]
        widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
        if budgets:
            print(f"ranked at the top budget {_fmt(top[0].budget)}: {len(study.top_budget_trials())} of "
                  f"{c['complete']} complete trials (nasl study export-csv lists them all)")
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for r in rows:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
        print(f"best architecture: {top[0].arch.to_json()}")
    failed = [t for t in study.trials if t.state in ("failed", "pruned")]
    if failed:
        print(f"failed trials ({len(failed)}):")
        for t in failed[:k]:
            print(f"  #{t.number}: {t.error}")
    return 0
