"""A record of the fx graph the compiler would build, for networks whose forward it writes directly.

Building a ``torch.fx.Graph`` node by node, and then having torch.fx turn it into source, is a fixed
cost of every compile (BENCHMARKS.md section 63)
that does not shrink with the cell: ``Graph.create_node`` checks and normalizes its arguments,
links the node, registers its users and runs hooks, and the code generator walks every node again
through pytree. For the ops the compiler emits itself (a ``call_module`` per op with weights, the
merges and parameter-free passes of :mod:`nasl.compiler.merges`), :class:`RecordedGraph` stands in
for the ``fx.Graph``: it takes the same ``create_node`` calls, names each node as torch.fx would
(through torch.fx's own namespace, so every name, ``add_1`` included, is the one the fx graph would
have) and keeps each node's users and ``meta``, which is all the code writer
(:mod:`nasl.compiler.source`) and the free plan (:mod:`nasl.compiler.frees`) read.

:meth:`RecordedGraph.to_fx` replays the record into a real ``fx.Graph`` with the same nodes, names,
targets, arguments and ``meta``. It runs when something asks a compiled module for its ``graph``
(an export, a user editing the graph), or when an op's forward must be traced (a user's function),
which only a real graph can do.
"""
from __future__ import annotations

import re

from torch import fx

try:                        # torch.fx's namer; without it, compile_graph builds the fx graph as before
    from torch.fx.graph import _Namespace as FxNamespace
except ImportError:         # pragma: no cover - a torch that moved it
    FxNamespace = None

_SNAKE = re.compile(r"(?<=[a-z])([A-Z])")


def _target_to_str(target) -> str:
    """The name torch.fx derives from a target when a node is created without one."""
    op = target.__name__ if callable(target) else target
    if op.startswith("__") and op.endswith("__"):
        op = op[2:-2]
    return _SNAKE.sub(r"_\1", op).lower()


def _input_nodes(arg, out: dict) -> dict:
    """The recorded nodes in ``arg`` (nested tuples, lists, dicts), in the order torch.fx lists them."""
    if isinstance(arg, RecordedNode):
        out[arg] = None
    elif isinstance(arg, (tuple, list)):
        for a in arg:
            _input_nodes(a, out)
    elif isinstance(arg, dict):
        for a in arg.values():
            _input_nodes(a, out)
    return out


def _replace(arg, fx_nodes: dict):
    if isinstance(arg, RecordedNode):
        return fx_nodes[arg]
    if isinstance(arg, tuple):
        return tuple(_replace(a, fx_nodes) for a in arg)
    if isinstance(arg, list):
        return [_replace(a, fx_nodes) for a in arg]
    if isinstance(arg, dict):
        return {k: _replace(a, fx_nodes) for k, a in arg.items()}
    return arg


class RecordedNode:
    """One node of a :class:`RecordedGraph`: what ``fx.Node`` holds that the code writer reads."""

    __slots__ = ("graph", "name", "op", "target", "args", "kwargs", "meta", "users", "inputs")

    def __init__(self, graph, name: str, op: str, target, args: tuple, kwargs: dict):
        self.graph, self.name, self.op, self.target = graph, name, op, target
        self.args, self.kwargs, self.meta, self.users = args, kwargs, {}, {}
        self.inputs = list(_input_nodes((args, kwargs), {}))

    def _rename(self, candidate: str) -> None:
        # as fx.Node._rename: the old name stays taken, so later nodes are named as in the fx graph
        if candidate != self.name:
            self.name = self.graph.namespace.create_name(candidate, None)

    def __repr__(self) -> str:
        return self.name


class RecordedGraph:
    """The subset of ``fx.Graph`` that :func:`nasl.compiler.build.compile_graph` and the direct
    emitters of :mod:`nasl.compiler.merges` use: ``create_node``, ``placeholder``, ``output`` and
    ``nodes`` (a list, in program order)."""

    def __init__(self):
        self.nodes: list = []
        self.namespace = FxNamespace()

    def create_node(self, op: str, target, args=None, kwargs=None, name: str | None = None) -> RecordedNode:
        candidate = name if name is not None else _target_to_str(target)
        node = RecordedNode(self, self.namespace.create_name(candidate, None), op, target,
                            tuple(args) if args else (), dict(kwargs) if kwargs else {})
        for u in node.inputs:
            u.users[node] = None
        self.nodes.append(node)
        return node

    def placeholder(self, name: str) -> RecordedNode:
        return self.create_node("placeholder", name)

    def output(self, result) -> RecordedNode:
        return self.create_node("output", "output", (result,))

    def to_fx(self) -> tuple:
        """``(fx.Graph, {recorded node: fx node})``: the graph this record stands for."""
        graph, fx_nodes = fx.Graph(), {}
        for n in self.nodes:
            # the final names, given back: each is free when its node is created, so it is kept
            node = graph.create_node(n.op, n.target, _replace(n.args, fx_nodes), _replace(n.kwargs, fx_nodes),
                                     name=n.name)
            node.meta.update(n.meta)
            fx_nodes[n] = node
        return graph, fx_nodes


__all__ = ["FxNamespace", "RecordedGraph", "RecordedNode"]
