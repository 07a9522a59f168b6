"""``nasl fmt`` and ``nasl explain``: the editor commands of the ``nasl`` CLI."""
from __future__ import annotations

import sys

from nasl.ir.errors import NaslError


def add_commands(sub, common) -> None:
    """Add ``fmt`` and ``explain`` to the ``nasl`` argument parser."""
    f = sub.add_parser("fmt", parents=[common], help="lay out .nas files (comments kept, meaning unchanged)")
    f.add_argument("files", nargs="+", metavar="FILE")
    mode = f.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 and list the files that would change")
    mode.add_argument("--diff", action="store_true", help="write nothing; print what would change as a unified diff")
    e = sub.add_parser("explain", parents=[common], help="show where a choice path comes from in the source")
    e.add_argument("file", metavar="FILE")
    e.add_argument("path", metavar="PATH", help="a choice path, as `nasl show` lists them")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()
    except OSError as e:
        raise NaslError(f"cannot read '{path}': {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise NaslError(f"'{path}' is not UTF-8 text ({e.reason} at byte {e.start})") from None


def run_fmt(args) -> int:
    """Format each file; 1 if any does not parse, or (with --check) would change."""
    from nasl.editor.fmt import format_source
    status, changed = 0, []
    for path in args.files:
        try:
            text = _read(path)
            new = format_source(text, path)
        except NaslError as e:
            print(e.render().splitlines()[0], file=sys.stderr)      # one line per file: the position and why
            status = 1
            continue
        if new == text:
            continue
        changed.append(path)
        if args.diff:
            import difflib      # only for --diff: nasl's start-up does without it
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                       f"{path} (original)", f"{path} (formatted)"))
        elif args.check:
            print(f"would reformat {path}")
        else:
            try:
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(new)
            except OSError as e:
                raise NaslError(f"cannot write '{path}': {e.strerror}") from None
            print(f"reformatted {path}")
    if args.check and changed:
        status = 1
    return status


def run_explain(args) -> int:
    from nasl.editor.explain import explain
    print(explain(_read(args.file), args.file, args.path, **dict(args.defines)))
    return 0
