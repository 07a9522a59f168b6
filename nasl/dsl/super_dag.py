"""A dag cell in super-realize mode: every possible edge, and merges that restrict decides.

An edge chosen by ``edge i -> j: choice(...)`` is built once, its op a select.
For an unordered ``pick(k)``, DARTS shares weights by source, not by slot: one
candidate per (node, source), whose choices answer by the slot the source
holds in the picked set (:class:`~nasl.ir.supergraph.PickSlot`). Each node's
merge takes every candidate; ``SuperGraph.restrict`` keeps the edges present
in an architecture and applies realization's rules (dag_realize.py).
"""
from __future__ import annotations

from nasl.dsl import dag as D
from nasl.dsl.dag_channels import join_path
from nasl.dsl.super_mode import pick_slot_rewrite
from nasl.dsl.values import ChoiceRef, ChoiceVal, Merged, OpFn, OpSym, Tensor
from nasl.ir.decision_tree import Choice, Guard
from nasl.ir.dags import DagInfo
from nasl.ir.errors import NotRelaxable, NaslTypeError
from nasl.ir.oplib import get_op
from nasl.ir.supergraph import PickSlot, zero_params

_ELIDED = ("sum", "add", "mean", "concat", "concat_pad")


def super_cell(interp, f, args, ctx, node):
    d = f.node
    dctx = f.ctx
    opts = D._options(interp, f, len(args))
    n, n_in = opts["nodes"], opts["inputs"]
    if len(args) != n_in or not all(isinstance(a, Tensor) for a in args):
        raise NaslTypeError(f"this dag has {n_in} input node(s) but got {len(args)} input(s)", node.span)
    for opt, bad in (("channels", None), ("prune", False), ("implicit_io", False), ("loose_inputs", None)):
        if opts[opt] != bad:
            raise NotRelaxable(f"a supernet cannot share weights over a dag with {opt}={opts[opt]!r} yet "
                               "(its live nodes and channels depend on the whole architecture)", d.span,
                               hint="use mode='bank', which compiles each architecture and shares weights by node")
    if opts["output"] == "loose":
        raise NotRelaxable("a supernet cannot join a dag with output=\"loose\" yet (its outputs depend on the "
                           "whole architecture)", d.span, hint="use mode='bank'")
    prefix, nprefix = dctx.path(d, "dag"), dctx.node_scope(d, "dag")
    info = DagInfo(prefix, n, n_in, opts["output"], opts["prune"], opts["implicit_io"])
    sb = ctx.graph
    k = len(sb.g.graph["dags"])
    sb.g.graph["dags"].append(info)
    base = ctx.but(cprefix=dctx.cprefix, names=dctx.names, loops=dctx.loops)

    def sub(cpath, npath, hints):
        return base.but(cprefix=join_path(prefix, cpath), nprefix=join_path(nprefix, npath), anon_here=True, loops=(),
                        hints=frozenset(hints))

    edge_stmts = D._edge_table(interp, d, f.env, dctx, n, n_in, False)
    tensors = {i: args[i] for i in range(n_in)}
    for j in info.computed():
        fields = D._node_fields(interp, d, f.env, dctx, j)
        terms, pick = [], None
        if "inputs" in fields:
            p = D._eval(interp, fields["inputs"], f.env, {}, sub(f"node[{j}].inputs", f"node[{j}].inputs", ()))
            if not isinstance(p, D.Pick):
                raise NaslTypeError("a node's inputs are given as pick(k)", fields["inputs"].span)
            if p.ordered or p.replace:
                raise NotRelaxable("a supernet shares a pick's weights by source, which needs an unordered pick "
                                   "of distinct inputs", fields["inputs"].span, hint="use mode='bank'")
            pick = join_path(prefix, f"node[{j}].inputs")
            choice = interp.registered.setdefault(pick, Choice(pick, "subset", tuple(range(j)), fields["inputs"].span,
                                                               frozenset({"inputs"}), k=p.k))
            slots = []
            for s in range(p.k):        # the slots' ops as realization reads them, for which edges are present
                src = OpSym(D._nth(s), (ChoiceRef(pick, choice),), "src")
                op = D._edge_op(interp, fields.get("edge"), f.env, sub(f"node[{j}].edge[{s}]", "", ()), node, src)
                slots.append(D._slot(op))
            info.picks[j] = (pick, slots)
            for i in range(j):
                if i not in tensors:
                    continue
                p0, np0 = join_path(prefix, f"node[{j}].edge[0]"), join_path(nprefix, f"node[{j}].src[{i}]")
                c = sub(f"node[{j}].edge[0]", f"node[{j}].src[{i}]", ("edge",))
                has = frozenset(v for v in choice.values() if i in v)
                c = c.but(guards=c.guards + (Guard(pick, has, f"∋ {i}"),))
                before = len(sb.g)
                op = D._edge_op(interp, fields.get("edge"), f.env, c, node, i)
                t = _term(interp, sb, op, tensors[i], c, node, (k, j, i))
                pick_slot_rewrite(sb, before, pick, i, p0, np0, join_path(prefix, f"node[{j}]"))
                terms.append((i, t, _zero_of(op, PickSlot(pick, i, p0[:-3] + "[{}]"))))
        else:
            for i in range(j):
                es = edge_stmts.get((i, j))
                c = sub(f"edge[{i}->{j}]", f"edge[{i}->{j}]", ("edge",))
                if es is not None:
                    op = D._edge_op(interp, es[0].op, es[1], c, node, i)
                elif "edge" in fields:
                    op = D._edge_op(interp, fields["edge"], f.env, c, node, i)
                elif edge_stmts:
                    continue
                else:
                    op = OpFn(get_op("identity"), {}, d.span)
                info.edges[(i, j)] = D._slot(op)
                if i in tensors:
                    terms.append((i, _term(interp, sb, op, tensors[i], c, node, (k, j, i)), _zero_of(op, None)))
        merge = D._merge_op(interp, fields.get("merge"), opts["merge"], f.env, d, j,
                            sub(f"node[{j}].merge", f"node[{j}].merge", ("merge",)))
        x = _merge(sb, ctx, merge, terms, k, j, pick, join_path(nprefix, f"node[{j}]"), tensors, d)
        if "op" in fields:
            op_ctx = sub(f"node[{j}].op", f"node[{j}]", ("node",))
            op = D._eval(interp, fields["op"], f.env, {D._node_var(d, j): j}, op_ctx)
            x = interp.apply(op, (x,), {}, op_ctx.but(nprefix=join_path(nprefix, f"node[{j}]")), node)
            info.node_ops[j] = D._slot(op)
        tensors[j] = x
    if opts["output"] == "last":
        return tensors[n - 1]
    outs = info.output_nodes({})
    if len(outs) == 1:
        return tensors[outs[0]]
    return interp.apply(OpFn(get_op("concat"), {}, node.span), tuple(tensors[o] for o in outs), {},
                        ctx.but(nprefix=join_path(nprefix, "out")), node)


