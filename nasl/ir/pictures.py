"""Graphviz pictures of a realized network and of a whole space, through pydot.

pydot is an optional dependency (the ``torch`` extra); nothing here needs torch.

- :func:`graph_dot`: a realized network (an ArchGraph), one box per op labelled with the
  op, its non-default parameters and its output shape, clustered by the
  scope it came from (``cell[0][1]``), with the inputs and outputs as ovals.
- :func:`space_dot`: the decision tree, one node per choice point with its
  domain, clustered by path prefix (``normal`` / ``node[2]``); a condition
  is an edge from the choice it depends on to the choices it guards,
  labelled with the values that enable them. Constraints are notes with
  dashed edges from the choices they read. Given ``chosen`` (an
  architecture), each choice shows its value, and the choices it leaves
  inactive are greyed out.
- :func:`render`: write DOT text, or SVG/PNG through Graphviz ``dot``.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from nasl.ir.decision_tree import Block, Choice, Constraint, Group
from nasl.ir.optional import require, require_tool
from nasl.ir.paths import split_path

if TYPE_CHECKING:                  # annotations only; drawing imports it through _pydot()
    import pydot

_FONT = {"fontname": "Helvetica", "fontsize": "10"}
_KEY_PARAMS = ("c", "k", "n")          # always shown; other parameters only where not the default
_OP_COLORS = {"conv": "#dbe9f6", "pool": "#e6f4d7", "merge": "#fdf0c9", "zero": "#eeeeee", "other": "#ffffff"}


_segments = split_path


def _pydot():
    # imported when a picture is drawn: pydot is optional, and a missing one says what to install
    return require("pydot", "drawing a picture")


def _q(s) -> str:
    """A quoted DOT string (pydot does not escape quotes or backslashes for us)."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _op_params(op: str, params: dict) -> str:
    from nasl.ir.oplib import get_op
    sig = get_op(op)
    defaults = dict(sig.params) if sig is not None else {}
    shown = [f"{k}={_fmt(v)}" for k, v in (params or {}).items()
             if k in _KEY_PARAMS or k not in defaults or defaults[k] != v]
    return " ".join(shown)


def _color(op: str) -> str:
    if "conv" in op or op in ("linear", "mbconv", "factorized_reduce", "multihead_attention", "transformer_block",
                              "patch_embed"):
        return _OP_COLORS["conv"]
    if "pool" in op:
        return _OP_COLORS["pool"]
    if op in ("sum", "add", "mean", "concat", "concat_conv", "split", "slice"):
        return _OP_COLORS["merge"]
    if op in ("zero", "none"):
        return _OP_COLORS["zero"]
    return _OP_COLORS["other"]


def _new_graph(name: str, rankdir: str) -> pydot.Dot:
    g = _pydot().Dot(_q(name), graph_type="digraph", rankdir=rankdir, compound="true", label=_q(name),
                  labelloc="t", **_FONT)
    g.set_node_defaults(**_FONT)
    g.set_edge_defaults(fontname="Helvetica", fontsize="9")
    return g


def _cluster(root, clusters: dict, key: tuple, label_of=lambda k: k[-1]):
    """The (nested) subgraph for the prefix ``key``; ``()`` is the graph itself."""
    if not key:
        return root
    if key not in clusters:
        parent = _cluster(root, clusters, key[:-1], label_of)
        sub = _pydot().Cluster(f"c{len(clusters)}", label=_q(label_of(key)), style="rounded", color="#999999",
                            **_FONT)
        parent.add_subgraph(sub)
        clusters[key] = sub
    return clusters[key]


def graph_dot(graph, out_shapes: dict | None = None, *, title: str = "architecture",
              rankdir: str = "TB") -> pydot.Dot:
    """A picture of a realized network; ``out_shapes`` (node -> shape) labels the boxes."""
    pydot = _pydot()
    out_shapes = out_shapes or {}
    dot = _new_graph(title, rankdir)
    ids = {n: f"n{i}" for i, n in enumerate(graph.nodes)}
    clusters: dict = {}
    for n, d in graph.nodes(data=True):
        kind = d.get("kind")
        shape = out_shapes.get(n)
        shape_txt = f"\n{list(shape)}" if shape is not None else ""
        if kind == "op":
            params = _op_params(d["op"], d.get("params"))
            label = d["op"] + (f"\n{params}" if params else "") + shape_txt
            scope = d.get("scope") or ""
            key = tuple(_segments(scope)[:1]) if scope else ()
            _cluster(dot, clusters, key).add_node(pydot.Node(
                ids[n], label=_q(label), shape="box", style=_q("rounded,filled"), fillcolor=_q(_color(d["op"])),
                tooltip=_q(n)))
        else:
            dot.add_node(pydot.Node(ids[n], label=_q(f"{n}{shape_txt}"), shape="oval", style="filled",
                                    fillcolor=_q("#f4d6d6" if kind == "input" else "#d6f4e0")))
    for u, v, d in graph.edges(data=True):
        attrs = {}
        if len(graph.inputs_of(v)) > 1 and graph.nodes[v].get("op") in ("concat", "concat_conv", "split"):
            attrs["label"] = _q(d.get("port", ""))
        dot.add_edge(pydot.Edge(ids[u], ids[v], **attrs))
    return dot


