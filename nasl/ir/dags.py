"""What a space records about each DAG cell, for graph-level counting.

The elaborator fills a :class:`DagInfo` for every ``dag`` it registers.
Because edge and node ops are plain choices, the realized cell (which edges
exist, which ops they carry, which nodes survive pruning) is a function of
an architecture's values alone; :func:`cell_structure` computes it without
building the network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

ZERO, IDENTITY, OP = "zero", "identity", "op"


@dataclass(frozen=True)
class Slot:
    """What sits on one edge (or node): a constant op, or the op chosen at ``path``.

    ``classes`` maps each label to ``zero`` (no edge), ``identity`` or ``op``;
    ``label`` is the constant op's name when ``path`` is None.
    """

    path: Optional[str]
    classes: dict = field(default_factory=dict, hash=False, compare=False)
    label: str = ""
    const_class: str = OP

    def cls(self, values, undecided: str) -> str:
        """The class under ``values``; ``undecided`` when the choice has no value yet."""
        if self.path is None:
            return self.const_class
        v = values.get(self.path, _UNDECIDED)
        return undecided if v is _UNDECIDED else self.classes.get(v, OP)

    def resolve(self, values) -> tuple[str, str]:
        """``(class, label)`` under an architecture's values."""
        if self.path is None:
            return self.const_class, self.label
        v = values.get(self.path)
        return self.classes.get(v, OP), dag_node_label(v)


_UNDECIDED = object()


