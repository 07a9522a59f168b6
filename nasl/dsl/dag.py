"""``dag(...) { edge ...; node ...; require ... }``: DAG cells.

Nodes ``0 .. inputs-1`` are the cell's inputs. Every other node merges the
terms ``op(x_i)`` of its incoming edges and may apply a node op. Edges come
from ``edge i -> j`` statements, from a node's ``edge =`` field (one per
predecessor) or from ``inputs = pick(k)`` (k distinct predecessors, one op
choice per pick). An edge whose op is ``zero``/``none`` or an unchosen
``optional`` does not exist.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.choice_forms import read, register
from nasl.dsl.dag_channels import join_path, build_nasbench101, check_rule_merges, rule_width
from nasl.dsl.dag_graph import graph_builtins
from nasl.dsl.dag_realize import build_cell
from nasl.dsl.dag_replay import memo_key, realize_once
from nasl.dsl.runtime import Deferred, kind_of
from nasl.dsl.values import (ABSENT, PLACEHOLDER, ChoiceRef, ChoiceVal, Compose, DagFn, DefFn, Merged, OpFn, OpSym, Sym,
                              Tensor, Unknown)
from nasl.ir.binding import bind_arguments
from nasl.ir.decision_tree import Choice
from nasl.ir.dags import IDENTITY, OP, ZERO, DagInfo, Slot
from nasl.ir.errors import NaslTypeError
from nasl.ir.oplib import get_op

_OPTIONS = {"nodes": None, "inputs": None, "merge": "sum", "output": "last", "prune": False,
            "implicit_io": False, "channels": None, "width": None, "loose_inputs": None}
CHANNEL_RULES = ("nasbench101",)
_LATE_OPTIONS = ("width", "loose_inputs")      # may depend on a genotype's parameters: only realization reads them
_NODE_FIELDS = ("inputs", "edge", "op", "merge")
MAX_EDGES = 20_000      # possible edges (node pairs): each is a choice point, ~50-100 us to elaborate
MAX_NODES = 200         # the most nodes within MAX_EDGES: 200 * 199 / 2 = 19,900 pairs


class Pick:
    """``pick(k)``: a node chooses k distinct predecessors as inputs; with
    ``replace=true`` the k picks are independent, so one predecessor may be
    read twice (NASNet's and ENAS's controllers sample each input separately)."""

    kind_name = "pick(k)"      # in error messages (nasl.dsl.runtime.kind_of)

    def __init__(self, k, ordered, replace=False):
        self.k, self.ordered, self.replace = k, ordered, replace


def builtin_pick(interp, ctx, node, k, ordered=False, replace=False):
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise NaslTypeError(f"pick(k) needs a positive int, got {k!r}", node.span)
    return Pick(k, bool(ordered), bool(replace))


def apply_dag(interp, f, args, kwargs, ctx, node):
    run = lambda: _apply_dag(interp, f, args, kwargs, ctx, node)     # noqa: E731
    if ctx.spec or kwargs or not args or not all(isinstance(a, Tensor) for a in args):
        return run()
    d, dctx = f.node, f.ctx
    key, keep = memo_key(d, dctx.path(d, "dag"), f.env, dctx.names, len(args), ctx.depth)
    return realize_once(ctx.graph, key, keep, dctx.node_scope(d, "dag"), args, run)


def _apply_dag(interp, f, args, kwargs, ctx, node):
    d: A.Dag = f.node
    dctx = f.ctx
    opts = _options(interp, f, len(args))
    if kwargs:
        raise NaslTypeError("a dag takes its inputs by position", node.span)
    if not all(isinstance(a, Tensor) for a in args):
        raise NaslTypeError("a dag's inputs must be tensors", node.span)
    n, n_in = opts["nodes"], opts["inputs"]
    if len(args) != n_in:
        raise NaslTypeError(f"this dag has {n_in} input node(s) but got {len(args)} input(s)", node.span)
    prefix = dctx.path(d, "dag")
    nprefix = dctx.node_scope(d, "dag")
    info = DagInfo(prefix, n, n_in, opts["output"], opts["prune"], opts["implicit_io"],
                   loose_inputs=opts["loose_inputs"] is not None)
    base = ctx.but(cprefix=dctx.cprefix, names=dctx.names, loops=dctx.loops)

    def sub(field_path, hints):
        p = f"{prefix}.{field_path}" if prefix else field_path
        np_ = f"{nprefix}.{field_path}" if nprefix else field_path
        return base.but(cprefix=p, nprefix=np_, anon_here=True, loops=(), hints=frozenset(hints))

    edge_stmts = _edge_table(interp, d, f.env, dctx, n, n_in, opts["implicit_io"])
    incoming: dict[int, list] = {}
    node_ops, merges = {}, {}
    for j in info.computed():
        fields = _node_fields(interp, d, f.env, dctx, j)
        terms = incoming.setdefault(j, [])
        if "inputs" in fields:
            pick = _eval(interp, fields["inputs"], f.env, {}, sub(f"node[{j}].inputs", ()))
            if not isinstance(pick, Pick):
                raise NaslTypeError("a node's inputs are given as pick(k)", fields["inputs"].span)
            choice = Choice(join_path(prefix, f"node[{j}].inputs"), "subset", tuple(range(j)), fields["inputs"].span,
                            frozenset({"inputs"}), k=pick.k, ordered=pick.ordered, replace=pick.replace,
                            condition=ctx.guards)
            if pick.k > j and not pick.replace:
                raise NaslTypeError(f"node {j} cannot pick {pick.k} of its {j} predecessors", fields["inputs"].span)
            chosen = _decide(interp, choice, fields["inputs"], ctx)
            slots = []
            for s in range(pick.k):
                src = chosen[s] if not ctx.spec else OpSym(_nth(s), (ChoiceRef(choice.path, choice),), "src")
                op = _edge_op(interp, fields.get("edge"), f.env, sub(f"node[{j}].edge[{s}]", ("edge",)), node,
                              src)
                slots.append(_slot(op))
                if not ctx.spec:
                    terms.append((chosen[s], op, f"node[{j}].edge[{s}]"))
            info.picks[j] = (choice.path, slots)
        else:
            preds = range(j)
            for i in preds:
                es = edge_stmts.get((i, j))
                if es is not None:
                    stmt, env2 = es
                    op = _edge_op(interp, stmt.op, env2, sub(f"edge[{i}->{j}]", ("edge",)), node, i)
                elif "edge" in fields:
                    op = _edge_op(interp, fields["edge"], f.env, sub(f"edge[{i}->{j}]", ("edge",)), node, i)
                elif edge_stmts or opts["implicit_io"]:
                    continue
                else:
                    op = OpFn(get_op("identity"), {}, d.span)
                info.edges[(i, j)] = _slot(op)
                if not ctx.spec:
                    terms.append((i, op, f"edge[{i}->{j}]"))
        if "op" in fields:
            op_ctx = sub(f"node[{j}].op", ("node",))
            op = _eval(interp, fields["op"], f.env, {_node_var(d, j): j}, op_ctx)
            _register_block(interp, op, op_ctx, node)
            node_ops[j] = op
            info.node_ops[j] = _slot(op)
        merges[j] = _merge_op(interp, fields.get("merge"), opts["merge"], f.env, d, j, sub(f"node[{j}].merge", ("merge",)))
    if opts["channels"] is not None:
        check_rule_merges(info, merges, d)
    _requires(interp, d, f.env, dctx, ctx, info)
    if ctx.spec:
        interp.dags.append(info)
        return PLACEHOLDER
    if opts["channels"] is not None:
        return build_nasbench101(interp, info, args[0], incoming, node_ops, merges, ctx, nprefix, node,
                                  rule_width(opts["width"], d))
    out_merge = _merge_op(interp, None, opts["merge"], f.env, d, None, None) if opts["implicit_io"] else None
    return build_cell(interp, info, args, incoming, node_ops, merges, ctx, nprefix, node, out_merge,
                      opts["loose_inputs"])


def _node_var(d, j):
    return d.nodes[0].var if d.nodes else "j"


def _decide(interp, choice, node, ctx):
    if ctx.spec:
        register(interp, choice, node, ctx)
        return None
    return read(ctx, choice)


def _options(interp, f, n_args):
    given = {}
    for k, e in f.node.kwargs:
        given = bind_arguments("dag", _OPTIONS, kwargs={k: e}, base=given, span=e.span, noun="option")
    opts = dict(_OPTIONS)
    for k, e in given.items():
        v = interp.eval(e, f.env, f.ctx)
        if isinstance(v, (Sym, Unknown)) and k not in _LATE_OPTIONS:
            raise NaslTypeError(f"dag option '{k}' must be known when the space is loaded", e.span)
        opts[k] = v
    if opts["inputs"] is None:
        opts["inputs"] = max(n_args, 1)
    n, n_in = opts["nodes"], opts["inputs"]
    span = f.node.span
    if not isinstance(n, int) or isinstance(n, bool):
        raise NaslTypeError("dag needs nodes=N, the number of nodes (inputs included)", span)
    if n > MAX_NODES:
        # the cost is in the n(n-1)/2 possible edges, each a choice point: 1,000 nodes took a minute and a GB
        raise NaslTypeError(f"a dag has at most {MAX_NODES:,} nodes, not {n:,}", span,
                            hint=f"{n:,} nodes have {n * (n - 1) // 2:,} possible edges; nasl elaborates "
                                 f"at most {MAX_EDGES:,} per dag")
    if not isinstance(n_in, int) or n_in < 1 or (n_in >= n and not opts["implicit_io"]):
        raise NaslTypeError(f"a dag with {n} nodes cannot have {n_in} input node(s)", span)
    out = opts["output"]
    if not (out in ("last", "concat", "loose") or isinstance(out, (list, tuple))):
        raise NaslTypeError("dag output is \"last\", \"concat\", \"loose\" or a list of nodes", span)
    if isinstance(out, (list, tuple)):
        bad = [x for x in out if not isinstance(x, int) or not (n_in <= x < n)]
        if bad:
            raise NaslTypeError(f"dag output lists node {bad[0]!r}, which is not a computed node", span)
        opts["output"] = tuple(out)
    rule = opts["channels"]
    if rule is not None:
        if rule not in CHANNEL_RULES:
            raise NaslTypeError(f"unknown channel rule {rule!r}", span, hint="channel rules: \"nasbench101\"")
        if n_in != 1 or out != "last" or not opts["prune"] or opts["implicit_io"]:
            raise NaslTypeError("channels=\"nasbench101\" needs a dag with one input, output=\"last\" "
                                "and prune=true", span)
        if opts["width"] is None:
            raise NaslTypeError("channels=\"nasbench101\" needs width=C, the cell's output channels", span)
    elif opts["width"] is not None:
        raise NaslTypeError("width=C goes with a channel rule (channels=\"nasbench101\")", span)
    if opts["loose_inputs"] is not None and (out != "loose" or opts["implicit_io"]):
        raise NaslTypeError("loose_inputs=op goes with output=\"loose\" (and explicit input nodes)", span)
    return opts


def _edge_table(interp, d, env, dctx, n, n_in, implicit):
    table = {}
    for stmt in d.edges:
        for j in range(0 if implicit else n_in, n):
            for i in range(j):
                env2 = dict(env)
                env2[stmt.src] = i
                env2[stmt.dst] = j
                if stmt.where is not None:
                    w = interp.eval(stmt.where, env2, dctx)
                    if isinstance(w, (Sym, Unknown)):
                        raise NaslTypeError("an edge's 'where' condition must be known at load time", stmt.where.span)
                    if not w:
                        continue
                if (i, j) in table:
                    raise NaslTypeError(f"two edge statements give an op for edge {i}->{j}", stmt.span)
                table[(i, j)] = (stmt, env2)
    return table


def _node_fields(interp, d, env, dctx, j):
    fields = {}
    for ns in d.nodes:
        if ns.where is not None:
            env2 = dict(env)
            env2[ns.var] = j
            w = interp.eval(ns.where, env2, dctx)
            if isinstance(w, (Sym, Unknown)):
                raise NaslTypeError("a node's 'where' condition must be known at load time", ns.where.span)
            if not w:
                continue
        for k, e in ns.kwargs:
            fields = bind_arguments(f"node {j}", _NODE_FIELDS, kwargs={k: e}, base=fields, span=e.span, noun="field")
        fields.setdefault("__var", ns.var)
    var = fields.pop("__var", None)
    if var is not None:
        fields = {k: _Bound(e, var, j) for k, e in fields.items()}
    return fields


class _Bound:
    """A node field's expression with the node variable's value attached."""

    def __init__(self, expr, var, j):
        self.expr, self.var, self.j, self.span = expr, var, j, expr.span


def _eval(interp, e, env, extra, ctx):
    env2 = dict(env)
    env2.update(extra)
    if isinstance(e, _Bound):
        env2[e.var] = e.j
        e = e.expr
    if isinstance(e, A.Name) and e.id == "optional" and "optional" not in env2:
        e = A.Call(e.span, e, (A.Name(e.span, "identity"),), ())
    return interp.eval(e, env2, ctx)


def _edge_op(interp, e, env, ctx, node, src):
    """An edge's op; its expression sees ``src``, the index of the node it reads."""
    if e is None:
        return OpFn(get_op("identity"), {}, node.span)
    op = _eval(interp, e, env, {"src": src}, ctx)
    _register_block(interp, op, ctx, node)
    return op