def space_dot(space, *, rankdir: str = "LR", max_choices: int = 400, cluster_depth: int = 2,
              chosen=None) -> pydot.Dot:
    """A picture of the decision tree of ``space``: choices, their domains and conditions.

    ``chosen`` (an architecture of ``space``) highlights its values: what one
    trial picked, in the picture of everything it could have picked.
    """
    pydot = _pydot()
    title = "choices of one architecture" if chosen is not None else "choice points"
    dot = _new_graph(f"{getattr(space, 'name', 'space')}: {title}", rankdir)
    ids: dict = {}
    clusters: dict = {}
    state = {"n": 0, "more": 0, "constraints": 0}

    def node_id(path):
        if path not in ids:
            ids[path] = f"c{len(ids)}"
        return ids[path]

    def add_choice(c: Choice, guards: list):
        if state["n"] >= max_choices:
            state["more"] += 1
            return
        state["n"] += 1
        segs = _segments(c.path)
        key = tuple(segs[:-1][:cluster_depth])
        label = f"{c.path}\n{_short(c.describe())}"
        look = {"fillcolor": _q("#dbe9f6")}
        if chosen is not None and c.path in chosen:
            label += f"\n= {_short(_fmt(chosen[c.path]), 40)}"
            look = {"fillcolor": _q("#b7e4b0"), "penwidth": "2", "color": _q("#2e7d32")}
        elif chosen is not None:        # this architecture never reached the choice (its guard is off)
            look = {"fillcolor": _q("#f2f2f2"), "fontcolor": _q("#999999"), "color": _q("#bbbbbb")}
        _cluster(dot, clusters, key).add_node(pydot.Node(
            node_id(c.path), label=_q(label), shape="box", style=_q("rounded,filled"), **look))
        for g in (getattr(guards[-1], "guards", None) or (guards[-1],)) if guards else ():
            text = getattr(g, "text", "") or ("= " + " | ".join(sorted(_fmt(v) for v in g.values)))
            if g.path not in ids:
                dot.add_node(pydot.Node(node_id(g.path), label=_q(g.path), shape="plaintext"))
            dot.add_edge(pydot.Edge(ids[g.path], ids[c.path], label=_q(_short(text, 40)), color="#3465a4"))

    def add_constraint(k: Constraint):
        cid = f"k{state['constraints']}"
        state["constraints"] += 1
        msg = k.message or ""
        label = _short(msg if msg.startswith(("require", "forbid")) else
                       ("forbid: " if k.negate else "require: ") + msg, 60)
        dot.add_node(pydot.Node(cid, label=_q(label), shape="note", style="filled", fillcolor=_q("#fdf0c9")))
        for p in sorted(getattr(k.sym, "deps", ()) or ()):
            if p in ids:
                dot.add_edge(pydot.Edge(ids[p], cid, style="dashed", arrowhead="none", color="#999999"))

    def walk(block: Block, guards: list):
        for item in block.items:
            if isinstance(item, Choice):
                add_choice(item, guards)
            elif isinstance(item, Group):
                if state["n"] >= max_choices:
                    state["more"] += 1
                    continue
                walk(item.block, guards + [item.guard] if item.guard is not None else guards)
            elif isinstance(item, Constraint):
                add_constraint(item)

    walk(space.spec.root, [])
    if state["more"]:
        dot.add_node(pydot.Node("more", label=_q(f"… {state['more']} more choice points or groups not drawn"),
                                shape="plaintext"))
    return dot


def render(dot: pydot.Dot, path, fmt: str | None = None) -> str:
    """Write ``dot`` to ``path`` as ``dot`` text, ``svg`` or ``png`` (by ``fmt``, or the file suffix)."""
    path = os.fspath(path)
    fmt = (fmt or os.path.splitext(path)[1].lstrip(".") or "dot").lower()
    if fmt in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(dot.to_string())
        return path
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"unknown picture format '{fmt}' (dot, svg, png or pdf)")
    require_tool("dot", f"writing {fmt.upper()}")
    data = dot.create(prog="dot", format=fmt, encoding="utf-8")
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def svg(dot: pydot.Dot) -> str:
    """The SVG text of ``dot`` (for ``_repr_svg_`` in notebooks); needs Graphviz ``dot``."""
    require_tool("dot", "drawing SVG")
    return dot.create(prog="dot", format="svg", encoding="utf-8").decode("utf-8")


__all__ = ["graph_dot", "space_dot", "render", "svg", "repr_svg"]


def repr_svg(make_dot):
    """SVG for Jupyter's ``_repr_svg_``, or None when pydot or Graphviz is missing."""
    try:
        return svg(make_dot())
    except Exception:  # noqa: BLE001 - a notebook falls back to the text repr
        return None
