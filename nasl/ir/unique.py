"""Counting architectures up to equivalence.

Two architectures are equivalent when every DAG cell they realize is the
same up to the chosen equivalence and every other choice has the same value:

- ``graph``: the cells are isomorphic as labelled graphs after dropping zero
  edges and pruning nodes that are on no input-to-output path;
- ``expression``: the cells compute the same expression (NAS-Bench-201's
  ``to_unique_str``), see :func:`nasl.ir.dags.expression_key`.

A space made of one DAG with free edges and node ops (NAS-Bench-101 style) is
counted without enumeration, by Burnside's lemma over pruned structures
(:mod:`nasl.ir.dag_unique`); anything else is enumerated.
"""
from __future__ import annotations

from nasl.ir.decision_tree import Constraint, Group
from nasl.ir.counting import ENUMERATION_LIMIT, iter_valid
from nasl.ir.dag_unique import canonical_form, count_unique_dags
from nasl.ir.dags import IDENTITY, OP, ZERO, DagInfo, expression_key
from nasl.ir.errors import NaslError
from nasl.ir.symbols import CountSym, OpSym

EQUIVALENCES = ("graph", "expression")


def count_unique(space, equivalence: str = "graph") -> int:
    if equivalence not in EQUIVALENCES:
        raise NaslError(f"unknown equivalence '{equivalence}'; use one of: {', '.join(EQUIVALENCES)}")
    if not space.dags:
        raise NaslError(f"{space.name} has no dag cell, so '{equivalence}' equivalence has nothing to compare",
                        hint="count_unique works on spaces built from dag(...) cells; use size() otherwise")
    if equivalence == "graph":
        fast = _burnside_path(space)
        if fast is not None:
            return fast
    n = space.size()
    if n > ENUMERATION_LIMIT:
        raise NaslError(f"{space.name}: counting unique architectures would enumerate {n:.3g} of them "
                        f"(limit {ENUMERATION_LIMIT:.0e})")
    dag_paths = _dag_paths(space.dags)
    keyfn = expression_key if equivalence == "expression" else graph_key
    seen = set()
    for values in iter_valid(space.spec):
        key = tuple(keyfn(d, values) for d in space.dags)
        rest = tuple(sorted((p, v) for p, v in values.items() if p not in dag_paths))
        seen.add((key, rest))
    return len(seen)


def _dag_paths(dags) -> set:
    out = set()
    for d in dags:
        out.update(s.path for s in d.edges.values() if s.path)
        out.update(s.path for s in d.node_ops.values() if s.path)
        for p, slots in d.picks.values():
            out.add(p)
            out.update(s.path for s in slots if s.path)
    return out


def graph_key(info: DagInfo, values) -> tuple:
    """A canonical form of the pruned, zero-free cell under ``values``."""
    present = info.present_edges(values)
    live = info.live_nodes(present)
    keep = [k for k in range(info.inputs)] + [j for j in info.computed() if j in live]
    index = {v: i for i, v in enumerate(keep)}
    labels = [("in", k) for k in range(info.inputs)]
    outs = set(info.output_nodes(present))
    for j in keep[info.inputs:]:
        op = info.node_ops.get(j)
        lab = op.resolve(values)[1] if op is not None and op.resolve(values)[0] != IDENTITY else ""
        labels.append(("out" if j in outs else "node", lab))
    edges, elabels = [], {}
    for (i, j), (cls, label) in present.items():
        if i in index and j in index:
            e = (index[i], index[j])
            edges.append(e)
            elabels[e] = "" if cls == IDENTITY else label
    return canonical_form(len(keep), edges, labels, elabels)


def _burnside_path(space):
    """NAS-Bench-101 style: one pruned DAG, bool edges, free node ops, an edge budget."""
    if len(space.dags) != 1:
        return None
    d = space.dags[0]
    if not d.prune or d.picks or d.implicit_io or d.inputs != 1 or d.output != "last":
        return None
    flat = _flat(space.spec)
    if flat is None:
        return None
    paths, constraints = flat
    edge_paths = {}
    for e, s in d.edges.items():
        if s.path is None:
            if s.const_class == ZERO:
                continue
            return None
        if set(s.classes.values()) - {ZERO, IDENTITY} or not s.classes:
            return None
        edge_paths[s.path] = e
    domains = [None] * d.n
    for j, s in d.node_ops.items():
        if s.path is None:
            domains[j] = (s.label,)
            continue
        c = space.spec[s.path]
        if c.kind != "choice" or any(s.classes.get(v, OP) != OP for v in c.domain):
            return None
        domains[j] = tuple(c.domain)
    node_paths = {s.path for s in d.node_ops.values() if s.path}
    if paths - set(edge_paths) - node_paths:
        return None
    for j in range(1, d.n - 1):
        if domains[j] is None:
            domains[j] = ("",)
    budget = None
    for con in constraints:
        if getattr(con.sym, "tag", "") == "connected" and not con.negate:
            continue        # count_unique_dags only counts connected cells anyway
        k = _edge_budget(con, set(edge_paths))
        if k is None:
            return None
        budget = k if budget is None else min(budget, k)
    # every edge must be a free two-way choice for the structure enumeration to be exact
    for p in edge_paths:
        c = space.spec[p]
        if c.cardinality() != 2:
            return None
    return count_unique_dags(d.n, list(edge_paths.values()), domains, max_edges=budget, prune=True)


def _flat(spec):
    """``(paths, constraints)`` of a spec without conditional groups, else None."""
    paths, constraints = set(), []
    stack = [spec.root]
    while stack:
        for item in stack.pop().items:
            if isinstance(item, Group):
                if item.guard is not None:
                    return None
                stack.append(item.block)
            elif isinstance(item, Constraint):
                constraints.append(item)
            else:
                paths.add(item.path)
    return paths, constraints


def _edge_budget(con, edge_paths):
    """K for a constraint ``edges() <= K`` (or ``< K+1``) over these edges, else None."""
    sym = con.sym
    if con.negate or not isinstance(sym, OpSym) or sym.text not in ("<=", "<") or len(sym.args) != 2:
        return None
    count, k = sym.args
    if not isinstance(count, CountSym) or not isinstance(k, int) or not set(count.deps) <= edge_paths:
        return None
    return k if sym.text == "<=" else k - 1
