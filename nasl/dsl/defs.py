"""Calling definitions: binding parameters, running bodies, and the tie rule.

A plain call makes *fresh* choices: each use gets its own choice paths,
prefixed by the call site. A ``genotype`` is *tied*: its choices are
registered once under the genotype's name, and every use reads those same
answers while building layers (weights) of its own.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.context import SPEC, Ctx
from nasl.dsl.runtime import Deferred, checked, run_body
from nasl.dsl.values import PLACEHOLDER, Builtin, ChoiceVal, Compose, DagFn, DefFn, Merged, OpFn, Tensor, Unknown
from nasl.ir.binding import bind_arguments
from nasl.ir.decision_tree import Block, Group
from nasl.ir.errors import NaslTypeError


# a supernet expands every side of a recursion: past a few levels that is exponential (MetaQNN)
MAX_SUPER_RECURSION = 4


def bind_params(interp, decl: A.DefDecl, args, kwargs, node, *, partial=False, base=None) -> dict:
    """The definition's parameters bound to a call's arguments; unless ``partial``, defaults fill the rest."""
    params = decl.params or ()
    out = bind_arguments(f"'{decl.name}'", [p.name for p in params], args, kwargs, base=base, span=node.span)
    if not partial:
        for p in params:
            if p.name not in out:
                if p.default is None:
                    raise NaslTypeError(f"'{decl.name}' needs parameter '{p.name}'", node.span)
                out[p.name] = interp.eval(p.default, {}, _global_ctx(interp))
    return out


def _global_ctx(interp):
    return Ctx(SPEC, block=Block())


def apply_def(interp, f: DefFn, args, kwargs, ctx, node):
    decl = f.decl
    is_tensor = bool(args) and all(isinstance(a, Tensor) for a in args)
    if f.site is None:
        # the parameter list: cell(c)
        if is_tensor and not decl.params and decl.inputs is not None:
            bound = _bind(interp, f, (), {}, ctx, node)
            return apply_def(interp, bound, args, kwargs, ctx, node)
        return _bind(interp, f, args, kwargs, ctx, node)
    # the input list: cell(c)(h)
    if decl.inputs is None:
        raise NaslTypeError(f"'{decl.name}' is already applied; it is defined as an expression", node.span)
    if kwargs:
        raise NaslTypeError(f"'{decl.name}' takes its inputs by position", node.span)
    if len(args) != len(decl.inputs):
        raise NaslTypeError(f"'{decl.name}' takes {len(decl.inputs)} input(s) "
                            f"({', '.join(p.name for p in decl.inputs)}), got {len(args)}", node.span)
    if ctx.spec and f.genotype:
        return PLACEHOLDER          # a tied use: its choices were registered with the genotype
    env = dict(f.args)
    env.update({p.name: a for p, a in zip(decl.inputs, args)})
    return _run(interp, f, ctx, node, env, False)


def _bind(interp, f: DefFn, args, kwargs, ctx, node):
    decl = f.decl
    bound = bind_params(interp, decl, args, kwargs, node, base=f.args)
    if f.genotype:
        site = (f.genotype, ctx.node_scope(node, f.genotype))
    else:
        site = (ctx.path(node, decl.name), ctx.node_scope(node, decl.name))
    g = DefFn(decl, bound, site, f.genotype, f.globals)
    if decl.inputs is not None:
        return g
    if ctx.spec and f.genotype:
        return _TIED_USE
    return run_expr_def(interp, g, ctx, node)


def run_expr_def(interp, f: DefFn, ctx, node):
    if f.site is None:
        f = DefFn(f.decl, f.args, (ctx.path(node, f.decl.name), ctx.node_scope(node, f.decl.name)),
                  f.genotype, f.globals)
    env = dict(f.args or {})
    return _run(interp, f, ctx, node, env, True)


def _run(interp, f: DefFn, ctx, node, env: dict, expr: bool):
    """Run a body in the definition's own scope; deferred under a condition in spec mode."""
    decl = f.decl
    interp.check_depth(ctx, node, decl.name)
    cprefix, nprefix = f.site
    sub = ctx.but(cprefix=cprefix, nprefix=nprefix, loops=(), names=interp.names_for(decl, decl.body,
                                                                                   decl.inputs is None),
                  depth=ctx.depth + 1, anon_here=False, hints=frozenset(), trace=ctx.trace + (decl.name,))
    if ctx.mode == "super" and ctx.guards and ctx.trace.count(decl.name) >= MAX_SUPER_RECURSION:
        from nasl.ir.errors import NotRelaxable
        raise NotRelaxable(f"'{decl.name}' recurses under a choice more than {MAX_SUPER_RECURSION} levels deep; "
                           "a supernet would hold every expansion", node.span,
                           hint="use mode='bank', which compiles each architecture and shares weights by node")
    if not (ctx.spec and ctx.guards and decl.name in ctx.trace):
        if expr:
            return checked(lambda s: interp.eval(decl.body, env, s), sub, decl, node)
        return checked(lambda s: run_body(interp, decl, env, s), sub, decl, node)

    from nasl.dsl import lazy      # only spaces with conditional recursion need it
    # Under a condition, expand only when the spec is walked there: this is
    # what makes recursive rules cheap to load. Equal calls share one
    # elaboration, moved to each site's paths (nasl.dsl.lazy).
    site = lazy.Site(interp, decl, node, env, expr, sub, lazy.memo_key(decl, f.globals, env, sub))
    group = Group(None, thunk=site.force, site=cprefix, key=_shape_key(decl, f.args), origin=site)
    d = site.deferred = Deferred(site.force, group)
    ctx.block.items.append(group)
    return d


