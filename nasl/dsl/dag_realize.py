"""Realizing a dag cell: its present edges, live nodes, merges and outputs, as graph ops."""
from __future__ import annotations

from nasl.dsl.dag_channels import join_path
from nasl.dsl.values import OpFn
from nasl.ir.dags import DagInfo
from nasl.ir.errors import InvalidArchitecture
from nasl.ir.oplib import get_op


def build_cell(interp, info: DagInfo, inputs, incoming, node_ops, merges, ctx, nprefix, node, out_merge=None,
               input_op=None):
    present = info.present_edges(ctx.values)
    live = info.live_nodes(present) if (info.prune or info.implicit_io) else set(info.computed())
    if info.prune and not info.implicit_io and not any(o in live for o in info.output_nodes(present)):
        raise InvalidArchitecture(f"the cell '{info.prefix or 'dag'}' has no path from its input to its output",
                                  node.span)
    tensors = {k: inputs[k] for k in range(info.inputs)} if not info.implicit_io else {}
    has_succ = {i for (i, _) in present}
    for j in info.computed():
        if j not in live:
            continue
        terms = []
        for i, op, where in incoming.get(j, ()):
            if (i, j) not in present or (i not in tensors):
                continue
            sub = ctx.but(nprefix=join_path(nprefix, where))
            terms.append(interp.apply(op, (tensors[i],), {}, sub, node))
        if info.implicit_io and not terms:
            terms = [inputs[0]]
        nsub = ctx.but(nprefix=join_path(nprefix, f"node[{j}]"))
        if not terms:
            src, zero = _zero_source(incoming.get(j, ()), tensors, node)
            x = interp.apply(zero, (tensors[src],), {}, nsub, node)
        elif len(terms) == 1 and merges[j].name in ("sum", "add", "mean", "concat", "concat_pad"):
            x = terms[0]
        else:
            x = interp.apply(merges[j], tuple(terms), {}, nsub, node)
        if j in node_ops:
            x = interp.apply(node_ops[j], (x,), {}, nsub, node)
        tensors[j] = x
    if info.implicit_io:
        sinks = [j for j in info.computed() if j in live and j not in has_succ]
        if not sinks:
            return inputs[0]
        outs = [tensors[j] for j in sinks]
        if len(outs) == 1:
            return outs[0]
        # the implicit output node merges the sinks as the dag's nodes merge their inputs
        return interp.apply(out_merge, tuple(outs), {}, ctx.but(nprefix=join_path(nprefix, "out")), node)
    outs = [o for o in info.output_nodes(present) if o in tensors]
    if info.output == "last":
        return tensors[info.n - 1]
    if not outs:
        raise InvalidArchitecture("the cell has no output node left", node.span)
    for o in outs:
        if o < info.inputs:     # an unread input joins the loose ends through loose_inputs=op
            tensors[o] = interp.apply(input_op, (tensors[o],), {}, ctx.but(nprefix=join_path(nprefix, f"in[{o}]")), node)
    if len(outs) == 1:
        return tensors[outs[0]]
    return interp.apply(OpFn(get_op("concat"), {}, node.span), tuple(tensors[o] for o in outs), {},
                        ctx.but(nprefix=join_path(nprefix, "out")), node)


def _zero_source(incoming, tensors, node):
    """``(source, zero op)`` for a node whose incoming edges are all zero.

    Its zeros must have the shape its edges would give: a strided zero edge (a reduction
    cell's edge from a cell input, as in RobNet or DARTS' ``none``) halves the resolution,
    so that edge's own op is applied to its source. Otherwise: zeros of the first source it
    reads, whose unstrided edge keeps its shape (input 0 for a dag of ``edge`` choices; for a
    pick, the first picked node, which in a reduction cell is already reduced when it is not a
    cell input).
    """
    for i, op, _ in incoming:
        if isinstance(op, OpFn) and op.name in ("zero", "none") and op.params.get("stride", 1) != 1 \
                and i in tensors:
            return i, op
    for i, _, _ in incoming:
        if i in tensors:
            return i, OpFn(get_op("zero"), {}, node.span)
    return 0, OpFn(get_op("zero"), {}, node.span)

