"""Facts about a ``SuperGraph`` that every supernet mode needs (no torch here).

A ``SuperGraph`` (nasl/ir/supergraph.py, format in the one-shot contract) is an
``nx.MultiDiGraph`` of ``input``, ``op``, ``select`` and ``output`` nodes. The
supernet needs, once, at build time:

- an execution order and each node's inputs in port order (:func:`analyse`);
- the shapes at the maximum of every ``Elastic`` parameter (:func:`infer`);
- which nodes belong to one branch of one select only (``owner``): those run
  only when their branch is taken (GDAS runs one branch; a sampled
  architecture runs one), and their existence probability is that branch's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nasl.compiler.shapes import ShapeError, op_shape
from nasl.ir.errors import NaslError


def is_elastic(v) -> bool:
    """An ``Elastic`` parameter (nasl.ir.supergraph: ``.path``, ``.max``, ``.value(values)``)."""
    return hasattr(v, "max") and hasattr(v, "path") and callable(getattr(v, "value", None))


def elastic_max(v):
    return v.max


def at_max(params: dict) -> dict:
    """``params`` with every ``Elastic`` value at its maximum (the size the shared weights are built at)."""
    return {k: elastic_max(v) if is_elastic(v) else v for k, v in (params or {}).items()}


def at_labels(params: dict, chosen: dict) -> dict:
    """``params`` with each ``Elastic`` at its value under ``chosen`` (``{path: label}``)."""
    return {k: v.value(chosen) if is_elastic(v) else v for k, v in (params or {}).items()}


def elastic_paths(params: dict) -> dict:
    """``{param name: Elastic}`` of the elastic parameters of an op."""
    return {k: v for k, v in (params or {}).items() if is_elastic(v)}


@dataclass
class Port:
    """One input of a node: the producer (None for a zero branch), and the edge's guard."""

    src: object
    guard: tuple = ()
    labels: tuple = ()


@dataclass
class Analysis:
    order: list                                   # every node, producers first
    inputs: dict                                  # node -> [Port] in port order
    owner: dict = field(default_factory=dict)     # node -> (select, port index): runs only in that branch
    selects: list = field(default_factory=list)   # select nodes in order
    padded: set = field(default_factory=set)      # selects whose branches differ in size


def _ports(sg, n) -> list:
    pairs = []
    for u, _, a in sg.in_edges(n, data=True):
        pairs.append((a.get("port", 0), Port(u, tuple(a.get("guard") or ()), tuple(a.get("labels") or ()))))
    pairs.sort(key=lambda p: p[0])
    d = sg.nodes[n]
    if d.get("kind") != "select":
        return [p for _, p in pairs]
    # a select has one port per branch; a branch without an edge is a zero
    n_branches = max([len(d.get("branches") or ())] + [i + 1 for i, _ in pairs])
    by_port = dict(pairs)
    return [by_port.get(i, Port(None)) for i in range(n_branches)]


def _topo(sg, inputs: dict) -> list:
    seen: set = set()
    nodes = list(sg.nodes)
    ok = True
    for n in nodes:                       # the super-realizer creates nodes in dependency order
        if any(p.src is not None and p.src not in seen for p in inputs[n]):
            ok = False
            break
        seen.add(n)
    if ok:
        return nodes
    import networkx as nx
    index = {m: i for i, m in enumerate(nodes)}
    return list(nx.lexicographical_topological_sort(sg, key=index.__getitem__))


def _flatten(sg, inputs: dict, order: list) -> list:
    """Flatten chains of selects on one choice (a ``? :`` chain on ``choice(ops)`` gives one binary
    select per op): each outermost select gets one port per leaf, with the labels that reach it;
    a leaf no label reaches (the chain's final else) is dropped. Returns the select nodes removed."""
    users: dict = {n: [] for n in inputs}
    for n in order:
        for p in inputs[n]:
            if p.src is not None:
                users[p.src].append(n)
    key = lambda n: (sg.nodes[n].get("path"), sg.nodes[n].get("row"))  # noqa: E731
    sel = {n for n in order if sg.nodes[n].get("kind") == "select"}
    inner = {n for n in sel if len(users[n]) == 1 and users[n][0] in sel and key(users[n][0]) == key(n)}

    def labels_of(n, i, p):
        return set(p.labels) if p.labels else {tuple(sg.nodes[n].get("labels") or ())[i]}

    for root in sel - inner:
        order_labels = list(sg.nodes[root].get("labels") or ())
        flat: list = []

        def walk(n, allowed):
            for i, p in enumerate(inputs[n]):
                labs = labels_of(n, i, p) if allowed is None else labels_of(n, i, p) & allowed
                if not labs:
                    continue
                if p.src in inner and key(p.src) == key(root):
                    walk(p.src, labs)
                else:
                    flat.append(Port(p.src, p.guard, tuple(x for x in order_labels if x in labs)))
        walk(root, None)
        inputs[root] = flat
    return list(inner)


