"""Choice paths and node ids: ``stage[1].cell.edge[0->2]``."""
from __future__ import annotations


def split_path(path: str) -> list:
    """Split a path or node id at the dots that are outside brackets."""
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
