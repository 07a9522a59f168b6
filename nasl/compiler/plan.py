"""One walk over an :class:`~nasl.ir.archgraph.ArchGraph` that the compiler passes share.

Shape inference, cost counting and the module builder all need the same
three facts about the graph: an execution order, each node's inputs in port
order, and which nodes can reach an output. ``networkx`` answers each of
them generically but slowly (a sorted ``in_edges`` view per node, a
topological sort with a key); the graph is small and the realizer creates
its nodes in dependency order, so one pass over the adjacency dicts does.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Plan:
    """``order``: every node, inputs before users (creation order when that is one);
    ``inputs``: ``{node: [predecessor, ...]}`` in port order (a node read twice appears twice);
    ``live``: the nodes on a path to a network output (the outputs included)."""

    order: list
    inputs: dict
    live: set


def _inputs(graph) -> dict:
    pred = graph._pred                      # {node: {pred: {key: attrs}}} of the MultiDiGraph
    out = {}
    for n, preds in pred.items():
        if not preds:
            out[n] = []
            continue
        pairs = [(attrs.get("port", 0), u) for u, keyed in preds.items() for attrs in keyed.values()]
        if len(pairs) > 1:
            pairs.sort(key=lambda p: p[0])
        out[n] = [u for _, u in pairs]
    return out


def _order(graph, inputs: dict) -> list:
    seen: set = set()
    order = list(graph.nodes)
    for n in order:
        for u in inputs[n]:
            if u not in seen:           # built by hand out of dependency order: sort it
                import networkx as nx
                index = {m: i for i, m in enumerate(order)}
                return list(nx.lexicographical_topological_sort(graph, key=index.__getitem__))
        seen.add(n)
    return order


def _live(graph, inputs: dict) -> set:
    outputs = graph.graph.get("outputs")
    if outputs is None:                 # a graph without declared outputs: its sinks are the outputs
        outputs = [n for n in graph.nodes if not graph._succ[n]]
    live, stack = set(), list(outputs)
    while stack:
        n = stack.pop()
        if n in live:
            continue
        live.add(n)
        stack.extend(inputs[n])
    return live


def plan_graph(graph) -> Plan:
    """The :class:`Plan` of ``graph``."""
    inputs = _inputs(graph)
    return Plan(_order(graph, inputs), inputs, _live(graph, inputs))


__all__ = ["Plan", "plan_graph"]
