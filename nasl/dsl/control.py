"""Loops and branches, including those that depend on a choice.

In spec mode a branch on a choice runs every side under its guard, so the
choices inside each side become conditional; variables assigned differently
on the two sides are merged into a value that depends on the choice.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.context import MAX_LENGTH, SUPER
from nasl.dsl.guards import MAX_COMBINATIONS, as_guard, run_under, split, too_many
from nasl.dsl.runtime import ReturnSignal, is_tensorish, kind_of, merge_values, unknown_error
from nasl.dsl.values import Merged, OpSym, Sym, Unknown
from nasl.ir.errors import NaslTypeError


def exec_for(interp, s: A.For, env, ctx):
    it = interp.eval(s.iterable, env, ctx)
    if isinstance(it, Unknown):
        raise unknown_error(it, s.iterable)
    if isinstance(it, Sym):
        raise NaslTypeError("a for loop needs a known list; this one depends on a choice", s.iterable.span,
                            hint="for a depth that is a choice, use 'repeat d { ... }'")
    if isinstance(it, range):
        it = list(it)
    if not isinstance(it, (list, tuple)):
        raise NaslTypeError(f"cannot loop over {kind_of(it)}", s.iterable.span)
    for i, item in enumerate(it):
        if len(s.vars) == 1:
            env[s.vars[0]] = item
        else:
            if not isinstance(item, (list, tuple)) or len(item) != len(s.vars):
                raise NaslTypeError(f"cannot unpack {item!r} into {len(s.vars)} names", s.span)
            env.update(zip(s.vars, item))
        interp.exec_body(s.body, env, ctx.but(loops=ctx.loops + (i,)))


def exec_repeat(interp, s: A.Repeat, env, ctx):
    n = interp.eval(s.count, env, ctx)
    if isinstance(n, Unknown):
        raise unknown_error(n, s.count)
    if isinstance(n, Sym) and ctx.mode == SUPER:
        from nasl.dsl.super_mode import super_repeat
        return super_repeat(interp, s, env, ctx, n)
    if not isinstance(n, Sym):
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            got = repr(n) if isinstance(n, (int, float, str)) else kind_of(n)
            raise NaslTypeError(f"repeat needs a non-negative int, got {got}", s.count.span)
        _check_count(n, s)
        for i in range(n):
            if s.var:
                env[s.var] = i
            interp.exec_body(s.body, env, ctx.but(loops=ctx.loops + (i,)))
        return
    for dep in n.deps:
        c = interp.registered.get(dep)
        if c is None or not c.finite:
            raise NaslTypeError(f"cannot repeat '{dep}' times: it has no finite list of values", s.count.span)
    top = _max_count(interp, n, s)
    _check_count(top, s)
    for i in range(top):
        sub_ctx = ctx.but(loops=ctx.loops + (i,))
        leaves = split(interp, OpSym(lambda c, i=i: c is not None and c > i, (n,), ">"), s.count)
        if all(truth for _, truth in leaves):
            if s.var:
                env[s.var] = i
            interp.exec_body(s.body, env, sub_ctx)
            continue
        sides = []
        for chain, truth in leaves:
            inner = dict(env)
            if truth:
                if s.var:
                    inner[s.var] = i
                run_under(interp, sub_ctx, chain, lambda c: interp.exec_body(s.body, inner, c))
            sides.append((as_guard(chain) if chain else None, inner))
        _merge_env(env, sides)


def _check_count(n, s):
    if n > MAX_LENGTH:
        raise NaslTypeError(f"cannot repeat {n:,} times; the most is {MAX_LENGTH:,}", s.count.span)


def _max_count(interp, n, s):
    from itertools import product
    total = 1
    for d in n.deps:
        total *= interp.registered[d].cardinality()
        if total > MAX_COMBINATIONS:
            raise too_many(list(n.deps), "repeat count", s.count)
    doms = [list(interp.registered[d].values()) for d in n.deps]
    top = 0
    for combo in product(*doms):
        try:
            c = n.ev(dict(zip(n.deps, combo)))
        except NaslTypeError as e:
            raise e.at(s.count.span)
        if c is None:
            continue
        if not isinstance(c, int) or isinstance(c, bool) or c < 0:
            raise NaslTypeError("a repeat count must be a non-negative int for every value of its choices",
                                s.count.span)
        top = max(top, c)
    return top


def exec_if(interp, s: A.If, env, ctx):
    for k, (test_node, body) in enumerate(s.branches):
        test = interp.eval(test_node, env, ctx)
        if isinstance(test, Unknown):
            raise unknown_error(test, test_node)
        if isinstance(test, Sym):
            rest = A.If(s.span, s.branches[k + 1:], s.orelse) if s.branches[k + 1:] else None
            _symbolic_if(interp, test, test_node, body, rest, s.orelse, env, ctx)
            return
        if test:
            interp.exec_body(body, env, ctx)
            return
    interp.exec_body(s.orelse, env, ctx)


def _symbolic_if(interp, test, test_node, body, rest, orelse, env, ctx):
    sides, returns = [], []
    for chain, truth in split(interp, test, test_node):
        inner = dict(env)

        def run(c, truth=truth, inner=inner):
            if truth:
                interp.exec_body(body, inner, c)
            elif rest is not None:
                exec_if(interp, rest, inner, c)
            else:
                interp.exec_body(orelse, inner, c)
        guard = as_guard(chain) if chain else None
        try:
            run_under(interp, ctx, chain, run)
        except ReturnSignal as r:
            returns.append((guard, r.value))
        sides.append((guard, inner))
    if returns:
        if len(returns) != len(sides):
            raise NaslTypeError("a 'return' under a choice-dependent 'if' needs every branch to return",
                                test_node.span, hint="assign in each branch and return after the 'if'")
        raise ReturnSignal(merge_values(returns, ctx, test_node.span))
    _merge_env(env, sides, ctx, test_node.span)


def _merge_env(env, sides, ctx=None, span=None):
    names = set()
    for _, e in sides:
        names.update(e)
    for name in names:
        vals = [(g, e[name]) for g, e in sides if name in e]
        if len(vals) < len(sides):
            # defined on one side only: usable after the if only where it exists
            env[name] = Merged(vals) if not all(is_tensorish(v) for _, v in vals) else vals[0][1]
            continue
        first = vals[0][1]
        if all(v is first for _, v in vals):
            env[name] = first
        else:
            env[name] = merge_values(vals, ctx, span)
