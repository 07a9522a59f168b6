"""Graph encodings of architectures for predictors: adjacency plus ops, and paths.

Both encoders read a labelled DAG: an :class:`~nasl.ir.archgraph.ArchGraph`
(a whole realized network, or one cell of it cut out by :func:`scoped`), or
the small cell graph that :func:`cell_graph` builds from a space's DAG cell
without realizing anything. Input and output nodes, merges (``sum``,
``concat``...) and identities are *transparent*: a path runs through them
without adding a symbol, unless the vocabulary ``ops`` names their label;
``zero`` ops block every path through them.

- :func:`path_encoding` is the path encoding of BANANAS (White et al., AAAI
  2021): one bit per possible sequence of ops on an input-to-output path, of
  length 0 to ``max_length``; the sequence ``(o_1, ..., o_l)`` sits at
  ``sum(V**m for m < l) + sum(ops.index(o_j) * V**(j-1))`` for a vocabulary of
  V ops, so the vector has ``sum(V**l for l <= max_length)`` entries. Longer
  paths are dropped (BANANAS truncates the encoding likewise).
- :func:`adjacency_encoding`: the upper triangle of the adjacency matrix of
  the contracted graph (transparent nodes removed, their edges bridged), nodes
  in topological order padded to ``max_nodes``, then a one-hot of each node's
  op over ``("input", *ops, "output")``.

:func:`graph_encoder` wraps these into the ``encoder`` callable a study
passes to a searcher.

Examples
--------
>>> import nasl
>>> space = nasl.load("examples/nas_bench_201.nas")
>>> arch = {f"cell.edge[{i}->{j}]": "nor_conv_3x3" for j in range(1, 4) for i in range(j)}
>>> g = cell_graph(space, arch)
>>> sorted(paths(g, cell_ops(space)))
[('nor_conv_3x3',), ('nor_conv_3x3', 'nor_conv_3x3'), ('nor_conv_3x3', 'nor_conv_3x3'), \
('nor_conv_3x3', 'nor_conv_3x3', 'nor_conv_3x3')]
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Mapping, Sequence

from nasl.ir.dags import IDENTITY, OP, DagInfo, dag_node_label
from nasl.ir.errors import NaslError
from nasl.ir.oplib import REQUIRED, get_op

_CHANNEL_PARAMS = ("c",)      # widths change with the stage and NB101's channel rule: not part of a label


def node_label(attrs: Mapping) -> str:
    """The label of an ArchGraph node: its op and the parameters that differ from the op's defaults.

    Channel counts are left out. E.g. ``relu_conv_bn(k=1)`` or ``avg_pool(padding=1)``.
    """
    if "label" in attrs:
        return attrs["label"]
    op, params = attrs.get("op", "?"), attrs.get("params") or {}
    sig = get_op(op)
    defaults = dict(sig.params) if sig is not None else {}
    extra = [f"{k}={v}" for k, v in sorted(params.items())
             if k not in _CHANNEL_PARAMS and (defaults.get(k, REQUIRED) is REQUIRED or defaults[k] != v)]
    return f"{op}({','.join(extra)})" if extra else op


def _kind(attrs: Mapping) -> str:
    kind = attrs.get("kind", "op")
    if kind != "op":
        return kind
    sig = get_op(attrs.get("op", ""))
    if sig is not None and sig.category == "merge":
        return "merge"
    if sig is not None and sig.identity:
        return "identity"
    if sig is not None and sig.zero:
        return "zero"
    return "op"


def scoped(graph, scope: str):
    """The part of ``graph`` under ``scope`` (e.g. ``"cell[0][0]"``) as a DAG with its own input and output.

    Every node outside the scope that feeds it becomes an input node
    (``in:<name>``); nodes inside that feed the rest of the network (or a
    network output) are joined to one output node ``out``.
    """
    import networkx as nx
    inside = [n for n, d in graph.nodes(data=True)
              if d.get("scope") == scope or str(d.get("scope", "")).startswith(scope + ".")
              or str(d.get("scope", "")).startswith(scope + "[")]
    if not inside:
        raise NaslError(f"no node of the graph lies under the scope '{scope}'")
    keep = set(inside)
    sub = nx.DiGraph()
    outputs = set(graph.graph.get("outputs", ()))
    for n in inside:
        sub.add_node(n, label=node_label(graph.nodes[n]), kind=_kind(graph.nodes[n]))
    for n in inside:
        for p in graph.predecessors(n):
            if p in keep:
                sub.add_edge(p, n)
            else:
                sub.add_node(f"in:{p}", label="input", kind="input")
                sub.add_edge(f"in:{p}", n)
        if any(s not in keep for s in graph.successors(n)) or n in outputs:
            sub.add_node("out", label="output", kind="output")
            sub.add_edge(n, "out")
    return sub


def cell_graph(space, arch: Mapping, index: int = 0):
    """The DAG cell ``index`` of ``space`` under ``arch``, as a small labelled ``nx.DiGraph``.

    Ops on edges become nodes (as BANANAS does for NAS-Bench-201), labelled
    with the chosen value (``nor_conv_3x3``); node ops label their node;
    zero edges are left out, and for a pruned DAG so are nodes on no
    input-to-output path. Built from the choice values alone: nothing is realized.
    """
    import networkx as nx
    if not space.dags:
        raise NaslError(f"{space.name} has no dag cell to encode")
    if not -len(space.dags) <= index < len(space.dags):
        raise NaslError(f"{space.name} has {len(space.dags)} dag cell(s); there is no cell {index}")
    info: DagInfo = space.dags[index]
    values = dict(arch)
    present = info.present_edges(values)
    live = info.live_nodes(present) if info.prune else set(range(info.n))
    g = nx.DiGraph()
    for k in range(info.inputs):
        g.add_node(f"in{k}", label="input", kind="input")
    src = {k: f"in{k}" for k in range(info.inputs)}
    for j in info.computed():
        if j not in live or j in src:
            continue
        slot = info.node_ops.get(j)
        cls, label = slot.resolve(values) if slot is not None else (IDENTITY, "")
        node = f"n{j}"
        g.add_node(node, label=label if cls == OP else "sum", kind="op" if cls == OP else "merge")
        src[j] = node
        for (i, jj), (ecls, elabel) in sorted(present.items()):
            if jj != j or i not in src:
                continue
            e = f"e{i}-{j}"
            g.add_node(e, label=elabel, kind="op" if ecls == OP else "identity")
            g.add_edge(src[i], e)
            g.add_edge(e, node)
    g.add_node("out", label="output", kind="output")
    for o in info.output_nodes(present):
        if o in src:
            g.add_edge(src[o], "out")
    return g


def cell_ops(space, index: int = 0) -> list[str]:
    """The op labels a DAG cell can hold (edge and node ops, in domain order): the default vocabulary."""
    info: DagInfo = space.dags[index]
    slots = list(info.edges.values()) + list(info.node_ops.values())
    slots += [s for _, ss in info.picks.values() for s in ss]
    out: list[str] = []
    for s in slots:
        labels = [s.label] if s.path is None and s.const_class == OP else \
            [dag_node_label(v) for v in space.spec[s.path].domain if s.classes.get(v, OP) == OP] if s.path else []
        out += [lab for lab in labels if lab not in out]
    return out


def cell_max_length(space, index: int = 0) -> int:
    """The most ops an input-to-output path of the DAG cell can hold."""
    info: DagInfo = space.dags[index]
    def can_op(slot):
        return slot is not None and (slot.const_class == OP if slot.path is None else
                                     any(c == OP for c in slot.classes.values()))
    edge_op = {e: can_op(s) for e, s in info.edges.items()}
    for j, (_, ss) in info.picks.items():
        for i in range(j):
            edge_op[(i, j)] = any(can_op(s) for s in ss)
    best = {k: 0 for k in range(info.inputs)}
    for j in info.computed():
        if j in best:
            continue
        ins = [best[i] + edge_op[(i, jj)] for (i, jj) in edge_op if jj == j and i in best]
        best[j] = (max(ins) if ins else 0) + can_op(info.node_ops.get(j))
    outs = info.output_nodes(list(edge_op))
    return max(best.get(o, 0) for o in outs)


def cell_max_nodes(space, index: int = 0) -> int:
    """The most nodes the contracted DAG cell can have: inputs, output and every slot that may hold an op."""
    info: DagInfo = space.dags[index]
    slots = list(info.edges.values()) + list(info.node_ops.values())
    slots += [s for _, ss in info.picks.values() for s in ss]
    held = sum(1 for s in slots if (s.const_class == OP if s.path is None else OP in s.classes.values()))
    return info.inputs + 1 + held


def _contract(graph, ops: Sequence[str]):
    """``(nodes, edges, labels)`` of the graph with transparent nodes bridged, in topological order."""
    import networkx as nx
    vocab = set(ops)
    keep, zero = {}, set()
    for n, d in graph.nodes(data=True):
        kind, label = _kind(d), node_label(d)
        if kind == "zero":
            zero.add(n)         # an all-zero output: no path runs through it
        elif label in vocab:
            keep[n] = label
        elif kind in ("input", "output"):
            keep[n] = kind
        elif kind == "op":
            raise ValueError(f"node '{n}' has op '{label}', which the vocabulary does not hold "
                             f"(ops: {', '.join(ops)})")
    order = {n: i for i, n in enumerate(graph.nodes)}
    topo = [n for n in nx.lexicographical_topological_sort(graph, key=order.__getitem__) if n in keep]
    topo.sort(key=lambda n: 0 if keep[n] == "input" and n not in vocab else 2 if keep[n] == "output" else 1)
    edges = set()
    for u in topo:
        stack, seen = list(graph.successors(u)), set()
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            if v in keep:
                edges.add((u, v))
            elif v not in zero:
                stack.extend(graph.successors(v))
    return topo, edges, keep


def op_labels(graph) -> list[str]:
    """The labels of the graph's op nodes (not inputs, outputs, merges, identities or zeros): a vocabulary."""
    return [node_label(d) for _, d in graph.nodes(data=True) if _kind(d) == "op"]


