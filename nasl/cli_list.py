"""``nasl list``: the registered ops, searchers, evaluators, executors, exporters, formats and modes.

Split from :mod:`nasl.cli`, which imports it only for this command.
"""
from __future__ import annotations

import sys

from nasl.ir.errors import NaslError


def list_command(args) -> int:
    """``nasl list WHAT [PATTERN]``: one line per registered entry whose name matches."""
    found = _LISTS[args.what](args.pattern)
    if not found:
        raise NaslError(f"no {args.what[:-1]} matches '{args.pattern}'")
    for line in found:
        print(line)
    from nasl.registry import failed_plugins
    for group, name, dist, error in failed_plugins():
        print(f"warning: the plug-in '{name}' ({group}) of distribution '{dist}' failed to import: {error}",
              file=sys.stderr)
    return 0


def _list_ops(pattern):
    from nasl.ir.oplib import OPS, REQUIRED
    out = []
    for entry in OPS.entries():
        if not _matches(entry.name, pattern):
            continue
        sig = entry.obj
        params = ", ".join(p if d is REQUIRED else f"{p}={d!r}" for p, d in sig.params)
        doc = f"  # {sig.doc}" if sig.doc else ""
        out.append(f"{entry.name}({params}){doc}")
    return out


def _list_searchers(pattern):
    import nasl.searchers  # noqa: F401 - registers the built-in searchers
    from nasl.searchers.describe import lines
    return lines(pattern)


def _list_registry(registry, pattern, text=lambda entry: entry.meta.get("doc", "")):
    rows = [(e.name, text(e)) for e in registry.entries() if _matches(e.name, pattern)]
    width = max((len(n) for n, _ in rows), default=0)
    return [f"{n:<{width}}  {t}".rstrip() for n, t in rows]


def _list_evaluators(pattern):
    from nasl.study.evaluators import EVALUATORS
    return _list_registry(EVALUATORS, pattern, lambda e: f"{e.meta['form']}: {e.meta.get('doc', '')}")


def _list_executors(pattern):
    from nasl.study.runners import EXECUTORS
    return _list_registry(EXECUTORS, pattern)


def _list_exporters(pattern):
    from nasl.exporters import EXPORTERS

    def text(e):
        ways = [w for w in ("arch", "model", "space") if getattr(e.obj, w) is not None]
        return f"[{', '.join(ways)}] {e.obj.doc}"
    return _list_registry(EXPORTERS, pattern, text)


def _list_formats(pattern):
    from nasl.formats import ARCH_FORMATS
    return _list_registry(ARCH_FORMATS, pattern)


def _list_modes(pattern):
    from nasl.oneshot import MODES
    return [f"{n}  {MODES[n]}" for n in sorted(MODES) if _matches(n, pattern)]


def _matches(name, pattern) -> bool:
    import fnmatch
    return fnmatch.fnmatchcase(name, pattern)


_LISTS = {"ops": _list_ops, "searchers": _list_searchers, "evaluators": _list_evaluators,
          "executors": _list_executors, "exporters": _list_exporters, "formats": _list_formats, "modes": _list_modes}
KINDS = tuple(_LISTS)
