"""The ``nasl`` command.

Exit status: 0 on success, 1 when the input has errors (diagnostics are
printed), 2 on a usage error, 3 on an internal error. A Python traceback is
printed only with ``--traceback``.
"""
from __future__ import annotations

import argparse
import sys

from nasl.ir.errors import InternalError, NaslError
from nasl.registry import LazyHelp


def _parse_define(text: str):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected name=value, got '{text}'")
    name, raw = text.split("=", 1)
    name = name.strip()
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"'{name}' is not a parameter name")
    low = raw.strip().lower()
    if low in ("true", "false"):
        return name, low == "true"
    import json     # here and below, imported where used: ``nasl --help`` starts without them
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw
    except (ValueError, RecursionError):     # an int past Python's 4,300 digits, or nesting past its stack
        raise argparse.ArgumentTypeError(f"the value of '{name}' is too large or too deeply nested") from None


def _exporter_help() -> str:
    from nasl.exporters import exporters
    return f"the format: {', '.join(exporters('arch'))} (nasl list exporters)"


def _format_help() -> str:
    from nasl.formats import ARCH_FORMATS
    others = [f for f in ARCH_FORMATS.keys() if f != "arch"]
    return f"how --arch is written: arch (nasl's {{path: value}}, the default), {', '.join(others)} " \
           f"(nasl list formats)".replace("%", "%%")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-D", dest="defines", action="append", type=_parse_define, default=[],
                        metavar="NAME=VALUE", help="override a space parameter (repeatable)")
    common.add_argument("--ops", action="append", default=[], metavar="MODULE",
                        help="import a Python module (name or .py file) that registers ops (repeatable)")
    common.add_argument("--traceback", action="store_true", help="show Python tracebacks on errors")
    arch_opts = argparse.ArgumentParser(add_help=False)
    arch_opts.add_argument("--arch", metavar="VALUE|@FILE",
                           help="the architecture: JSON (or a plain string), or @file holding it")
    arch_opts.add_argument("--arch-format", default="arch", metavar="FORMAT", help=LazyHelp(_format_help))
    arch_opts.add_argument("--preset", metavar="NAME", help="a named architecture from FILE's .presets.json")
    p = argparse.ArgumentParser(prog="nasl", description="A language for neural-architecture search spaces.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", parents=[common], help="check .nas files; exit 1 with diagnostics")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--fast", action="store_true",
                   help="only the static passes: do not realize and shape-check one architecture")
    s = sub.add_parser("show", parents=[common], help="print the choice tree and the size")
    s.add_argument("file", metavar="FILE")
    s.add_argument("--json", action="store_true", help="the choice spec as JSON")
    n = sub.add_parser("count", parents=[common], help="count architectures (exactly)")
    n.add_argument("file", metavar="FILE")
    n.add_argument("--unique", choices=["graph", "expression"], help="count up to an equivalence")
    m = sub.add_parser("sample", parents=[common], help="print random architectures, one JSON per line")
    m.add_argument("file", metavar="FILE")
    m.add_argument("-n", type=int, default=1, help="how many (default 1)")
    m.add_argument("--seed", type=int, default=None, help="random seed")
    m.add_argument("--mode", choices=["uniform-architecture", "uniform-choice"], default="uniform-architecture",
                   help="every architecture equally likely (default), or each active choice uniform, top-down")
    k = sub.add_parser("compile", parents=[common, arch_opts], help="compile an architecture; print layers, params, FLOPs")
    k.add_argument("file", metavar="FILE")
    k.add_argument("--input-shape", action="append", default=[], metavar="[NAME=]C,H,W",
                   help="override an input shape (repeatable, NAME= for networks with several inputs)")
    k.add_argument("--code", action="store_true", help="also print the generated forward")
    e = sub.add_parser("export", parents=[common, arch_opts], help="export an architecture (or the space) to a file")
    e.add_argument("file", metavar="FILE")
    e.add_argument("--to", required=True, metavar="FORMAT", help=LazyHelp(_exporter_help))
    e.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write it")
    e.add_argument("--space", action="store_true", help="picture the whole space (dot/svg/png only)")
    e.add_argument("--input-shape", action="append", default=[], metavar="[NAME=]C,H,W",
                   help="override an input shape (repeatable)")
    r = sub.add_parser("presets", parents=[common], help="list the named architectures beside a .nas file")
    r.add_argument("file", metavar="FILE")
    l = sub.add_parser("list", parents=[common], help="list what is registered: ops, searchers with their options, "
                                                      "evaluators, executors, exporters, formats, modes")
    from nasl.cli_list import KINDS
    l.add_argument("what", choices=KINDS)
    l.add_argument("pattern", nargs="?", default="*", help="glob, e.g. 'sep*' or 'reg*'")
    from nasl.study.cli_study import add_commands
    add_commands(sub, common, _parse_define)
    d = sub.add_parser("dashboard", parents=[common], help="watch a study in the browser (read-only, live)")
    d.add_argument("path", metavar="STUDY.db")
    d.add_argument("--port", type=int, default=8080, help="the port (default 8080; 0 picks a free one)")
    d.add_argument("--host", default="127.0.0.1", help="the address to serve on (default 127.0.0.1: this machine)")
    from nasl.editor.cli import add_commands as add_editor_commands
    add_editor_commands(sub, common)
    from nasl.study.latency_cli import add_commands as add_latency_commands
    add_latency_commands(sub, common)
    return p


