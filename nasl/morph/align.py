"""Which child node is which parent node, when a transformation adds or drops layers.

Node ids carry per-scope counters (``conv_3``), so after an insertion the same id may name
another layer. Two alignments are used instead, each checked against the edges afterwards:

- :func:`align_sequence` matches the ops in execution order by signature (op, params, input
  shapes) with a longest-common-subsequence: right for a layer appended to a repeat, where the
  old layers keep their order.
- :func:`align_backward` walks from the outputs to the inputs, pairing each node's inputs port
  by port and skipping over child nodes that the parent lacks: right for a layer put on one
  edge of a cell whose sibling edges have the same ops.
"""
from __future__ import annotations

from difflib import SequenceMatcher

from nasl.ir.errors import NaslError
from nasl.morph.graphs import Realized


def _ports(r: Realized) -> list:
    g = r.graph.graph
    return list(g.get("inputs", [])) + list(g.get("outputs", []))


def align_sequence(parent: Realized, child: Realized) -> list:
    """The alignments ``{child node: parent node}`` under which one side's ops are the other's with
    one contiguous block (in execution order) added or dropped, the latest block first.

    Repeated layers make the block's place ambiguous (``conv bn relu`` appended to a chain of
    them matches at any of its joints); the caller takes the first that it can use."""
    big, small, grow = (child, parent, True) if len(child.ops) >= len(parent.ops) else (parent, child, False)
    a = [small.signature(n) for n in small.ops]
    b = [big.signature(n) for n in big.ops]
    gap, n = len(b) - len(a), len(a)
    pre = 0
    while pre < n and a[pre] == b[pre]:
        pre += 1
    suf = 0                     # a[n-suf:] == b[len(b)-suf:]
    while suf < n and a[n - 1 - suf] == b[len(b) - 1 - suf]:
        suf += 1
    out = []
    for k in range(min(pre, n), -1, -1):        # block at big[k:k+gap]
        if n - k > suf:
            break
        pairs = list(zip(big.ops[:k], small.ops[:k])) + list(zip(big.ops[k + gap:], small.ops[k:]))
        m = {bn: sn for bn, sn in pairs}
        if grow:
            mapping = m
        else:
            mapping = {sn: bn for bn, sn in m.items()}
        mapping.update({x: x for x in _ports(child) if x in parent.graph})
        out.append(mapping)
    return out


def align_backward(parent: Realized, child: Realized) -> dict:
    """``{child node: parent node}`` pairing inputs port by port from the outputs back."""
    mapping = {n: n for n in _ports(child) if n in parent.graph}
    taken = set(mapping.values())
    todo = [n for n in child.graph.graph.get("outputs", []) if n in mapping]
    while todo:
        c = todo.pop()
        p = mapping[c]
        c_ins, p_ins = child.inputs(c), parent.inputs(p)
        if len(c_ins) != len(p_ins):
            continue
        for cu, pu in zip(c_ins, p_ins):
            if cu in mapping or pu in taken:
                continue
            hit = _nearest(parent, child, cu, pu, mapping)
            if hit is not None:
                mapping[hit] = pu
                taken.add(pu)
                todo.append(hit)
    return mapping


def _nearest(parent, child, cu, pu, mapping):
    # cu itself, or the nearest unmatched ancestor of cu with pu's signature (the nodes between are new)
    want = parent.signature(pu) if pu in parent.ops else None
    frontier, seen = [cu], set()
    while frontier:
        n = frontier.pop(0)
        if n in seen or n in mapping:
            continue
        seen.add(n)
        if n in child.ops and want is not None and child.signature(n) == want:
            return n
        if n not in child.ops and want is None and n == pu:
            return n
        frontier.extend(child.inputs(n))
    return None


def insertion(parent: Realized, child: Realized, mapping: dict, what: str, path: str):
    """The layers the child adds, as ``(new nodes, source, output)``: one connected block that
    reads one old tensor (``source``) and whose ``output`` replaces it for the old consumers."""
    new = [n for n in child.ops if n not in mapping]
    lost = set(parent.ops) - set(mapping.values())
    if lost or not new:
        raise NaslError(f"{what}: '{path}' does not only add layers to the network "
                        f"({len(lost)} of the parent's layers have no counterpart)", path=path)
    news = set(new)
    sources = {u for n in new for u in child.inputs(n) if u not in news}
    outs, replaced = set(), set()
    for c in child.graph.nodes:
        if c in news or c not in mapping:
            continue
        p_ins = parent.inputs(mapping[c])
        for u, pu in zip(child.inputs(c), p_ins):
            if u in news:
                outs.add(u)
                replaced.add(pu)
            elif mapping.get(u) != pu:
                raise NaslError(f"{what}: cannot align '{c}' of the child with the parent", path=path)
    if len(sources) != 1 or len(outs) != 1 or replaced != {mapping.get(next(iter(sources)))}:
        raise NaslError(f"{what}: '{path}' adds layers that are not one block between two old ones",
                        path=path)
    return new, next(iter(sources)), next(iter(outs))


def removal(parent: Realized, child: Realized, mapping: dict, what: str, path: str) -> list:
    """The parent's layers the child drops (every child layer must have a counterpart)."""
    missing = [n for n in child.ops if n not in mapping]
    if missing:
        raise NaslError(f"{what}: '{path}' does not only remove layers ('{missing[0]}' is new)", path=path)
    kept = set(mapping.values())
    return [n for n in parent.ops if n not in kept]
