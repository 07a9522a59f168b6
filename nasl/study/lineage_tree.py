"""The lineage tree of a study: which trial each trial was made from, and how.

Trials whose searcher named a parent (``Searcher.child``; ``large_scale_evolution`` does for
every child) record ``parent`` (its trial number), ``transformation`` and ``inherited`` (the
fraction of its weights that came from the parent). :func:`tree` turns the rows into
``{"roots": [...], "children": {number: [...]}}``; :func:`render` draws it as indented text
for ``nasl study show --lineage``; the dashboard's ``/api/lineage`` serves :func:`tree`.
"""
from __future__ import annotations


def tree(trials) -> dict:
    """``{"nodes": {number: {...}}, "roots": [numbers], "children": {number: [numbers]}}`` from trial
    rows or :class:`~nasl.study.study.Trial` objects (numbers in order; a parent not in the study
    makes its child a root)."""
    nodes, children = {}, {}
    for t in trials:
        get = t.get if isinstance(t, dict) else (lambda k, t=t: getattr(t, k, None))
        n = get("number")
        nodes[n] = {"number": n, "parent": get("parent"), "transformation": get("transformation"),
                    "inherited": get("inherited"), "state": get("state"), "arch_id": get("arch_id"),
                    "metrics": get("metrics")}
    for n, d in sorted(nodes.items()):
        p = d["parent"]
        if p is not None and p in nodes and p != n:
            children.setdefault(p, []).append(n)
    roots = [n for n, d in sorted(nodes.items()) if d["parent"] is None or d["parent"] not in nodes
             or d["parent"] == n]
    return {"nodes": nodes, "roots": roots, "children": children}


def has_lineage(trials) -> bool:
    return any((t.get("parent") if isinstance(t, dict) else getattr(t, "parent", None)) is not None for t in trials)


def render(trials, objective: str | None = None) -> str:
    """The tree as text: one line per trial, children indented under their parent."""
    t = tree(trials)
    lines: list = []

    def label(n) -> str:
        d = t["nodes"][n]
        parts = [f"#{n}", d["state"] or "?"]
        m = d["metrics"] or {}
        if objective and isinstance(m.get(objective), (int, float)):
            parts.append(f"{objective}={m[objective]:.4g}")
        if d["transformation"]:
            parts.append(f"[{d['transformation']}]")
        if d["inherited"] is not None:
            parts.append(f"inherited {d['inherited']:.0%}")
        return " ".join(parts)

    def walk(n, prefix: str, last: bool, top: bool):
        lines.append(label(n) if top else f"{prefix}{'`-- ' if last else '|-- '}{label(n)}")
        kids = t["children"].get(n, [])
        below = "" if top else prefix + ("    " if last else "|   ")
        for i, k in enumerate(kids):
            walk(k, below, i == len(kids) - 1, False)

    for r in t["roots"]:
        walk(r, "", True, True)
    return "\n".join(lines)


__all__ = ["tree", "render", "has_lineage"]
