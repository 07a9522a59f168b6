"""The realized architecture: a flat graph of concrete ops."""
from __future__ import annotations

import networkx as nx


class ArchGraph(nx.MultiDiGraph):
    """A flat graph of concrete ops (an ``nx.MultiDiGraph``: ``add(h, h)`` reads h twice).

    Node attributes: ``op`` (name), ``params`` (resolved dict), ``kind``
    (``input``, ``op`` or ``output``), ``scope`` (where in the program),
    ``span`` (source), and ``shape`` for inputs. Edge attributes: ``port``,
    the input position at the consumer. ``graph['inputs']`` and
    ``graph['outputs']`` list the network's ports in order.
    """

    def ops(self):
        """``(node, attrs)`` of every op node in creation (topological) order."""
        return [(n, d) for n, d in self.nodes(data=True) if d.get("kind") == "op"]

    def inputs_of(self, node) -> list:
        """Predecessors of ``node`` in port order."""
        preds = sorted(self.in_edges(node, data=True), key=lambda e: e[2]["port"])
        return [u for u, _, _ in preds]

    def _repr_svg_(self):
        """A notebook shows a realized architecture as a picture of its ops."""
        try:
            from nasl.ir.pictures import graph_dot, repr_svg
        except ImportError:         # pydot is optional
            return None
        return repr_svg(lambda: graph_dot(self))

    def op_counts(self) -> dict:
        out: dict[str, int] = {}
        for _, d in self.ops():
            out[d["op"]] = out.get(d["op"], 0) + 1
        return out