def _attach_source(e: NaslError) -> None:
    """Give an error raised away from its space (compile, export, a study) the text of the
    ``.nas`` file its span names, so that it renders with the source line and a caret."""
    errors = getattr(e, "errors", None) or [e]
    for err in errors:
        span = err.span
        if err.source is None and span is not None and span.file and span.file.endswith(".nas"):
            from nasl.ir.reading import MAX_SOURCE_BYTES, read_text, strip_bom
            try:
                err.with_source(strip_bom(read_text(span.file, "the space", MAX_SOURCE_BYTES)))
            except (NaslError, OSError, ValueError):
                pass            # gone or unreadable since: the position alone still says where


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        from nasl.loader import import_ops
        import_ops(args.ops)
        return _COMMANDS[args.command](args)
    except NaslError as e:
        _attach_source(e)
        print(e.render(), file=sys.stderr)
        if args.traceback:
            __import__("traceback").print_exc()
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (InternalError, Exception) as e:  # noqa: BLE001 - the last line of defence
        from nasl.ir.optional import INSTALL, missing
        if isinstance(e, ModuleNotFoundError) and (e.name or "").split(".")[0] in INSTALL:
            # an optional package (torch, scikit-learn, ...) that the command needs: the user's to install
            print(missing(e.name, f"nasl {args.command}").render(), file=sys.stderr)
            return 1
        print(f"internal error, please report: {type(e).__name__}: {e}", file=sys.stderr)
        if args.traceback:
            __import__("traceback").print_exc()
        else:
            print("(run again with --traceback for details)", file=sys.stderr)
        return 3


def _load(path, args):
    import nasl
    return nasl.load(path, **dict(args.defines))


def _check(args) -> int:
    status = 0
    for f in args.files:
        try:
            space = _load(f, args)
            if not args.fast:
                check_one(space)
        except NaslError as e:
            print(e.render(), file=sys.stderr)
            status = 1
    return status


def check_one(space) -> None:
    """Realize one architecture and infer its shapes: what the static passes cannot see.

    Drawing it expands the lazy parts that the program reaches (an unbounded
    recursion under a choice, a wrong number of inputs to a cell there) and
    finds a space that no architecture satisfies; the shapes catch a
    mismatch before anyone compiles.
    """
    from nasl.compiler.infer import infer_shapes
    arch = space.sample(seed=0)
    try:
        infer_shapes(space.realize(arch), missing_ok=True)
    except NaslError as e:
        raise e.with_source(getattr(space._backend, "source", None)) from None


def _show(args) -> int:
    space = _load(args.file, args)
    if args.json:
        import json
        print(json.dumps({"params": space.params, "choices": space.spec.to_list()}, indent=1, default=str))
        return 0
    from nasl.ir.show import render_tree
    print(render_tree(space))
    from nasl.formats.presets import presets
    names = list(presets(args.file))
    if names:
        print(f"presets: {', '.join(names)} (nasl presets FILE)")
    return 0


def _count(args) -> int:
    space = _load(args.file, args)
    from nasl.ir.reading import int_text
    n = space.count_unique(args.unique) if args.unique else space.size()
    print(int_text(n) if isinstance(n, int) else n)
    return 0


def _sample(args) -> int:
    if args.n < 0:
        raise NaslError("-n must be >= 0")
    import random
    space = _load(args.file, args)
    rng = random.Random(args.seed)      # the draws of space.sample(seed, n), one at a time
    out = sys.stdout
    for _ in range(args.n):             # streamed: -n 100000000 needs no list of them all
        out.write(space.sample(rng, mode=args.mode).to_json() + "\n")
    return 0


def _read_arch(text: str, fmt: str = "arch", space=None):
    """``--arch`` (JSON or @file) in format ``fmt``; other formats need the space to resolve against."""
    from nasl import Architecture
    import json
    from nasl.ir.reading import MAX_JSON_BYTES, load_json, read_text
    if text.startswith("@"):
        text = read_text(text[1:], "the architecture file", MAX_JSON_BYTES)
    if fmt == "arch":
        arch = Architecture.from_json(text)
        return arch if space is None else space.validate(arch)
    from nasl.formats import from_value, get_format
    get_format(fmt)                                 # an unknown format is reported before the value
    try:
        value = load_json(text, "--arch")
    except json.JSONDecodeError:
        value = text.strip()                        # e.g. an unquoted NAS-Bench-201 string
    return from_value(space, fmt, value)