def _term(interp, sb, op, x, ctx, node, term):
    old = sb.terms
    sb.terms = old + (term,)
    try:
        return interp.apply(op, (x,), {}, ctx, node)
    finally:
        sb.terms = old


def _zero_of(op, slot_path):
    """``values -> params`` of the zero op a term takes under an architecture, or None (dag_realize's
    _zero_source: a strided zero edge gives the shape of an all-zero node)."""
    def chosen(values):
        v = op
        while isinstance(v, (ChoiceVal, Merged)):
            for g, alt in v.alts:
                if g is None or all(values.get(_path(x.path, slot_path, values)) in x.values
                                    for x in getattr(g, "guards", (g,))):
                    v = alt
                    break
            else:
                return None
        if isinstance(v, OpFn) and v.name in ("zero", "none") and v.params.get("stride", 1) != 1:
            return v.sig.resolved(v.params)
        return None
    return chosen


def _path(path, slot_path, values):
    if slot_path is not None and path == slot_path.template.format(0):
        return slot_path.resolve(values)
    return path


def _merge(sb, ctx, merge, terms, k, j, pick, scope, tensors, d):
    if not isinstance(merge, OpFn):
        raise NotRelaxable("a supernet joins a dag node's edges with a merge op (sum, mean, concat)", d.span)
    if len(terms) == 1 and merge.name in _ELIDED and pick is None and not _may_vanish(sb, k, j, terms[0][0]):
        return terms[0][1]
    nid = sb._name(scope, merge.name)
    zeros = [(i, t.node, z) for i, t, z in terms]

    def zero_source(values):
        order = zeros if pick is None else sorted(zeros, key=lambda z: _pos(values, pick, z[0]))
        for i, t, z in order:
            if pick is not None and i not in (values.get(pick) or ()):
                continue
            params = z(values)
            if params is not None:
                return t_in[i], params
        for i, t, z in order:           # as dag_realize._zero_source: the first source it reads
            if pick is None or i in (values.get(pick) or ()):
                return t_in[i], zero_params()
        return t_in[0], zero_params()
    t_in = {i: tensors[i].node for i in tensors}
    sb.g.add_node(nid, kind="op", op=merge.name, params=merge.sig.resolved(merge.params), scope=scope, rscope=scope,
                  span=d.span, guard=tuple(ctx.guards), terms=sb.terms, dag=(k, j), sources=[i for i, _, _ in terms],
                  pick=pick, zero_source=zero_source)
    for port, (_, t, _) in enumerate(terms):
        sb.g.add_edge(t.node, nid, port=port)
    return Tensor(nid)


def _may_vanish(sb, k, j, i) -> bool:
    """Whether the one edge into node j can be zero (then realization builds a zero node instead)."""
    slot = sb.g.graph["dags"][k].edges.get((i, j))
    return slot is not None and (slot.path is not None or slot.const_class == "zero")


def _pos(values, pick, i):
    chosen = list(values.get(pick) or ())
    return chosen.index(i) if i in chosen else len(chosen)


__all__ = ["super_cell"]
