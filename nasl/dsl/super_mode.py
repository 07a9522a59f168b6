"""Super-realize: the third interpreter mode, which builds a :class:`~nasl.ir.supergraph.SuperGraph`.

It runs realize mode (real nodes, per-use genotype layers, concrete
parameters), except that a choice is not answered: reading one gives its
symbol, as in spec mode, and every side of a choice-dependent branch runs
under its guard. Each node records the guards it was built under. Where the
sides' tensors meet, a ``select`` node joins them; a parameter that depends on
a choice (a width, a kernel) becomes an :class:`~nasl.ir.supergraph.Elastic`.
What cannot be represented raises :class:`~nasl.ir.errors.NotRelaxable` at
its span.
"""
from __future__ import annotations

from nasl.dsl.builder import GraphBuilder
from nasl.dsl.guards import MAX_COMBINATIONS
from nasl.dsl.runtime import merge_values
from nasl.dsl.values import ChoiceRef, Merged, Sym, Tensor
from nasl.ir.decision_tree import AllOf, Guard
from nasl.ir.errors import NotRelaxable
from nasl.ir.supergraph import Elastic, PickSlot, SuperGraph


# a supernet holds every candidate of every branch; past this, a conditional space (MetaQNN: 200,000 nodes
# in a minute) would take minutes and gigabytes to build instead of failing at once
MAX_SUPER_NODES = 20_000
MAX_CANDIDATES = 64         # candidates of one op whose unsliceable parameters depend on choices
_BANK = "use mode='bank', which compiles each architecture and shares weights by node"


