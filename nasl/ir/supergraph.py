"""The supernet of a space: every architecture's ops at once, under guards (ONESHOT.md).

The interpreter's super-realize mode builds it (``Space.super_realize()``):
spec-mode control flow (every side of a choice), with realize-mode nodes. A
node exists in an architecture when its ``guard`` holds; where alternative
tensors meet there is a ``select`` node. ``restrict(arch)`` keeps the nodes
whose guards hold, collapses each select to its branch and applies the wiring
rules realization applies (one-input merges, dag edges that are zero), so it
gives back ``space.realize(arch)`` node for node, with a map from each
realized node to the super node that holds its weights.
"""
from __future__ import annotations

import itertools

import networkx as nx

from nasl.ir.archgraph import ArchGraph
from nasl.ir.decision_tree import INACTIVE
from nasl.ir.oplib import get_op


class Elastic:
    """A parameter that a choice sets (a width, a kernel): built at its largest value, sliced to the chosen one."""

    __slots__ = ("sym", "deps", "options", "max")

    def __init__(self, sym, domains: dict):
        self.sym, self.deps = sym, tuple(sym.deps)
        vals = set()
        for combo in itertools.product(*(domains[d] for d in self.deps)):
            v = sym.ev(dict(zip(self.deps, combo)))
            if v is not None:
                vals.add(v)
        self.options = tuple(sorted(vals))
        self.max = self.options[-1] if self.options else None

    def value(self, values):
        return self.sym.ev(values)

    @property
    def path(self) -> str:
        return self.deps[0] if len(self.deps) == 1 else ",".join(self.deps)

    def __repr__(self):
        return f"Elastic({self.path}: {', '.join(map(str, self.options))})"


class PickSlot:
    """The choice path of a pick's source ``i``: the slot it holds depends on the picked set.

    DARTS shares one mixed op per (node, source); the space names the op
    choices by slot (``node[3].edge[0]``), so which path answers depends on
    where ``i`` sits in the chosen subset.
    """

    __slots__ = ("pick", "source", "template")

    def __init__(self, pick: str, source: int, template: str):
        self.pick, self.source, self.template = pick, source, template   # template: "...edge[{}]..."

    def slot(self, values):
        chosen = values.get(self.pick)
        if chosen is None or self.source not in chosen:
            return None
        return list(chosen).index(self.source)

    def resolve(self, values):
        s = self.slot(values)
        return None if s is None else self.template.format(s)

    def __repr__(self):
        return f"PickSlot({self.pick} ∋ {self.source})"


def resolve_path(p, values):
    return p.resolve(values) if isinstance(p, PickSlot) else p


def holds(guard, values) -> bool:
    for g in guard:
        path = resolve_path(g.path, values)
        if path is None or values.get(path, INACTIVE) not in g.values:
            return False
    return True


def resolve_params(params: dict, values) -> dict:
    return {k: (v.value(values) if isinstance(v, Elastic) else v) for k, v in params.items()}


