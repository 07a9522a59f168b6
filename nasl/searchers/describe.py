"""Each registered searcher with its options and their defaults (``nasl list searchers``)."""
from __future__ import annotations

import inspect

from nasl.searchers.registry import get_searcher, list_searchers, option_parameters

_REQUIRED = object()


def options(name: str) -> list[tuple[str, object]]:
    """``[(option, default)]`` of searcher ``name``: its constructor's keywords, then its bases' (each once)."""
    return [(k, _REQUIRED if p.default is p.empty else p.default)
            for k, p in option_parameters(get_searcher(name)).items()]


def summary(name: str, width: int = 100) -> str:
    """The first paragraph of the searcher's docstring, on one line (cut at ``width``)."""
    doc = (inspect.getdoc(get_searcher(name)) or "").strip()
    text = " ".join(doc.split("\n\n")[0].split())
    return text if len(text) <= width else text[:width - 3].rstrip() + "..."


def lines(pattern: str = "*") -> list[str]:
    """Per searcher matching the glob: ``name  summary``, then its options ``option=default, ...`` indented."""
    out = []
    for name in list_searchers(pattern):
        opts = ", ".join(k if v is _REQUIRED else f"{k}={v!r}" for k, v in options(name)) or "(no options)"
        out.append(f"{name}  {summary(name)}".rstrip())
        out.append(f"    {opts}")
    return out


__all__ = ["options", "summary", "lines"]