def _register_block(interp, op, ctx, node):
    """A block definition (``def f(...)(h) {...}``) or a dag (``def f(c) = dag(...) {...}``) as
    an edge or node op, alone or among a choice's alternatives: its choices exist once it is
    applied, so in spec mode it is applied to a placeholder here, under the guard of its
    alternative (realization applies it to the real tensor, under the same paths)."""
    if ctx.spec and _holds_block(op):
        interp.apply(op, (PLACEHOLDER,), {}, ctx, node)


def _holds_block(op) -> bool:
    if isinstance(op, DefFn):
        return op.decl.inputs is not None and len(op.decl.inputs) == 1
    if isinstance(op, DagFn):
        return True
    if isinstance(op, (ChoiceVal, Merged)):
        return any(_holds_block(v) for _, v in op.alts)
    return False


def _nth(s):
    return lambda chosen: chosen[s] if chosen is not None and len(chosen) > s else None


def _slot(op) -> Slot:
    """Summarise an edge's op for counting: constant, or which labels are zero/identity."""
    if isinstance(op, (ChoiceVal, Merged)):
        paths = {g.path for g, _ in op.alts if g is not None}
        if len(paths) == 1:
            classes = {}
            for g, v in op.alts:
                for label in g.values:
                    classes[label] = _class(v)
            return Slot(paths.pop(), classes)
    if isinstance(op, Sym):
        return Slot(op.deps[0] if op.deps else None, {})
    return Slot(None, {}, _const_label(op), _class(op))


