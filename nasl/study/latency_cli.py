"""``nasl latency build-table | fit | check``: latency predictors measured on this machine's device.

- ``build-table SPACE --device cpu|cuda [-o table.json]`` times every op
  instance of sampled architectures (:func:`nasl.study.latency.build_table`);
- ``fit SPACE [-o model.json]`` fits the learned predictor on measured
  whole networks (:func:`nasl.study.latency_check.fit_measured`);
- ``check SPACE [--table T] [--model M]`` prints each one's Spearman with
  measured latency, and the noise ceiling (:func:`nasl.study.latency_check.check`).

``--cost latency_table=PATH`` / ``latency_model=PATH`` then uses them in a study.
"""
from __future__ import annotations

from nasl.ir.errors import NaslError


def _shape(text: str):
    try:
        shape = tuple(int(d) for d in text.replace("x", ",").split(","))
    except ValueError:
        raise NaslError(f"--input-shape expects comma-separated ints like 3,32,32, got '{text}'") from None
    if not shape or min(shape) < 1:
        raise NaslError(f"--input-shape needs positive sizes, got '{text}'")
    return shape


def _positive(name, value):
    if value < 1:
        raise NaslError(f"{name} must be at least 1, not {value}")
    return value


def add_commands(sub, common) -> None:
    """Add ``latency`` with its three sub-commands to the ``nasl`` argument parser."""
    timing = __import__("argparse").ArgumentParser(add_help=False)
    timing.add_argument("file", metavar="SPACE")
    timing.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    timing.add_argument("--input-shape", metavar="C,H,W", help="the input shape (default: the space's)")
    timing.add_argument("--rounds", type=int, default=20, help="interleaved timing rounds (default 20)")
    timing.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    timing.add_argument("--clock", choices=["auto", "thread", "wall"], default="auto",
                        help="thread CPU time (auto on a CPU with one thread) or wall time (auto on a GPU)")
    timing.add_argument("--seed", type=int, default=0, help="the sampling seed")
    lat = sub.add_parser("latency", parents=[common], help="latency lookup tables and predictors (build-table, fit, check)")
    cmds = lat.add_subparsers(dest="latency_command", required=True, metavar="ACTION")
    b = cmds.add_parser("build-table", parents=[common, timing], help="time each op instance into a JSON table")
    b.add_argument("-o", "--output", default="latency_table.json", help="where to write it (default latency_table.json)")
    b.add_argument("--samples", type=int, default=100, help="architectures whose ops are timed (default 100)")
    f = cmds.add_parser("fit", parents=[common, timing], help="fit the learned predictor on measured networks")
    f.add_argument("-o", "--output", default="latency_model.json", help="where to write it (default latency_model.json)")
    f.add_argument("--samples", type=int, default=100, help="networks measured to fit on (default 100)")
    f.add_argument("--ridge", type=float, default=1.0, help="the ridge penalty (default 1)")
    c = cmds.add_parser("check", parents=[common, timing], help="Spearman of a table / model with measured latency")
    c.add_argument("--table", help="a table of build-table")
    c.add_argument("--model", help="a model of fit")
    c.add_argument("-n", type=int, default=50, help="architectures, spread over the FLOPs range (default 50)")


def run(args) -> int:
    import nasl
    from nasl.study import latency, latency_check, latency_model
    space = nasl.load(args.file, **dict(args.defines))
    shape = _shape(args.input_shape) if args.input_shape else None
    kw = dict(device=args.device, input_shape=shape, rounds=_positive("--rounds", args.rounds),
              num_threads=_positive("--threads", args.threads), clock=args.clock)
    if args.latency_command == "build-table":
        table = latency.build_table(space, samples=_positive("--samples", args.samples), seed=args.seed, **kw)
        path = latency.save(table, args.output)
        total = sum(table["ops"].values())
        print(f"{len(table['ops'])} op instances of {table['architectures']} architectures on {args.device} "
              f"({table['clock']} clock, min of {args.rounds} rounds, {total:.2f} ms in all) -> {path}")
    elif args.latency_command == "fit":
        model = latency_check.fit_measured(space, samples=_positive("--samples", args.samples), seed=args.seed + 1,
                                           ridge=args.ridge, **kw)
        path = latency_model.save(model, args.output)
        print(f"fitted on {model['trained_on']} measured networks ({len(model['weights'])} features) -> {path}")
    else:
        if not args.table and not args.model:
            raise NaslError("nasl latency check needs --table PATH, --model PATH or both")
        r = latency_check.check(space, n=_positive("-n", args.n), seed=args.seed,
                                table=latency.load(args.table) if args.table else None,
                                model=latency_model.load(args.model) if args.model else None, **kw)
        print(f"{r['n']} networks measured: {r['min_ms']:.3f}-{r['max_ms']:.3f} ms")
        for name in ("table", "model"):
            if name in r:
                print(f"Spearman {name} vs measured: {r[name]:.3f}")
        print(f"noise ceiling (two measurements of the same networks): {r['noise_ceiling']:.3f}")
    return 0


__all__ = ["add_commands", "run"]
