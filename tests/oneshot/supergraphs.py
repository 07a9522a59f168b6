"""Hand-built SuperGraphs in the contract's format (ONESHOT_API.md), with a small ``restrict``.

They let the supernet be tested before (and beside) the super-realizer: a
digits-like network (an op choice per edge shared by the cells, an elastic
width, a depth select) and a DARTS-like one (per-source selects with a 2-D
alpha, a pick node). Their ``restrict`` keeps the ops whose guards hold,
collapses each select to its branch and drops what no output reads; the
realized ids are the super ids (the node map is the identity).
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from nasl.ir.archgraph import ArchGraph


@dataclass(frozen=True)
class Cond:
    path: str
    values: frozenset


@dataclass(frozen=True, eq=False)
class Elastic:
    """nasl.ir.supergraph.Elastic's interface, for one choice path mapping labels to values."""

    path: str
    table: dict

    @property
    def max(self):
        return max(self.table.values())

    def value(self, values):
        return self.table[values[self.path]]


class HandSuperGraph(nx.MultiDiGraph):
    def add_op(self, n, op, params, ins, guard=()):
        self.add_node(n, kind="op", op=op, params=params, scope="", span=None, guard=tuple(guard))
        for i, u in enumerate(ins):
            self.add_edge(u, n, port=i)
        return n

    def add_select(self, n, path, labels, branches, how="op", row=None):
        """``branches``: ``[(source or None, labels)]``."""
        self.add_node(n, kind="select", path=path, labels=tuple(labels), row=row, how=how)
        for i, (u, labs) in enumerate(branches):
            if u is not None:
                self.add_edge(u, n, port=i, labels=tuple(labs))
        return n

    def _label(self, d, arch):
        if d.get("row") is None:
            return arch[d["path"]]
        picked = sorted(arch[f"{d['path']}.inputs"])
        src = self.graph["edges"][d["path"]][d["row"]]
        return arch[f"{d['path']}.edge[{picked.index(src)}]"] if src in picked else None

    def restrict(self, arch):
        arch = dict(arch)
        def ok(guard):
            vals = [arch.get(c.path) for c in guard]
            return all((tuple(v) if isinstance(v, list) else v) in c.values for c, v in zip(guard, vals))
        resolved = {}

        def res(u):
            return resolved.get(u, u)

        ins = {}
        for n in nx.topological_sort(self):
            d = self.nodes[n]
            preds = sorted(self.in_edges(n, data=True), key=lambda e: e[2]["port"])
            if d["kind"] == "select":
                label = self._label(d, arch)
                got = [u for u, _, a in preds if label in a.get("labels", ())]
                resolved[n] = res(got[0]) if got else None
            else:
                ins[n] = [res(u) for u, _, a in preds if ok(a.get("guard") or ()) and res(u) is not None]
        live, stack = set(), list(self.graph["outputs"])
        while stack:
            n = stack.pop()
            if n in live:
                continue
            live.add(n)
            stack.extend(ins.get(n, []))
        ag = ArchGraph()
        ag.graph["inputs"], ag.graph["outputs"] = list(self.graph["inputs"]), list(self.graph["outputs"])
        for n in self.nodes:
            d = self.nodes[n]
            if n not in live or d["kind"] == "select":
                continue
            attrs = {k: v for k, v in d.items() if k != "guard"}
            if d["kind"] == "op":
                attrs["params"] = {k: (v.value(arch) if isinstance(v, Elastic) else v)
                                   for k, v in d["params"].items()}
            ag.add_node(n, **attrs)
            for i, u in enumerate(ins.get(n, [])):
                ag.add_edge(u, n, port=i)
        return ag, {n: n for n in ag.nodes}


OPS5 = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def _nb201_op(g, name, label, src, c, guard):
    if name == "skip_connect":
        return src
    if name == "none":
        return g.add_op(f"{label}.zero", "zero", {"stride": 1}, [src], guard)
    if name == "avg_pool_3x3":
        return g.add_op(f"{label}.avg_pool", "avg_pool", {"k": 3, "stride": 1, "padding": 1,
                                                         "count_include_pad": False}, [src], guard)
    k = 1 if name == "nor_conv_1x1" else 3
    return g.add_op(f"{label}.{name}", "relu_conv_bn", {"c": c, "k": k, "stride": 1, "dilation": 1}, [src], guard)