class SuperGraph(nx.MultiDiGraph):
    """Every candidate op of a space, with guards; see the module docstring and ONESHOT.md.

    Node attributes: ``kind`` (``input``, ``op``, ``select``, ``output``);
    op nodes as in :class:`~nasl.ir.archgraph.ArchGraph` plus ``guard`` (a
    tuple of guards that must all hold), ``rscope`` (the realized scope: a
    string, or a (PickSlot, template) pair) and ``terms`` (the dag edges it
    belongs to). Select nodes: ``path`` (the key of the architecture
    parameters), ``row`` (None, or the source of a per-source row),
    ``labels`` (the choice's values, in order), ``reads`` (the path the
    architecture answers it by: a string or a PickSlot). Select input edges
    carry ``labels``, the values under which that branch is taken. Dag merge
    nodes carry ``dag`` (index into ``graph["dags"]``, node j) and ``sources``.
    """

    def ops(self):
        return [(n, d) for n, d in self.nodes(data=True) if d.get("kind") == "op"]

    def selects(self):
        return [(n, d) for n, d in self.nodes(data=True) if d.get("kind") == "select"]

    def inputs_of(self, node) -> list:
        preds = sorted(self.in_edges(node, data=True), key=lambda e: e[2]["port"])
        return [u for u, _, _ in preds]

    def branches(self, node) -> list:
        """``[(source node, labels)]`` of a select, in port order."""
        preds = sorted(self.in_edges(node, data=True), key=lambda e: e[2]["port"])
        return [(u, d["labels"]) for u, _, d in preds]

    # ------------------------------------------------------------ restrict
    def restrict(self, arch):
        """``(ArchGraph, node_map)``: the architecture's graph, as ``space.realize`` gives it,
        and ``{realized node: super node}`` for its op nodes."""
        values = dict(arch)
        g = ArchGraph()
        g.graph["inputs"], g.graph["outputs"] = [], []
        taken: dict = {}
        alias: dict = {}            # super node -> realized node
        node_map: dict = {}
        present = [info.present_edges(values) for info in self.graph.get("dags", ())]

        def name(scope, op):
            base = f"{scope}.{op}" if scope else op
            k = taken.get(base, 0)
            taken[base] = k + 1
            return base if k == 0 else f"{base}_{k}"

        def add(scope, op, params, ins, span, sid=None):
            rid = name(scope, op)
            g.add_node(rid, kind="op", op=op, params=params, scope=scope, span=span)
            for port, u in enumerate(ins):
                g.add_edge(u, rid, port=port)
            if sid is not None:
                node_map[rid] = sid
            return rid

        for n, d in self.nodes(data=True):
            kind = d["kind"]
            if not holds(d.get("guard", ()), values):
                continue
            if any((i, j) not in present[k] for k, j, i in d.get("terms", ())):
                continue
            if kind == "input":
                g.add_node(n, **{k: v for k, v in d.items() if k in ("kind", "op", "params", "shape", "scope",
                                                                     "span")})
                g.graph["inputs"].append(n)
                taken[n] = 1
                alias[n] = n
            elif kind == "select":
                label = values.get(resolve_path(d["reads"], values), INACTIVE)
                for u, labels in self.branches(n):
                    if label in labels:
                        alias[n] = alias[u]
                        break
            elif kind == "output":
                (u,) = self.inputs_of(n)
                g.add_node(n, kind="output", op="output", params={}, scope="", span=d.get("span"))
                g.add_edge(alias[u], n, port=0)
                g.graph["outputs"].append(n)
            elif "dag" in d:
                alias[n] = self._merge(n, d, values, present, alias, add)
            else:
                scope = _scope(d["rscope"], values)
                ins = [alias[u] for u in self.inputs_of(n)]
                alias[n] = add(scope, d["op"], resolve_params(d["params"], values), ins, d.get("span"), n)
        return g, node_map

    def _merge(self, n, d, values, present, alias, add):
        """A dag node's merge, as realization builds it from the edges present (dag_realize.py)."""
        k, j = d["dag"]
        srcs = d["sources"]                      # port -> source node index i
        preds = self.inputs_of(n)
        terms = [(i, alias[u]) for i, u in zip(srcs, preds) if (i, j) in present[k] and u in alias]
        terms.sort(key=lambda t: _slot_order(d, t[0], values))
        scope = _scope(d["rscope"], values)
        if not terms:
            src, params = d["zero_source"](values)
            return add(scope, "zero", params, [alias[src]], d.get("span"))
        if len(terms) == 1 and d["op"] in ("sum", "add", "mean", "concat", "concat_pad"):
            return terms[0][1]
        return add(scope, d["op"], resolve_params(d["params"], values), [t for _, t in terms], d.get("span"), n)


def _scope(rscope, values) -> str:
    if isinstance(rscope, tuple):
        slot, template = rscope
        return template.format(slot.slot(values))
    return rscope


def _slot_order(d, i, values):
    pick = d.get("pick")
    if pick is None:
        return i
    return list(values.get(pick) or ()).index(i)


def zero_params() -> dict:
    return get_op("zero").resolved({})


__all__ = ["SuperGraph", "Elastic", "PickSlot", "holds", "resolve_params", "resolve_path"]