class SuperBuilder(GraphBuilder):
    """A graph builder whose nodes carry guards, and that joins alternative tensors with selects."""

    def __init__(self, registered: dict):
        super().__init__()
        self.g = SuperGraph()
        self.g.graph.update(inputs=[], outputs=[], alpha={}, dags=[], constraints=[])
        self.registered = registered            # path -> Choice, from spec mode
        self.terms: tuple = ()                  # the dag edges being built: (dag index, j, i)

    def domains(self, deps) -> dict:
        out, total = {}, 1
        for d in deps:
            c = self.registered.get(d)
            if c is None or not c.finite:
                raise KeyError(d)
            total *= c.cardinality()
            if total > MAX_COMBINATIONS:
                raise KeyError(d)
            out[d] = list(c.values())
        return out

    def merge(self, out, ctx, span=None):
        """Guarded alternatives joined (:func:`nasl.dsl.runtime.merge_values` in super mode)."""
        return merge_super(out, ctx, span)

    def add_super_op(self, ctx, op: str, params: dict, tensors, span):
        forked = [k for k, v in params.items() if isinstance(v, Sym) and not _sliceable(op, k)]
        if forked:
            return self._fork(ctx, op, params, forked, tensors, span)
        out = {}
        for k, v in params.items():
            if isinstance(v, Sym):
                try:
                    v = Elastic(v, self.domains(v.deps))
                except (KeyError, TypeError, ValueError):
                    raise NotRelaxable(f"'{op}': parameter '{k}' depends on a choice that a supernet cannot "
                                       f"share weights over", span) from None
                if not isinstance(v.max, int) or isinstance(v.max, bool):
                    raise NotRelaxable(f"'{op}': parameter '{k}' takes values a supernet cannot slice "
                                       f"({', '.join(map(str, v.options))})", span)
                for d in v.deps:
                    self.g.graph["alpha"].setdefault(d, (None, tuple(self.registered[d].values())))
            out[k] = v
        if any(t.node is None for t in tensors):
            raise NotRelaxable(f"an input of '{op}' depends on a choice in a way a supernet cannot represent "
                               "(a tensor chosen by a subset or an index)", span, hint=_BANK)
        if len(self.g) >= MAX_SUPER_NODES:
            raise NotRelaxable(f"the supernet would have more than {MAX_SUPER_NODES:,} nodes", span,
                               hint="conditional and recursive spaces grow with every branch; " + _BANK)
        nid = self._name(ctx.nprefix, op)
        self.g.add_node(nid, kind="op", op=op, params=out, scope=ctx.nprefix, rscope=ctx.nprefix, span=span,
                        guard=_flat(ctx.guards), terms=self.terms)
        for port, t in enumerate(tensors):
            self.g.add_edge(t.node, nid, port=port)
        return Tensor(nid)

    def _fork(self, ctx, op, params, forked, tensors, span):
        """A parameter no slice can share (a stride, a dropout rate): one candidate per value, and a select."""
        import itertools
        deps = list(dict.fromkeys(d for k in forked for d in params[k].deps))
        try:
            doms = self.domains(deps)
        except KeyError:
            raise NotRelaxable(f"'{op}': {', '.join(forked)} depend on choices with too many values to build "
                               "one candidate each", span, hint=f"give them a policy, e.g. policy={{'{deps[0]}': "
                               "'fixed'}") from None
        combos = list(itertools.product(*(doms[d] for d in deps)))
        if len(combos) > MAX_CANDIDATES:
            raise NotRelaxable(f"'{op}' would need {len(combos):,} candidates (one per value of "
                               f"{', '.join(deps)})", span, hint=_BANK)
        sides = []
        for combo in combos:
            at = dict(zip(deps, combo))
            concrete = {k: (params[k].ev(at) if k in forked else params[k]) for k in params}
            chain = tuple(Guard(d, frozenset([v]), str(v)) for d, v in at.items())
            t = self.add_super_op(ctx.but(guards=ctx.guards + chain), op, concrete, tensors, span)
            sides.append((chain[0] if len(chain) == 1 else AllOf(chain), t))
        return self.add_select(sides, ctx)

    def add_select(self, out, ctx, how="op"):
        """Join ``[(guard, tensor)]`` (the sides of one choice, or a tree of them) with select nodes."""
        chains = [(_flat((g,)) if g is not None else (), t) for g, t in out]
        return self._select(chains, ctx, how, 0)

    def _select(self, chains, ctx, how, depth):
        if len(chains) == 1 or all(t.node == chains[0][1].node for _, t in chains):
            return chains[0][1]
        heads = [c[depth] if len(c) > depth else None for c, _ in chains]
        if any(h is None for h in heads):
            raise NotRelaxable("alternatives here are under conditions a supernet cannot join", None)
        path = heads[0].path
        if any(h.path != path for h in heads):
            raise NotRelaxable(f"the alternatives here depend on '{path}' and '{heads[1].path}' at once", None)
        groups: dict = {}
        for (chain, t), h in zip(chains, heads):
            groups.setdefault(h.values, ([], h))[0].append((chain, t))
        branches = [(labels, self._select(sub, ctx.but(guards=ctx.guards + (h,)), how, depth + 1))
                    for labels, (sub, h) in groups.items()]
        choice = self.registered.get(path)
        labels = tuple(choice.values()) if choice is not None and choice.finite else \
            tuple(v for ls, _ in branches for v in ls)
        nid = self._name(ctx.nprefix, "select")
        self.g.add_node(nid, kind="select", op="select", path=path, row=None, reads=path, labels=labels, how=how,
                        scope=ctx.nprefix, guard=_flat(ctx.guards), terms=self.terms, params={})
        for port, (ls, t) in enumerate(branches):
            self.g.add_edge(t.node, nid, port=port, labels=frozenset(ls))
        self.g.graph["alpha"].setdefault(path, (None, labels))
        return Tensor(nid)


# parameters a slice of the largest weights can share (OFA's elastic width, kernel and expansion)
_SLICED = frozenset({"c", "n", "expand"})
_KERNEL_OPS = frozenset({"conv", "conv_bn_relu", "relu_conv_bn", "sep_conv", "dil_conv", "dw_conv", "mbconv",
                         "conv1d", "conv_1xk_kx1"})


def _sliceable(op: str, param: str) -> bool:
    return param in _SLICED or (param == "k" and op in _KERNEL_OPS)


def _flat(guards) -> tuple:
    out = []
    for g in guards:
        if isinstance(g, AllOf):
            out.extend(g.guards)
        elif g is not None:
            out.append(g)
    return tuple(out)


def merge_super(out, ctx, span=None):
    """Spec mode's merge of guarded values, in super mode: tensors meet in a select."""
    try:
        return _merge_super(out, ctx)
    except NotRelaxable as e:
        if e.span is None and span is not None:
            raise e.at(span) from None
        raise