def contracted_size(graph, ops: Sequence[str]) -> int:
    """How many nodes the encodings see in ``graph`` once transparent nodes are bridged (for ``max_nodes``)."""
    return len(_contract(graph, ops)[0])


def paths(graph, ops: Sequence[str], max_length: int | None = None) -> list[tuple]:
    """Every input-to-output path as its tuple of op labels (transparent nodes skipped)."""
    nodes, edges, labels = _contract(graph, ops)
    succ: dict = {}
    for u, v in edges:
        succ.setdefault(u, []).append(v)
    memo: dict = {}

    def tails(u) -> list:
        if u in memo:
            return memo[u]
        out = []
        if labels[u] == "output":
            out.append(())
        for v in sorted(succ.get(u, ()), key=nodes.index):
            for t in tails(v):
                p = ((labels[v],) if labels[v] not in ("input", "output") else ()) + t
                if max_length is None or len(p) <= max_length:
                    out.append(p)
        memo[u] = out
        return out
    starts = [n for n in nodes if labels[n] == "input"]
    return [(labels[s],) + t if labels[s] not in ("input", "output") else t for s in starts for t in tails(s)]


def path_encoding(graph, ops: Sequence[str], max_length: int, counts: bool = False) -> list[float]:
    """BANANAS' path encoding (see the module docstring); ``counts`` counts paths instead of flagging them."""
    ops = list(ops)
    V = len(ops)
    index = {o: i for i, o in enumerate(ops)}
    offsets = [sum(V ** m for m in range(L)) for L in range(max_length + 2)]
    x = [0.0] * offsets[max_length + 1]
    for p in paths(graph, ops, max_length):
        i = offsets[len(p)] + sum(index[o] * V ** j for j, o in enumerate(p))
        x[i] = x[i] + 1.0 if counts else 1.0
    return x


