"""Predicates over a dag's realized cell, for its ``require`` statements.

``edges()``, ``connected()``, ``nodes()`` and ``uses(k)`` are symbols over the
dag's edge choices in spec mode (so counting and sampling can decide them,
early where they are monotone), and plain values in realize mode.
"""
from __future__ import annotations

from nasl.dsl.values import Builtin, CountSym, FnSym
from nasl.ir.dags import OP, ZERO, DagInfo
from nasl.ir.errors import NaslTypeError


def graph_builtins(info: DagInfo, ctx) -> dict:
    """``edges()``, ``connected()``, ``nodes()`` and ``uses(k)`` over this dag."""
    deps = sorted({s.path for s in info.edges.values() if s.path} | {p for p, _ in info.picks.values()}
                  | {s.path for _, ss in info.picks.values() for s in ss if s.path})

    def present(values):
        return info.present_edges(values)

    def edges(interp, c, node):
        if ctx.spec:
            terms = [FnSym((s.path,), lambda v, s=s: s.resolve(v)[0] != ZERO) if s.path else (s.const_class != ZERO)
                     for s in info.edges.values()]
            for j, (p, slots) in info.picks.items():
                terms.extend(FnSym((p,), lambda v, p=p, s=s: len(v.get(p) or ()) > s) for s in range(len(slots)))
            return CountSym(terms)
        return len(present(ctx.values))

    def _graph_fn(tag, fn, monotone=False, arity=0):
        def f(interp, c, node, *args):
            if len(args) != arity or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                raise NaslTypeError(f"{tag}() takes {'no arguments' if not arity else 'a node number'}", node.span)
            if ctx.spec:
                bound = (lambda v: _monotone_bound(info, deps, v, lambda p: fn(p, *args))) if monotone else None
                return FnSym(deps, lambda v: fn(present(v), *args), tag, bound)
            return fn(present(ctx.values), *args)
        return f

    def uses(p, k):
        if k < info.inputs:
            return any(i == k for (i, _) in p if True) and k in _reaching(info, p)
        return k in info.live_nodes(p)

    return {
        "edges": Builtin("edges", edges),
        "connected": Builtin("connected", _graph_fn("connected", lambda p: info.connected(p), monotone=True)),
        "nodes": Builtin("nodes", _graph_fn("nodes", lambda p: len(info.live_nodes(p)))),
        "uses": Builtin("uses", _graph_fn("uses", uses, arity=1)),
    }


def _monotone_bound(info, deps, values, pred):
    """Decide a predicate that only grows with edges before every edge is chosen."""
    most = info.present_pairs(values, OP)          # undecided edges taken as present
    if not pred(most):
        return False
    if all(d in values for d in deps):
        return True
    return True if pred(info.present_pairs(values, ZERO)) else None

def _reaching(info, present):
    """Input nodes from which the output can be reached."""
    live = info.live_nodes(present)
    return {i for (i, j) in present if i < info.inputs and (j in live)}
