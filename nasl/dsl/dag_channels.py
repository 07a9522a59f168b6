"""Channel rules applied while a dag cell is realized (NAS-Bench-101's)."""
from __future__ import annotations

from nasl.dsl.values import OpFn
from nasl.ir.dags import DagInfo, nasbench101_widths
from nasl.ir.errors import InvalidArchitecture, NaslTypeError
from nasl.ir.oplib import get_op


def join_path(prefix, rest):
    return f"{prefix}.{rest}" if prefix else rest


def check_rule_merges(info, merges, d):
    for j, m in merges.items():
        want = ("concat",) if j == info.n - 1 else ("sum", "add")
        if not isinstance(m, OpFn) or m.name not in want:
            raise NaslTypeError(f"with channels=\"nasbench101\" node {j} must merge by {want[0]}", d.span,
                                hint="interior vertices sum their inputs; the output concatenates")


def rule_width(c, d):
    if not isinstance(c, int) or isinstance(c, bool) or c < 1:
        raise NaslTypeError(f"dag option 'width' must be a positive int, got {c!r}", d.span)
    return c


def build_nasbench101(interp, info: DagInfo, x, incoming, node_ops, merges, ctx, nprefix, node, c):
    """The cell as the official NAS-Bench-101 code builds it (``model_builder.build_module``).

    Widths come from :func:`nasbench101_widths`. Each edge from the input
    gets its own 1x1 conv-BN-ReLU projection to the consumer's width; an
    interior edge from a wider vertex keeps its first channels (``slice``).
    A vertex sums its inputs (interior ones first, the projection last) and
    applies its op, whose ``c`` becomes the vertex's width. The output
    concatenates the vertices that feed it and adds the input's projection
    to ``c`` channels if the input feeds it too.
    """
    present = info.present_edges(ctx.values)
    live = info.live_nodes(present)
    out = info.n - 1
    if out not in live:
        raise InvalidArchitecture(f"the cell '{info.prefix or 'dag'}' has no path from its input to its output",
                                  node.span)
    try:
        widths = nasbench101_widths(info.n, present, live, c)
    except ValueError as e:
        raise InvalidArchitecture(str(e), node.span) from None
    g = ctx.graph.g

    def op(name, params, inputs, where):
        return interp.apply(OpFn(get_op(name), params, node.span), tuple(inputs), {},
                            ctx.but(nprefix=join_path(nprefix, where)), node)

    tensors = {0: x}
    for j in info.computed():
        if j not in live:
            continue
        inner, projected = [], []
        for i, eop, where in incoming.get(j, ()):
            if (i, j) not in present or i not in tensors:
                continue
            t = interp.apply(eop, (tensors[i],), {}, ctx.but(nprefix=join_path(nprefix, where)), node)
            if i == 0:
                projected.append(op("conv_bn_relu", {"c": widths[j], "k": 1}, [t], where))
            elif j == out:
                inner.append(t)
            else:
                inner.append(t if widths[i] == widths[j] else op("slice", {"c": widths[j]}, [t], where))
        nsub = f"node[{j}]"
        if j == out:
            v = inner[0] if len(inner) == 1 else op("concat", {}, inner, nsub) if inner else None
            if projected:
                v = projected[0] if v is None else op("sum", {}, [v] + projected, nsub)
        else:
            terms = inner + projected
            v = terms[0] if len(terms) == 1 else op(merges[j].name, {}, terms, nsub)
        if j in node_ops:
            before = g.number_of_nodes()
            v = interp.apply(node_ops[j], (v,), {}, ctx.but(nprefix=join_path(nprefix, nsub)), node)
            if j != out:
                for n_id in list(g.nodes)[before:]:         # the vertex's ops take its width
                    params = g.nodes[n_id]["params"]
                    if "c" in params:
                        params["c"] = widths[j]
        tensors[j] = v
    return tensors[out]