def _class(v) -> str:
    if isinstance(v, Deferred):
        v = v.force()
    if v is ABSENT:
        return ZERO
    if isinstance(v, OpFn):
        return ZERO if v.sig.zero else IDENTITY if v.sig.identity else OP
    if isinstance(v, Compose) and all(_class(x) == IDENTITY for x in v.fns):
        return IDENTITY
    return OP


def _const_label(v) -> str:
    return getattr(v, "name", "op")


def _merge_op(interp, e, default, env, d, j, ctx):
    v = _eval(interp, e, env, {_node_var(d, j): j}, ctx) if e is not None else default
    span = e.span if e is not None else d.span
    if isinstance(v, str):
        sig = get_op(v)
        if sig is None or sig.category != "merge":
            raise NaslTypeError(f"unknown merge '{v}'", span, hint="merges: sum, mean, concat, concat_conv(c)")
        return OpFn(sig, {}, d.span)
    if not isinstance(v, (OpFn, DefFn, Sym)):
        raise NaslTypeError(f"a merge is the name of a merge op or a merge op, not {kind_of(v)}", span,
                            hint="merges: sum, mean, concat, concat_conv(c)")
    return v


def _requires(interp, d, env, dctx, ctx, info):
    if not d.requires:
        return
    env2 = dict(env)
    env2.update(graph_builtins(info, ctx))
    for r in d.requires:
        interp.exec_require(r, env2, ctx.but(cprefix=dctx.cprefix, names=dctx.names))