def digits_like(widths=(4, 8), depths=(1, 2), ops=OPS5, classes=10) -> HandSuperGraph:
    """stem conv(width) + bn, up to max(depths) 3-node cells sharing one alpha per edge, a depth select,
    then bn, relu, global pool, linear. ``width`` is Elastic."""
    g = HandSuperGraph()
    g.add_node("x", kind="input", shape=(1, 8, 8))
    g.graph.update(inputs=["x"], outputs=["output"], edges={})
    width = Elastic("width", {w: w for w in widths})
    h = g.add_op("conv", "conv", {"c": width, "k": 3, "stride": 1, "dilation": 1, "groups": 1, "bias": False}, ["x"])
    h = g.add_op("bn", "bn", {"affine": True}, [h])
    outs = [h]
    for b in range(max(depths)):
        guard = (Cond("depth", frozenset(d for d in depths if d > b)),)
        nodes = {0: h}
        for j in (1, 2):
            terms = []
            for i in range(j):
                path = f"cell.edge[{i}->{j}]"
                branches = []
                for o in ops:
                    src = _nb201_op(g, o, f"cell[{b}].edge[{i}->{j}].{o}", nodes[i], width, guard)
                    branches.append((src, (o,)))
                terms.append(g.add_select(f"cell[{b}].edge[{i}->{j}]", path, ops, branches))
            nodes[j] = g.add_op(f"cell[{b}].node[{j}].sum", "sum", {}, terms, guard)
        h = nodes[2]
        outs.append(h)
    sel = g.add_select("depth", "depth", depths, [(outs[d], (d,)) for d in depths], how="depth")
    h = g.add_op("bn_1", "bn", {"affine": True}, [sel])
    h = g.add_op("relu", "relu", {}, [h])
    h = g.add_op("global_avg_pool", "global_avg_pool", {}, [h])
    h = g.add_op("linear", "linear", {"n": classes, "bias": True}, [h])
    g.add_node("output", kind="output")
    g.add_edge(h, "output", port=0)
    alpha = {f"cell.edge[{i}->{j}]": (None, tuple(ops)) for j in (1, 2) for i in range(j)}
    alpha["width"] = (None, tuple(widths))
    alpha["depth"] = (None, tuple(depths))
    g.graph["alpha"] = alpha
    return g


DARTS4 = ("none", "max_pool_3x3", "skip_connect", "sep_conv_3x3")


def _darts_op(g, name, label, src, c, stride=1):
    if name == "skip_connect":
        return src
    if name == "none":
        return g.add_op(f"{label}.zero", "zero", {"stride": stride}, [src])
    if name == "max_pool_3x3":
        return g.add_op(f"{label}.max_pool", "max_pool", {"k": 3, "stride": stride, "padding": 1}, [src])
    return g.add_op(f"{label}.sep_conv", "sep_conv", {"c": c, "k": 3, "stride": stride}, [src])


def darts_like(C=4, layers=2, nodes=2, ops=DARTS4, classes=10) -> HandSuperGraph:
    """stem conv(3C)+bn, ``layers`` normal cells (2 inputs, ``nodes`` pick(2) nodes, concat), pool, linear."""
    g = HandSuperGraph()
    g.add_node("x", kind="input", shape=(3, 8, 8))
    g.graph.update(inputs=["x"], outputs=["output"], edges={})
    s = g.add_op("conv", "conv", {"c": 3 * C, "k": 3, "stride": 1, "dilation": 1, "groups": 1, "bias": False}, ["x"])
    s0 = s1 = g.add_op("bn", "bn", {"affine": True}, [s])
    alpha = {}
    for layer in range(layers):
        a = g.add_op(f"pre0[{layer}].relu_conv_bn", "relu_conv_bn", {"c": C, "k": 1, "stride": 1, "dilation": 1}, [s0])
        b = g.add_op(f"pre1[{layer}].relu_conv_bn", "relu_conv_bn", {"c": C, "k": 1, "stride": 1, "dilation": 1}, [s1])
        states = [a, b]
        for j in range(2, 2 + nodes):
            path = f"normal.node[{j}]"
            alpha[path] = (j, tuple(ops))
            g.graph["edges"][path] = list(range(j))
            terms = []
            for i in range(j):
                branches = [(_darts_op(g, o, f"normal[{layer}].node[{j}].src[{i}].{o}", states[i], C), (o,))
                            for o in ops]
                terms.append(g.add_select(f"normal[{layer}].node[{j}].src[{i}]", path, ops, branches, row=i))
            n = g.add_node(f"normal[{layer}].node[{j}].sum", kind="op", op="sum", params={}, scope="", span=None,
                           guard=())
            n = f"normal[{layer}].node[{j}].sum"
            pick = f"{path}.inputs"
            for i, t in enumerate(terms):
                g.add_edge(t, n, port=i, guard=(Cond(pick, frozenset(p for p in _pairs(j) if i in p)),))
            states.append(n)
        out = g.add_op(f"normal[{layer}].out.concat", "concat", {}, states[2:])
        s0, s1 = s1, out
    h = g.add_op("global_avg_pool", "global_avg_pool", {}, [s1])
    h = g.add_op("linear", "linear", {"n": classes, "bias": True}, [h])
    g.add_node("output", kind="output")
    g.add_edge(h, "output", port=0)
    g.graph["alpha"] = alpha
    return g


def _pairs(j):
    return [(a, b) for a in range(j) for b in range(a + 1, j)]


def darts_arch(rng, nodes=2, ops=DARTS4):
    out = {}
    for j in range(2, 2 + nodes):
        pair = sorted(rng.sample(range(j), 2))
        out[f"normal.node[{j}].inputs"] = pair
        for k in range(2):
            out[f"normal.node[{j}].edge[{k}]"] = rng.choice(ops)
    return out