def _shape_key(decl, args):
    """Two expansions of one definition with equal arguments have the same choices (up to paths)."""
    try:
        items = tuple(sorted((k, v) for k, v in (args or {}).items()
                             if isinstance(v, (int, float, str, bool, tuple))))
        if len(items) != len(args or {}):
            return None
        hash(items)
        return (id(decl), items)
    except TypeError:
        return None


def _tied_noop(interp, ctx, node, *args, **kwargs):
    return PLACEHOLDER


_TIED_USE = Builtin("tied-use", _tied_noop)


def declare_genotype(interp, name: str, value, node, ctx):
    """Register a genotype's choices once, with per-use parameters unknown."""
    if not isinstance(value, DefFn) or value.site is not None and value.decl.inputs is None:
        raise NaslTypeError(f"genotype '{name}' must name a definition, e.g. genotype {name} = cell",
                            node.span)
    decl = value.decl
    partial = dict(value.args or {})
    g = DefFn(decl, partial, None, name, value.globals)
    if not ctx.spec:
        return g
    full = dict(partial)
    for p in decl.params or ():
        if p.name not in full:
            full[p.name] = Unknown(p.name) if p.default is None else interp.eval(p.default, {}, ctx)
    f = DefFn(decl, full, (name, name), None, value.globals)
    if decl.inputs is not None:
        env = dict(full)
        env.update({p.name: PLACEHOLDER for p in decl.inputs})
        _run(interp, f, ctx, node, env, False)
    else:
        v = run_expr_def(interp, f, ctx, node)
        n_in = _arity(interp, v)
        if n_in:
            interp.apply(v, (PLACEHOLDER,) * n_in, {}, ctx.but(cprefix=name, nprefix=name,
                                                              names={}, loops=()), node)
    return g


def _arity(interp, v):
    if isinstance(v, DagFn):
        return _dag_inputs(interp, v)
    if isinstance(v, (OpFn, Compose)):
        return 1
    if isinstance(v, DefFn) and v.decl.inputs is not None:
        return len(v.decl.inputs)
    if isinstance(v, (ChoiceVal, Merged)):
        return max((_arity(interp, x) for _, x in v.alts), default=0)
    return 0


def _dag_inputs(interp, v):
    from nasl.dsl.dag import MAX_NODES
    for k, e in v.node.kwargs:
        if k == "inputs":
            n = interp.eval(e, v.env, v.ctx)
            if isinstance(n, int) and 0 < n <= MAX_NODES:
                return n        # else applying the dag says what is wrong with it
    return 1