def adjacency_encoding(graph, ops: Sequence[str], max_nodes: int) -> list[float]:
    """Adjacency (upper triangle) plus op one-hot of the contracted graph (see the module docstring)."""
    nodes, edges, labels = _contract(graph, ops)
    if len(nodes) > max_nodes:
        raise ValueError(f"the graph has {len(nodes)} nodes after contraction; max_nodes is {max_nodes}")
    pos = {n: i for i, n in enumerate(nodes)}
    tri = [0.0] * (max_nodes * (max_nodes - 1) // 2)
    for u, v in edges:
        i, j = sorted((pos[u], pos[v]))
        tri[i * max_nodes - i * (i + 1) // 2 + (j - i - 1)] = 1.0
    vocab = ["input", *ops, "output"]
    onehot = [0.0] * (max_nodes * len(vocab))
    for n, i in pos.items():
        onehot[i * len(vocab) + vocab.index(labels[n])] = 1.0
    return tri + onehot


def graph_encoder(space, kind: str = "path", index: int = 0, ops: Sequence[str] | None = None,
                  max_length: int | None = None, max_nodes: int | None = None,
                  cache_size: int = 100_000) -> Callable:
    """An ``Architecture -> list[float]`` encoder of DAG cell ``index``, for ``Searcher(encoder=...)``.

    ``kind`` is ``"path"`` or ``"adjacency"``; ``ops`` defaults to
    :func:`cell_ops`, ``max_length`` to :func:`cell_max_length`, and
    ``max_nodes`` to the most nodes the contracted cell can have.
    """
    if kind not in ("path", "adjacency"):
        raise ValueError(f"kind must be 'path' or 'adjacency', not {kind!r}")
    ops = list(ops) if ops is not None else cell_ops(space, index)
    if kind == "path":
        L = cell_max_length(space, index) if max_length is None else max_length
        fn = lambda g: path_encoding(g, ops, L)     # noqa: E731
    else:
        N = max_nodes or cell_max_nodes(space, index)
        fn = lambda g: adjacency_encoding(g, ops, N)     # noqa: E731

    @lru_cache(maxsize=cache_size)
    def encode_json(key: str) -> tuple:
        import json
        return tuple(fn(cell_graph(space, json.loads(key), index)))

    def encoder(arch) -> list[float]:
        import json
        return list(encode_json(json.dumps(dict(arch), sort_keys=True, default=list)))
    encoder.size = len(encoder(space.sample(0)))
    return encoder


__all__ = ["adjacency_encoding", "cell_graph", "cell_max_length", "cell_max_nodes", "cell_ops", "contracted_size",
           "graph_encoder", "node_label", "op_labels", "path_encoding", "paths", "scoped"]
