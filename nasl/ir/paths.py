"""Choice paths and node ids: ``stage[1].cell.edge[0->2]``."""
from __future__ import annotations

import re


# a segment with only flat bracket groups (``cell[0][2]``, ``edge[0->1]``): no dot inside a bracket
_FLAT = re.compile(r"[^.\[\]]*(?:\[[^.\[\]]*\][^.\[\]]*)*")


def split_path(path: str) -> list:
    """Split a path or node id at the dots that are outside brackets."""
    path = str(path)
    parts = path.split(".")
    if "[" not in path or all(map(_FLAT.fullmatch, parts)):
        return parts        # every dot is outside brackets (the common case, without the walk below)
    out, depth, cur = [], 0, ""
    for ch in str(path):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        if ch == "." and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def scope_of(path: str):
    """The first segment of ``path`` when it has more than one (``cell[0][2]`` of
    ``cell[0][2].edge[0->1].conv``), else ``None``: ``split_path(path)[0]`` without splitting it all."""
    head, dot, _ = str(path).partition(".")
    if dot and ("[" not in head or _FLAT.fullmatch(head)):
        return head
    segs = split_path(path)
    return segs[0] if len(segs) > 1 else None