def _space_and_arch(args, required: bool = True):
    """The space (with a preset's parameters, -D winning) and the architecture of --arch or --preset."""
    if args.arch is not None and args.preset is not None:
        raise NaslError("give either --arch or --preset, not both")
    if args.preset is not None:
        if args.arch_format != "arch":
            raise NaslError("--arch-format applies to --arch; a preset names its own format")
        import nasl
        from nasl.formats.presets import load_preset
        return load_preset(args.file, args.preset, nasl.load, **dict(args.defines))
    space = _load(args.file, args)
    if args.arch is None:
        if required:
            raise NaslError("give the architecture with --arch VALUE|@FILE or --preset NAME")
        return space, None
    return space, _read_arch(args.arch, args.arch_format, space)


def _read_shapes(items):
    """``--input-shape`` values to what ``nasl.compile`` takes: None, one shape, or a dict by input name."""
    named, single = {}, None
    for item in items:
        name, _, dims = item.rpartition("=")
        try:
            shape = tuple(int(d) for d in dims.replace("x", ",").split(","))
        except ValueError:
            raise NaslError(f"--input-shape expects comma-separated ints like 3,32,32, got '{item}'") from None
        if name:
            named[name.strip()] = shape
        elif single is not None or named:
            raise NaslError("give one --input-shape, or NAME=C,H,W for each input")
        else:
            single = shape
    if single is not None and named:
        raise NaslError("give one --input-shape, or NAME=C,H,W for each input")
    return named or single


def _compile(args) -> int:
    space, arch = _space_and_arch(args)
    shape = _read_shapes(args.input_shape)
    from nasl.compiler import compile_graph, count_params
    from nasl.compiler.cost import cost_graph
    graph = space.realize(arch)
    c = cost_graph(graph, shape)
    model = compile_graph(graph, shape)
    ins = ", ".join(f"{k} {list(v)}" for k, v in model.input_shapes.items())
    outs = ", ".join(f"{k} {list(v)}" for k, v in model.output_shapes.items())
    print(f"layers:  {c.layers}")
    print(f"params:  {count_params(model):,}")
    print(f"FLOPs:   {c.flops:,} ({c.flops / 1e6:.2f}M, batch 1; MACs {c.macs:,})")
    print(f"inputs:  {ins}")
    print(f"outputs: {outs}")
    if args.code:
        print(model.code.strip("\n"))
    return 0


def _export(args) -> int:
    from nasl.exporters import get_exporter
    shape = _read_shapes(args.input_shape)
    if args.space:
        exporter = get_exporter(args.to, "space")
        print(exporter.call("space", _load(args.file, args), args.output))
        return 0
    exporter = get_exporter(args.to, "arch")         # an unknown format is refused before the space loads
    if args.arch is None and args.preset is None:
        raise NaslError("give the architecture with --arch VALUE|@FILE or --preset NAME "
                        "(or --space for the whole space)")
    space, arch = _space_and_arch(args)
    print(exporter.call("arch", space, arch, args.output, shape))
    return 0


def _presets(args) -> int:
    from nasl.formats.presets import presets, presets_path
    found = presets(args.file)
    if not found:
        print(f"no presets (none in {presets_path(args.file)})")
        return 0
    width = max(len(n) for n in found)
    for name, p in found.items():
        params = " [" + ", ".join(f"{k}={v!r}" for k, v in p.params.items()) + "]" if p.params else ""
        print(f"{name:<{width}}  {p.format}{params}  {p.doc}".rstrip())
    return 0


def _list(args) -> int:
    from nasl.cli_list import list_command
    return list_command(args)


_COMMANDS = {"check": _check, "show": _show, "count": _count, "sample": _sample, "compile": _compile,
             "export": _export, "list": _list, "presets": _presets}


def _search(args) -> int:
    from nasl.study.cli_study import run_search
    return run_search(args)


def _study(args) -> int:
    from nasl.study.cli_study import run_study
    return run_study(args)


def _train(args) -> int:
    from nasl.study.cli_study import run_train
    return run_train(args)


def _dashboard(args) -> int:
    from nasl.dashboard import serve
    return serve(args.path, args.host, args.port)


def _fmt(args) -> int:
    from nasl.editor.cli import run_fmt
    return run_fmt(args)


def _explain(args) -> int:
    from nasl.editor.cli import run_explain
    return run_explain(args)


def _latency(args) -> int:
    from nasl.study.latency_cli import run
    return run(args)


_COMMANDS.update(search=_search, study=_study, train=_train, dashboard=_dashboard, fmt=_fmt, explain=_explain,
                 latency=_latency)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