def analyse(sg) -> Analysis:
    inputs = {n: _ports(sg, n) for n in sg.nodes}
    order = _topo(sg, inputs)
    gone = set(_flatten(sg, inputs, order))
    # what reaches an output once the chains are flattened (a never-taken leaf does not)
    live, stack = set(), list(sg.graph.get("outputs", []))
    while stack:
        n = stack.pop()
        if n in live:
            continue
        live.add(n)
        stack.extend(p.src for p in inputs[n] if p.src is not None)
    live |= set(sg.graph.get("inputs", []))
    order = [n for n in order if n in live and n not in gone]
    a = Analysis(order, inputs, selects=[n for n in order if sg.nodes[n].get("kind") == "select"])
    succ: dict = {n: [] for n in order}
    for n in order:
        for i, p in enumerate(inputs[n]):
            if p.src is not None:
                succ[p.src].append((n, i))
    # A node is owned by branch (s, i) when every use of it is that branch or a node owned by it.
    # Walk backwards from the output, so that a node's users are settled first.
    for n in reversed(order):
        kind = sg.nodes[n].get("kind")
        if kind not in ("op", "select") or not succ[n]:
            continue
        owners = set()
        for user, i in succ[n]:
            if sg.nodes[user].get("kind") == "select":
                owners.add((user, i))
            elif user in a.owner:
                owners.add(a.owner[user])
            else:
                owners.add(None)
        if len(owners) == 1 and None not in owners:
            a.owner[n] = owners.pop()
    return a


def branch_source(sg, a: Analysis, sel, i):
    """The node outside branch ``i`` of ``sel`` that its ops read (None: a zero branch, or several)."""
    p = a.inputs[sel][i]
    if p.src is None:
        return None
    stack, found = [p.src], set()
    while stack:
        n = stack.pop()
        if a.owner.get(n) == (sel, i):
            stack.extend(q.src for q in a.inputs[n] if q.src is not None)
        else:
            found.add(n)
    return found.pop() if len(found) == 1 else None


def is_zero_branch(sg, a: Analysis, sel, i) -> bool:
    p = a.inputs[sel][i]
    if p.src is None:
        return True
    d = sg.nodes[p.src]
    return d.get("kind") == "op" and d.get("op") in ("zero", "none") and a.owner.get(p.src) == (sel, i)


def infer(sg, a: Analysis, input_shapes: dict, rewrite=None, select_shape=None) -> dict:
    """``{node: shape}`` at the maximum of every Elastic parameter.

    ``rewrite(node, params, in_shapes, shapes) -> (params, in_shapes)`` lets a mode build some ops at other
    sizes (PC-DARTS: candidates at C/K channels), and ``select_shape(node, shape, shapes) -> shape`` the
    shape a select gives its users. The branches of a select must agree in shape.
    """
    shapes = dict(input_shapes)
    for n in a.order:
        d = sg.nodes[n]
        kind = d.get("kind")
        if kind == "input":
            continue
        ins = [shapes[p.src] if p.src is not None else None for p in a.inputs[n]]
        if kind == "output":
            shapes[n] = ins[0]
        elif kind == "select":
            if rewrite is not None:
                _, ins = rewrite(n, None, ins, shapes)
            got = {tuple(s) for s in ins if s is not None}
            if not got:
                raise NaslError(f"every branch of choice '{d.get('path')}' is a zero", d.get("span"))
            if len({len(s) for s in got}) > 1:
                raise NaslError(f"the branches of choice '{d.get('path')}' make tensors of different ranks "
                                f"({', '.join(str(list(s)) for s in sorted(got))}); a supernet needs one",
                                d.get("span"), path=d.get("path"))
            # branches of different sizes (a width fork): the users are built for the largest, as for
            # an Elastic width; an architecture's forward slices them, a mixture zero-pads (padded)
            shapes[n] = tuple(max(dims) for dims in zip(*got))
            if len(got) > 1:
                a.padded.add(n)
            if select_shape is not None:
                shapes[n] = select_shape(n, shapes[n], shapes)
        else:
            params = at_max(d.get("params"))
            if rewrite is not None:
                params, ins = rewrite(n, params, ins, shapes)
            try:
                shapes[n] = op_shape(d["op"], params, ins)
            except ShapeError as e:
                raise NaslError(f"shape mismatch at '{n}' ({d['op']}) in the supernet: {e}",
                                d.get("span"), path=n) from None
    return shapes


def pick_tables(sg, a: Analysis):
    """``(edges, picks)``: ``{alpha key: [source per merge input]}`` of the dag nodes fed by a pick
    (PC-DARTS's beta has one entry per source), and ``{alpha key: (pick path, slot template)}`` (where
    ``derive`` writes a pick's sources and the op of each slot)."""
    edges = dict(sg.graph.get("edges") or {})
    picks: dict = {}
    for n in a.order:
        d = sg.nodes[n]
        pick = d.get("pick")
        if d.get("kind") == "op" and pick:
            key = pick[: -len(".inputs")] if pick.endswith(".inputs") else pick
            edges.setdefault(key, list(d.get("sources") or ()))
        reads = d.get("reads")
        if d.get("kind") == "select" and d.get("row") is not None and hasattr(reads, "template"):
            picks.setdefault(d["path"], (reads.pick, reads.template))
    return edges, picks


__all__ = ["pick_tables", "analyse", "infer", "branch_source", "is_zero_branch", "at_max", "at_labels", "is_elastic",
           "elastic_paths", "Analysis", "Port"]
