"""Turning a choice-dependent condition into guarded branches (spec mode).

A condition over one choice becomes one guard per side. A condition over
several choices (``alloc == "split" and b < n`` where ``n`` itself depends on
``shape``) becomes a small decision tree: a chain of guards per leaf, one
choice at a time, so that each leaf is a nest of ordinary groups. A body
that runs under several leaves registers its choices once per leaf; the
leaves are mutually exclusive, so at most one copy is ever active.
"""
from __future__ import annotations

from nasl.ir.decision_tree import AllOf, Guard, INACTIVE
from nasl.ir.errors import NaslTypeError

MAX_COMBINATIONS = 10_000


def split(interp, test, node) -> list:
    """``[(guards, truth)]`` covering every assignment of the test's choices."""
    deps = list(test.deps)
    domains = []
    total = 1
    for p in deps:
        choice = interp.registered.get(p)
        if choice is None or not choice.finite:
            raise NaslTypeError(f"cannot branch on '{p}': it has no finite list of values", node.span)
        total *= choice.cardinality() + (1 if choice.condition else 0)
        if total > MAX_COMBINATIONS:     # checked before listing the values: there may be billions
            raise too_many(deps, "condition", node)
        vals = list(choice.values())
        if choice.condition:
            vals.append(INACTIVE)       # the choice may not exist on this path
        domains.append(vals)
    try:
        return _tree(test, deps, domains, 0, {})
    except NaslTypeError as e:
        raise e.at(node.span)


def too_many(deps, what, node) -> NaslTypeError:
    if len(deps) == 1:
        return NaslTypeError(f"this {what} depends on '{deps[0]}', which has more than {MAX_COMBINATIONS:,} values",
                             node.span, hint="give the choice fewer values")
    return NaslTypeError(f"this {what} depends on too many combinations of choices ({', '.join(deps)})",
                         node.span, hint="combine the decisions into one named choice")


def _tree(test, deps, domains, k, fixed):
    if k == len(deps):
        try:
            return [((), bool(test.ev(fixed)))]
        except NaslTypeError as e:
            when = ", ".join(f"{p} = {v}" for p, v in fixed.items())
            raise NaslTypeError(f"{e.message}, e.g. when {when}" if when else e.message) from None
    p = deps[k]
    groups: dict = {}
    order = []
    for v in domains[k]:
        if v is not INACTIVE:
            fixed[p] = v
        sub = _tree(test, deps, domains, k + 1, fixed)
        fixed.pop(p, None)
        key = _shape(sub)
        if key not in groups:
            groups[key] = ([], sub)
            order.append(key)
        groups[key][0].append(v)
    if len(order) == 1:
        return groups[order[0]][1]          # this choice does not matter here
    out = []
    for key in order:
        vals, sub = groups[key]
        g = Guard(p, frozenset(vals), _text(vals))
        out.extend(((g,) + chain, truth) for chain, truth in sub)
    return out


def _shape(sub):
    return tuple((tuple((g.path, g.values) for g in chain), truth) for chain, truth in sub)


def _text(vals):
    return " | ".join("inactive" if v is INACTIVE else str(v) for v in vals)


def run_under(interp, ctx, chain, fn):
    """Run ``fn(sub_ctx)`` inside nested groups for ``chain``; keeps non-empty groups."""
    if not chain:
        return fn(ctx)
    sub, group = ctx.guarded(chain[0])
    try:
        return run_under(interp, sub, chain[1:], fn)
    finally:
        interp.keep(ctx, group)


def as_guard(chain):
    """One guard object for a chain (for merged values)."""
    return chain[0] if len(chain) == 1 else AllOf(chain)