def dag_node_label(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


@dataclass
class DagInfo:
    """The shape of one registered DAG.

    ``edges[(i, j)]`` holds the :class:`Slot` of a possible edge; for a node
    that picks its inputs, ``picks[j] = (path, slot_of_each_pick)``.
    """

    prefix: str
    n: int
    inputs: int
    output: object = "last"
    prune: bool = False
    implicit_io: bool = False
    edges: dict = field(default_factory=dict)
    picks: dict = field(default_factory=dict)
    node_ops: dict = field(default_factory=dict)
    loose_inputs: bool = False      # output="loose" also concatenates the inputs no node reads

    def computed(self) -> range:
        return range(0 if self.implicit_io else self.inputs, self.n)

    def present_edges(self, values) -> dict:
        """``{(i, j): label}`` for every edge present (not zero) under ``values``."""
        out = {}
        for (i, j), slot in self.edges.items():
            cls, label = slot.resolve(values)
            if cls != ZERO:
                out[(i, j)] = (cls, label)
        for j, (path, slots) in self.picks.items():
            chosen = values.get(path) or ()
            for s, i in enumerate(chosen):
                cls, label = slots[s].resolve(values)
                if cls == ZERO:
                    continue
                if (i, j) in out:       # a pick with replacement reads one node twice: one edge, both ops
                    old_cls, old_label = out[(i, j)]
                    cls, label = OP, "+".join(sorted((old_label, label)))
                out[(i, j)] = (cls, label)
        return out

    def present_pairs(self, values, undecided: str = OP) -> list:
        """The present edges ``(i, j)``; an undecided edge counts as ``undecided``."""
        out = [e for e, slot in self.edges.items() if slot.cls(values, undecided) != ZERO]
        for j, (path, slots) in self.picks.items():
            chosen = values.get(path)
            if chosen is None:
                if undecided != ZERO:
                    out.extend((i, j) for i in range(j))
                continue
            out.extend((i, j) for s, i in enumerate(chosen) if slots[s].cls(values, undecided) != ZERO)
        return out

    def output_nodes(self, present) -> list:
        if self.output == "last":
            return [self.n - 1]
        comp = list(self.computed())
        if self.output == "concat":
            return comp
        if self.output == "loose":
            used = {i for (i, _) in present}
            first = range(self.inputs) if self.loose_inputs else ()
            return [j for j in (*first, *comp) if j not in used]
        return list(self.output)

    def live_nodes(self, present) -> set:
        """Nodes on some input-to-output path."""
        fwd = set(range(self.inputs)) if not self.implicit_io else set()
        succ: dict = {}
        pred: dict = {}
        for (i, j) in present:
            succ.setdefault(i, []).append(j)
            pred.setdefault(j, []).append(i)
        if self.implicit_io:
            # Every node hangs off the implicit input and output nodes; an
            # isolated node is on a path through both, and pruning removes it
            # (Genetic CNN) or keeps it (Zoph & Le).
            if not self.prune:
                return set(self.computed())
            return {j for j in self.computed() if j in pred or j in succ}
        stack = list(fwd)
        while stack:
            u = stack.pop()
            for v in succ.get(u, ()):
                if v not in fwd:
                    fwd.add(v)
                    stack.append(v)
        back = set(x for x in self.output_nodes(present) if x in fwd)
        stack = list(back)
        while stack:
            u = stack.pop()
            for v in pred.get(u, ()):
                if v not in back and v in fwd:
                    back.add(v)
                    stack.append(v)
        return back

    def connected(self, present) -> bool:
        """Some output node is reachable from an input."""
        if self.implicit_io:
            return True
        reach = set(range(self.inputs))
        # edges go from lower to higher nodes: one pass in source order suffices
        for i, j in sorted(present):
            if i in reach:
                reach.add(j)
        return any(o in reach for o in self.output_nodes(present))


def nasbench101_widths(n: int, present, live, c: int) -> dict:
    """NAS-Bench-101's channel rule: ``{vertex: channels}`` of a pruned single-input cell.

    Vertex 0 is the input and ``n - 1`` the output, which gets ``c``. The
    interior vertices that feed the output split ``c`` (``c // k`` each, the
    remainder one extra channel to the earliest ones); every other interior
    vertex takes the widest of its interior successors. ``present`` holds the
    edges ``(i, j)`` and ``live`` the vertices left after pruning.
    """
    out = n - 1
    widths = {out: c}
    feeders = [v for v in range(1, out) if v in live and (v, out) in present]
    if feeders:
        base, extra = divmod(c, len(feeders))
        if base < 1:
            raise ValueError(f"{c} channels cannot be split over the {len(feeders)} vertices feeding the output")
        for k, v in enumerate(feeders):
            widths[v] = base + (1 if k < extra else 0)
    for v in range(out - 1, 0, -1):
        if v in live and v not in widths:
            widths[v] = max(widths[d] for d in range(v + 1, out) if d in live and (v, d) in present)
    return widths


def expression_key(info: DagInfo, values) -> str:
    """NAS-Bench-201's expression equivalence, generalised to any DAG.

    Each node is the sorted ``+``-join of its terms: ``(src)@op`` for an op
    edge, the source's own expression for an identity edge, and ``#`` for a
    zero edge or a term whose source is itself ``#``. Sorting makes the sum
    commutative; keeping ``#`` terms matches ``to_unique_str(consider_zero=True)``.
    """
    exprs = {i: str(i) for i in range(info.inputs)}
    incoming: dict = {}
    for (i, j), slot in info.edges.items():
        incoming.setdefault(j, []).append((i, slot.resolve(values)))
    for j, (path, slots) in info.picks.items():
        for s, i in enumerate(values.get(path) or ()):
            incoming.setdefault(j, []).append((i, slots[s].resolve(values)))
    for j in info.computed():
        terms = []
        for i, (cls, label) in sorted(incoming.get(j, ()), key=lambda t: t[0]):
            src = exprs.get(i, "#")
            if cls == ZERO or src == "#":
                terms.append("#")
            elif cls == IDENTITY:
                terms.append(src)
            else:
                terms.append(f"({src})@{label}")
        e = "+".join(sorted(terms)) if terms else "#"
        op = info.node_ops.get(j)
        if op is not None:
            cls, label = op.resolve(values)
            if cls == ZERO:
                e = "#"
            elif cls == OP and e != "#":
                e = f"({e})@{label}"
        exprs[j] = e
    outs = info.output_nodes(info.present_edges(values))
    return "|".join(exprs.get(o, "#") for o in outs)
