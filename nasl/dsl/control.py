"""Loops and branches, including those that depend on a choice.

In spec mode a branch on a choice runs every side under its guard, so the
choices inside each side become conditional; variables assigned differently
on the two sides are merged into a value that depends on the choice.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.values import Merged, Sym, Unknown
from nasl.ir.choices import Guard
from nasl.ir.errors import NaslTypeError


def exec_for(interp, s: A.For, env, ctx):
    from nasl.dsl.interp import _kind, _unknown_error
    it = interp.eval(s.iterable, env, ctx)
    if isinstance(it, Unknown):
        raise _unknown_error(it, s.iterable)
    if isinstance(it, Sym):
        raise NaslTypeError("a for loop needs a known list; this one depends on a choice", s.iterable.span,
                            hint="for a depth that is a choice, use 'repeat d { ... }'")
    if isinstance(it, range):
        it = list(it)
    if not isinstance(it, (list, tuple)):
        raise NaslTypeError(f"cannot loop over {_kind(it)}", s.iterable.span)
    for i, item in enumerate(it):
        if len(s.vars) == 1:
            env[s.vars[0]] = item
        else:
            if not isinstance(item, (list, tuple)) or len(item) != len(s.vars):
                raise NaslTypeError(f"cannot unpack {item!r} into {len(s.vars)} names", s.span)
            env.update(zip(s.vars, item))
        interp.exec_body(s.body, env, ctx.but(loops=ctx.loops + (i,)))


def exec_repeat(interp, s: A.Repeat, env, ctx):
    from nasl.dsl.interp import _unknown_error
    n = interp.eval(s.count, env, ctx)
    if isinstance(n, Unknown):
        raise _unknown_error(n, s.count)
    if not isinstance(n, Sym):
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise NaslTypeError(f"repeat needs a non-negative int, got {n!r}", s.count.span)
        for i in range(n):
            if s.var:
                env[s.var] = i
            interp.exec_body(s.body, env, ctx.but(loops=ctx.loops + (i,)))
        return
    if len(n.deps) != 1:
        raise NaslTypeError("a repeat count may depend on one choice only", s.count.span)
    path = n.deps[0]
    choice = interp.registered.get(path)
    if choice is None or not choice.finite:
        raise NaslTypeError(f"cannot repeat '{path}' times: it has no finite list of values", s.count.span)
    counts = {v: n.ev({path: v}) for v in choice.values()}
    if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts.values()):
        raise NaslTypeError("a repeat count must be a non-negative int for every value of its choice",
                            s.count.span)
    for i in range(max(counts.values(), default=0)):
        yes = frozenset(v for v, c in counts.items() if c > i)
        no = frozenset(v for v, c in counts.items() if c <= i)
        sub_ctx = ctx.but(loops=ctx.loops + (i,))
        if not no:
            if s.var:
                env[s.var] = i
            interp.exec_body(s.body, env, sub_ctx)
            continue
        g_yes = Guard(path, yes, f"> {i}")
        sub, group = sub_ctx.guarded(g_yes)
        inner = dict(env)
        if s.var:
            inner[s.var] = i
        interp.exec_body(s.body, inner, sub)
        interp.keep(ctx, group)
        _merge_env(env, [(Guard(path, no, f"<= {i}"), env), (g_yes, inner)])


def exec_if(interp, s: A.If, env, ctx):
    from nasl.dsl.interp import _Return, _unknown_error
    for k, (test_node, body) in enumerate(s.branches):
        test = interp.eval(test_node, env, ctx)
        if isinstance(test, Unknown):
            raise _unknown_error(test, test_node)
        if isinstance(test, Sym):
            rest = A.If(s.span, s.branches[k + 1:], s.orelse) if s.branches[k + 1:] else None
            _symbolic_if(interp, test, test_node, body, rest, s.orelse, env, ctx)
            return
        if test:
            interp.exec_body(body, env, ctx)
            return
    interp.exec_body(s.orelse, env, ctx)


def _symbolic_if(interp, test, test_node, body, rest, orelse, env, ctx):
    from nasl.dsl.interp import _Return, merge_values
    g_yes, g_no = interp.split_guard(test, test_node)
    sides, returns = [], []
    for guard, run in ((g_yes, lambda e, c: interp.exec_body(body, e, c)),
                       (g_no, lambda e, c: exec_if(interp, rest, e, c) if rest else interp.exec_body(orelse, e, c))):
        if guard is None:
            continue
        sub, group = ctx.guarded(guard)
        inner = dict(env)
        try:
            run(inner, sub)
        except _Return as r:
            returns.append((guard, r.value))
        interp.keep(ctx, group)
        sides.append((guard, inner))
    if returns:
        if len(returns) != len(sides):
            raise NaslTypeError("a 'return' under a choice-dependent 'if' needs every branch to return",
                                test_node.span, hint="assign in each branch and return after the 'if'")
        raise _Return(merge_values(returns))
    _merge_env(env, sides)


def _merge_env(env, sides):
    from nasl.dsl.interp import merge_values
    names = set()
    for _, e in sides:
        names.update(e)
    for name in names:
        vals = [(g, e[name]) for g, e in sides if name in e]
        if len(vals) < len(sides):
            # defined on one side only: usable after the if only where it exists
            env[name] = Merged(vals) if not all(_tensorish(v) for _, v in vals) else vals[0][1]
            continue
        first = vals[0][1]
        if all(v is first for _, v in vals):
            env[name] = first
        else:
            env[name] = merge_values(vals)


def _tensorish(v):
    from nasl.dsl.interp import _is_tensorish
    return _is_tensorish(v)
