"""Applying a value to arguments: ops, definitions, builtins, compositions, dags, choices of functions.

:data:`CALLABLES` maps the type of the value called to the function that
applies it, ``fn(interp, f, args, kwargs, ctx, node)``; the interpreter's
``apply`` is a lookup in it. A value of a type not in the table is not
callable, and the message says what it is.
"""
from __future__ import annotations

from nasl.dsl.context import SUPER, Ctx
from nasl.dsl.dag import apply_dag
from nasl.dsl.defs import apply_def
from nasl.dsl.guards import run_under
from nasl.dsl.runtime import Deferred, flatten_tensors, is_tensorish, kind_of, merge_values, unknown_error
from nasl.dsl.values import (ABSENT, PLACEHOLDER, AbsentType, Builtin, ChoiceVal, Compose, DagFn, DefFn, Merged,
                             OpFn, Sym, Tensor, Unknown)
from nasl.ir.errors import NaslTypeError
from nasl.ir.oplib import VARIADIC, is_library_op


def apply_op(interp, f: OpFn, args, kwargs, ctx: Ctx, node):
    """``conv(C, k=3)`` binds parameters; ``conv(C)(x)`` adds a layer (realize) or a placeholder (spec)."""
    flat = flatten_tensors(args)
    tensors = [a for a in flat if is_tensorish(a)]
    sig = f.sig
    if not tensors:
        params = sig.bind(args, kwargs, base=f.params, span=node.span)
        check_counts(sig, params, node.span)
        return OpFn(sig, params, node.span)
    if len(tensors) != len(flat):
        raise NaslTypeError(f"'{sig.name}': give parameters first and tensors after, "
                            f"as in {sig.name}(params)(x) or x >> {sig.name}(params)", node.span)
    if kwargs:
        raise NaslTypeError(f"'{sig.name}': give parameters first and tensors after", node.span)
    if sig.inputs != VARIADIC and len(tensors) != sig.inputs:
        raise NaslTypeError(f"'{sig.name}' takes {sig.inputs} input(s), got {len(tensors)}", node.span)
    missing = sig.missing(f.params)
    if missing:
        raise NaslTypeError(f"'{sig.name}' needs parameter '{missing[0]}'", node.span)
    if ctx.spec:
        return PLACEHOLDER
    if len(tensors) == 1 and (sig.identity or sig.name in ("sum", "add", "mean", "concat")):
        return tensors[0]       # wiring, not a layer
    if sig.name == "tap":
        ctx.graph.add_tap(tensors[0], f.params["name"], node.span)
        return tensors[0]
    params = sig.resolved(f.params)
    if ctx.mode == SUPER:
        from nasl.dsl.super_mode import check_ref
        for k, v in params.items():
            check_ref(v, f.span or node.span)
            if isinstance(v, (Unknown, Tensor)):
                raise NaslTypeError(f"'{sig.name}': parameter '{k}' has no concrete value", node.span)
        return ctx.graph.add_super_op(ctx, sig.name, params, tensors, f.span or node.span)
    for k, v in params.items():
        if isinstance(v, (Sym, Unknown, Tensor)):
            raise NaslTypeError(f"'{sig.name}': parameter '{k}' has no concrete value", node.span)
    check_counts(sig, params, f.span or node.span)     # a width that depended on a choice is known now
    return ctx.graph.add_op(ctx.nprefix, sig.name, params, tensors, f.span or node.span)


def _apply_builtin(interp, f: Builtin, args, kwargs, ctx, node):
    try:
        return f.fn(interp, ctx, node, *args, **kwargs)
    except TypeError:
        _check_builtin_args(f, (interp, ctx, node) + args, kwargs, node)
        raise


def _apply_compose(interp, f: Compose, args, kwargs, ctx, node):
    if kwargs or len(args) != 1:
        raise NaslTypeError("a composition 'f >> g' takes exactly one input", node.span)
    v = args[0]
    for fn in f.fns:
        v = interp.apply(fn, (v,), {}, ctx, node)
    return v


def _apply_dag(interp, f: DagFn, args, kwargs, ctx, node):
    if ctx.mode == SUPER and not kwargs:
        from nasl.dsl.super_dag import super_cell
        return super_cell(interp, f, args, ctx, node)
    return apply_dag(interp, f, args, kwargs, ctx, node)


def _apply_absent(interp, f, args, kwargs, ctx, node):
    """An optional layer that is absent passes its one input through."""
    if all(is_tensorish(a) for a in args) and len(args) == 1 and not kwargs:
        return args[0]
    return ABSENT


def _apply_alternatives(interp, f, args, kwargs, ctx, node):
    """A choice of functions (or a value merged across branches): apply each under its guard."""
    out = []
    for guard, v in f.alts:
        chain = () if guard is None else getattr(guard, "guards", (guard,))
        out.append((guard, run_under(interp, ctx, chain, lambda sub: interp.apply(v, args, kwargs, sub, node))))
    return merge_values(out, ctx, node.span)


def _apply_deferred(interp, f: Deferred, args, kwargs, ctx, node):
    return interp.apply(f.force(), args, kwargs, ctx, node)


CALLABLES = {
    OpFn: apply_op,
    DefFn: apply_def,
    Builtin: _apply_builtin,
    Compose: _apply_compose,
    DagFn: _apply_dag,
    AbsentType: _apply_absent,
    ChoiceVal: _apply_alternatives,
    Merged: _apply_alternatives,
    Deferred: _apply_deferred,
}


def not_callable(f, node) -> NaslTypeError:
    """The error for calling ``f``, a value of a type not in :data:`CALLABLES`."""
    if isinstance(f, Unknown):
        return unknown_error(f, node)
    if isinstance(f, Tensor):
        return NaslTypeError("a tensor is not a function; did you mean 'x >> f' instead of 'x(f)'?", node.span)
    return NaslTypeError(f"{kind_of(f)} is not callable", node.span)


def _check_builtin_args(f: Builtin, args, kwargs, node):
    """Blame the call, not nasl, when a builtin's TypeError is a wrong number or name of arguments."""
    import inspect
    try:
        inspect.signature(f.fn).bind(*args, **kwargs)
    except TypeError as err:
        raise NaslTypeError(f"{f.name}(...): {err}", node.span) from None


# parameters of the library's ops that count channels, features, groups or heads: a float there
# (a width multiplier, C * 0.75) used to reach the compiler and fail as a "shape mismatch"
_CHANNELS = ("c", "n")
_COUNTS = _CHANNELS + ("groups", "heads", "parts")


def check_counts(sig, params: dict, span):
    """A library op's channel count (or groups, heads, parts) must be an integer."""
    if not is_library_op(sig.name):
        return
    for k in _COUNTS:
        v = params.get(k)
        if isinstance(v, float):
            what = "channel count" if k in _CHANNELS else f"'{k}'"
            raise NaslTypeError(f"'{sig.name}': the {what} must be an integer, got {v!r}; "
                                "use int(), round() or make_divisible()", span,
                                hint=f"e.g. {sig.name}(make_divisible(C * 0.75)) rounds to a multiple of 8")