def _merge_super(out, ctx):
    vals = [v for _, v in out]
    if vals and all(isinstance(v, Tensor) for v in vals):
        return ctx.graph.add_select(out, ctx)
    if vals and all(isinstance(v, (list, tuple)) and v and all(isinstance(x, Tensor) for x in v) for v in vals):
        n = len(vals[0])
        if any(len(v) != n for v in vals):
            raise NotRelaxable("the alternatives give different numbers of tensors", None)
        return type(vals[0])(ctx.graph.add_select([(g, v[i]) for g, v in out], ctx) for i in range(n))
    return merge_values(out)


def super_repeat(interp, s, env, ctx, n):
    """``repeat n`` with n a choice: the longest chain of blocks, block i under ``n > i``; after
    it, each variable the body changed is a depth select over the chain's states."""
    deps = list(n.deps)
    if len(deps) != 1:
        raise NotRelaxable(f"a supernet needs a repeat count that depends on one choice, not {', '.join(deps)}",
                           s.count.span)
    path = deps[0]
    choice = interp.registered.get(path)
    if choice is None or not choice.finite:
        raise NotRelaxable(f"cannot repeat '{path}' times in a supernet: it has no finite list of values",
                           s.count.span)
    labels = list(choice.values())
    counts = {v: n.ev({path: v}) for v in labels}
    top = max(c for c in counts.values() if c is not None)
    snaps = [dict(env)]
    for i in range(top):
        alive = frozenset(v for v, c in counts.items() if c is not None and c > i)
        g = Guard(path, alive, f"> {i}")
        sub = ctx.but(loops=ctx.loops + (i,), guards=ctx.guards + (g,))
        if s.var:
            env[s.var] = i
        interp.exec_body(s.body, env, sub)
        snaps.append(dict(env))
    for name in set().union(*snaps):
        by_count = [(c, snaps[c].get(name)) for c in range(top + 1)]
        vals = [v for _, v in by_count]
        if all(v is vals[0] for v in vals):
            continue
        sides = []
        for c, v in by_count:
            labs = frozenset(x for x, k in counts.items() if k == c)
            if labs and v is not None:
                sides.append((Guard(path, labs, f"= {c}"), v))
        if all(isinstance(v, Tensor) for _, v in sides):
            env[name] = ctx.graph.add_select(sides, ctx, how="depth")
        else:
            env[name] = Merged(sides)


def pick_slot_rewrite(sb: SuperBuilder, before: int, pick: str, source: int, p0: str, np0: str, alpha_key: str):
    """Rename what a pick candidate built: its choices answer by slot (PickSlot), its weights by source."""
    slot_of = lambda path: PickSlot(pick, source, path.replace(p0, p0[:-3] + "[{}]", 1))   # noqa: E731
    nodes = list(sb.g.nodes)[before:]
    for n in nodes:
        d = sb.g.nodes[n]
        d["guard"] = tuple(Guard(slot_of(g.path), g.values, g.text) if isinstance(g.path, str)
                           and g.path.startswith(p0) else g for g in d.get("guard", ()))
        if d.get("rscope", "").startswith(np0):
            d["rscope"] = (PickSlot(pick, source, ""), d["rscope"].replace(np0, np0[:-len(f"src[{source}]")]
                                                                             + "edge[{}]", 1))
        if d["kind"] == "select" and d["path"].startswith(p0):
            old = d["path"]
            d["reads"] = slot_of(old)
            d["path"] = alpha_key + old[len(p0):]
            d["row"] = source
            rows, labels = sb.g.graph["alpha"].pop(old, (None, d["labels"]))
            prev = sb.g.graph["alpha"].get(d["path"])
            sb.g.graph["alpha"][d["path"]] = (max(source + 1, prev[0] if prev else 0), labels)


def check_ref(v, span):
    if isinstance(v, ChoiceRef) and v.choice is not None and v.choice.kind in ("float", "permutation"):
        raise NotRelaxable(f"the {v.choice.kind} choice '{v.path}' cannot be relaxed", span,
                           hint=f"give it a policy: policy={{'{v.path}': 'fixed'}} or 'sample'")
