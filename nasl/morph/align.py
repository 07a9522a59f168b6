"""Which child node is which parent node, when a transformation adds or drops layers.

Node ids carry per-scope counters (``conv_3``), so after an insertion the same id may name
another layer. Two alignments are used instead, each checked against the edges afterwards:

- :func:`align_sequence` matches the ops in execution order by signature (op, params, input
  shapes), with one contiguous block added or dropped: right for a repeat whose count changes,
  where the old layers keep their order.
- :func:`align_scoped` keeps ids outside the scopes that gained layers and aligns each such
  scope's ops in execution order: right for a layer put on one edge of a cell, whose sibling
  edges (in the same scope, so with shifted counters) may have the same ops.
"""
from __future__ import annotations

import networkx as nx

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


def align_scoped(parent: Realized, child: Realized) -> dict:
    """``{child node: parent node}`` by id outside the scopes where layers were added, and, inside
    each such scope (one per cell that uses a changed genotype), by execution order with one
    contiguous block added: the place of the block is the first whose edges agree."""
    scope = lambda r, n: r.graph.nodes[n].get("scope", "")      # noqa: E731
    changed = {scope(child, n) for n in child.ops
               if n not in parent.paths or parent.signature(n) != child.signature(n)}
    mapping = {n: n for n in child.graph.nodes if n in parent.graph and scope(child, n) not in changed}
    mapping.update({n: n for n in _ports(child) if n in parent.graph})
    for s in sorted(changed):
        a = [n for n in parent.ops if scope(parent, n) == s]
        b = [n for n in child.ops if scope(child, n) == s]
        for cand in _contiguous(parent, child, a, b):
            trial = {**mapping, **cand}
            if _edges_agree(parent, child, trial, cand):
                mapping = trial
                break
    return mapping


def _contiguous(parent, child, a: list, b: list):
    gap = len(b) - len(a)
    if gap < 0:
        return
    sa, sb = [parent.signature(n) for n in a], [child.signature(n) for n in b]
    for k in range(len(a) + 1):
        if sa[:k] == sb[:k] and sa[k:] == sb[k + gap:]:
            yield dict(zip(b[:k] + b[k + gap:], a))


def _edges_agree(parent, child, mapping, local) -> bool:
    for c in local:
        for u, pu in zip(child.inputs(c), parent.inputs(mapping[c])):
            if u in mapping and mapping[u] != pu:
                return False
        for s in child.graph.successors(c):
            if s in mapping:
                p_ins = parent.inputs(mapping[s])
                for u, pu in zip(child.inputs(s), p_ins):
                    if u == c and pu != mapping[c]:
                        return False
    return True


def insertion(parent: Realized, child: Realized, mapping: dict, what: str, path: str):
    """The layers the child adds, as ``(new nodes, source, output)``: one connected block that
    reads one old tensor (``source``) and whose ``output`` replaces it for the old consumers."""
    blocks = inserted_blocks(parent, child, mapping, what, path)
    if len(blocks) != 1:
        raise NaslError(f"{what}: '{path}' adds {len(blocks)} separate blocks of layers, not one", path=path)
    return blocks[0]


def inserted_blocks(parent: Realized, child: Realized, mapping: dict, what: str, path: str) -> list:
    """``[(new nodes, source, output)]``: the connected blocks of child layers that the parent lacks,
    each between one old tensor and the old consumers of it, checked against every edge."""
    new = [n for n in child.ops if n not in mapping]
    lost = set(parent.ops) - set(mapping.values())
    if lost or not new:
        raise NaslError(f"{what}: '{path}' does not only add layers to the network "
                        f"({len(lost)} of the parent's layers have no counterpart)", path=path)
    order = {n: i for i, n in enumerate(child.ops)}
    comps = nx.weakly_connected_components(child.graph.subgraph(new))
    blocks, block_of = [], {}
    for comp in comps:
        nodes = sorted(comp, key=order.get)
        sources = {u for n in nodes for u in child.inputs(n) if u not in comp}
        outs = {n for n in nodes if any(s not in comp for s in child.graph.successors(n))}
        if len(sources) != 1 or len(outs) != 1:
            raise NaslError(f"{what}: '{path}' adds layers that are not a block between two old ones",
                            path=path)
        source, out = next(iter(sources)), next(iter(outs))
        if source not in mapping:
            raise NaslError(f"{what}: cannot align the layers that '{path}' adds", path=path)
        blocks.append((nodes, source, out))
        block_of[out] = source
    for c in child.graph.nodes:
        if c not in mapping:
            continue
        for u, pu in zip(child.inputs(c), parent.inputs(mapping[c])):
            want = mapping.get(block_of[u]) if u in block_of else mapping.get(u)
            if want != pu:
                raise NaslError(f"{what}: cannot align '{c}' of the child with the parent", path=path)
    return blocks


def removal(parent: Realized, child: Realized, mapping: dict, what: str, path: str) -> list:
    """The parent's layers the child drops (every child layer must have a counterpart)."""
    missing = [n for n in child.ops if n not in mapping]
    if missing:
        raise NaslError(f"{what}: '{path}' does not only remove layers ('{missing[0]}' is new)", path=path)
    kept = set(mapping.values())
    return [n for n in parent.ops if n not in kept]
