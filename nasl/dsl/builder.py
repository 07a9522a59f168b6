"""Builds the :class:`~nasl.ir.archgraph.ArchGraph` during realization."""
from __future__ import annotations

from nasl.dsl.values import Tensor
from nasl.ir.archgraph import ArchGraph


class GraphBuilder:
    """Adds nodes with deterministic, readable names during realization."""

    def __init__(self):
        self.g = ArchGraph()
        self.g.graph["inputs"] = []
        self.g.graph["outputs"] = []
        self.read: set[str] = set()
        self.checks: list = []          # constraints on the finished graph
        self._taken: dict[str, int] = {}
        self.memo: dict = {}            # dag applications recorded for replay (dag_replay.py)

    def io_count(self) -> int:
        return len(self.g.graph["inputs"]) + len(self.g.graph["outputs"])

    def _name(self, scope: str, op: str) -> str:
        base = f"{scope}.{op}" if scope else op
        k = self._taken.get(base, 0)
        self._taken[base] = k + 1
        return base if k == 0 else f"{base}_{k}"

    def add_input(self, name: str, shape):
        self.g.add_node(name, kind="input", op="input", params={}, shape=tuple(shape) if shape else None,
                        scope="", span=None)
        self.g.graph["inputs"].append(name)
        self._taken[name] = 1
        return Tensor(name)

    def add_op(self, scope: str, op: str, params: dict, inputs, span):
        nid = self._name(scope, op)
        self.g.add_node(nid, kind="op", op=op, params=dict(params), scope=scope, span=span)
        for port, t in enumerate(inputs):
            self.g.add_edge(t.node, nid, port=port)
        return Tensor(nid)

    def add_tap(self, tensor, name, span):
        from nasl.ir.errors import InvalidArchitecture
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidArchitecture(f"tap needs a name like \"c_t\", got {name!r}", span)
        if name in self.g:
            raise InvalidArchitecture(f"this architecture taps '{name}' more than once", span,
                                      hint="a tapped output must be produced exactly once")
        self.g.add_node(name, kind="output", op="output", params={}, scope="", span=span)
        self.g.add_edge(tensor.node, name, port=0)
        self.g.graph["outputs"].append(name)

    def add_output(self, tensor, index: int):
        name = "output" if index == 0 else f"output_{index}"
        self.g.add_node(name, kind="output", op="output", params={}, scope="", span=None)
        self.g.add_edge(tensor.node, name, port=0)
        self.g.graph["outputs"].append(name)

    def finish(self, values: dict):
        """Check the constraints that need the whole graph."""
        from nasl.ir.errors import ConstraintViolation
        from nasl.ir.symbols import GRAPH
        if not self.checks:
            return
        env = dict(values)
        env[GRAPH] = self.g
        for con in self.checks:
            if not con.satisfied(env):
                raise ConstraintViolation(f"constraint violated: {con.message}", con.span)
