"""The choice constructors: choice, optional, boolean, int_range, float_range, subset, permutation.

Each is a special form: ``choice`` must not evaluate every alternative in
realize mode (an alternative may add layers), and all of them need the
static name of their site to build a path.
"""
from __future__ import annotations

import math
import sys

from nasl.dsl import ast as A
from nasl.dsl.choice_labels import SCALARS, arg_label, ast_label, is_inline, list_labels, unique_labels
from nasl.dsl.values import ABSENT, PLACEHOLDER, ChoiceRef, ChoiceVal, Sym, Tensor, Unknown
from nasl.dsl.context import SUPER
from nasl.dsl.runtime import kind_of, unknown_error
from nasl.ir.decision_tree import Choice, Guard, checked_value
from nasl.ir.errors import EmptySpaceError, NaslError, NaslTypeError

# Each choice point costs ~50-100 us to elaborate and more to count, sample and search over; past
# this many a generated file would take minutes and gigabytes instead of failing (the NAS spaces
# in examples/ have at most a few hundred)
MAX_CHOICES = 50_000


def eval_choice_form(interp, form: str, e: A.Call, env, ctx):
    path = ctx.path(e, form)
    if form == "choice":
        return _choice(interp, path, e, env, ctx)
    if form == "optional":
        return _optional(interp, path, e, env, ctx)
    args = [interp.eval(a, env, ctx) for a in e.args]
    kwargs = {k: interp.eval(v, env, ctx) for k, v in e.kwargs}
    for v in list(args) + list(kwargs.values()):
        if isinstance(v, Unknown):
            raise unknown_error(v, e)
        if isinstance(v, Sym):
            raise NaslTypeError(f"the arguments of {form}(...) must be known, not depend on another choice",
                                e.span, hint="nest the choices instead: choice(a, b) where a and b hold choices")
    try:
        choice = _BUILD[form](path, args, kwargs, e, ctx)
    except TypeError as err:
        raise NaslTypeError(f"{form}(...): {err}", e.span) from None
    return _decide(interp, choice, e, ctx)


def _decide(interp, choice: Choice, e, ctx):
    """Register (spec) or read (realize) a choice; returns a symbol or the value."""
    if ctx.spec:
        register(interp, choice, e, ctx)
        return ChoiceRef(choice.path, choice)
    return read(ctx, choice)


def register(interp, choice: Choice, e, ctx):
    old = interp.registered.get(choice.path)
    if old is not None:
        # The same body under exclusive conditions (a branch on several
        # choices) registers its choices once per branch; that is fine.
        if not _exclusive(old.condition, choice.condition):
            raise NaslError(f"two choices share the path '{choice.path}'", e.span,
                            hint="name one of them with 'as NAME'")
        shape = lambda c: (c.kind, c.domain, c.k, c.ordered, c.replace)  # noqa: E731
        if shape(old) != shape(choice):
            raise NaslError(f"the choice '{choice.path}' has different values on different branches", e.span,
                            hint="name the two choices apart with 'as NAME'")
        ctx.block.items.append(choice)
        return
    if choice.finite and choice.cardinality() == 0:
        raise EmptySpaceError(f"the choice '{choice.path}' has no alternatives", e.span)
    if len(interp.registered) >= MAX_CHOICES:
        raise NaslError(f"the space has more than {MAX_CHOICES:,} choice points", e.span,
                        hint="fresh choices in every pass of a loop or copy of a cell add up; "
                             "share one set with 'genotype'")
    interp.registered[choice.path] = choice
    ctx.block.items.append(choice)


def _exclusive(a, b) -> bool:
    """Two guard chains that can never hold together."""
    for ga in a:
        for gb in b:
            if ga.path == gb.path and not (ga.values & gb.values):
                return True
    return False


def read(ctx, choice: Choice):
    if ctx.mode == SUPER:                       # unanswered: its symbol, as in spec mode
        return ChoiceRef(choice.path, ctx.graph.registered.setdefault(choice.path, choice))
    values = ctx.values
    v = checked_value(choice, values)
    ctx.graph.read.add(choice.path)
    return v


# ------------------------------------------------------------------ choice
def _choice(interp, path, e: A.Call, env, ctx):
    if e.kwargs:
        raise NaslTypeError(f"choice(...) takes no keyword arguments; got '{e.kwargs[0][0]}'", e.span,
                            hint="name a choice with 'as': choice(a, b) as name")
    if not e.args:
        raise EmptySpaceError("choice() needs at least one alternative", e.span)
    # choice(LIST): alternatives are the list's (already evaluated) values
    if len(e.args) == 1 and not isinstance(e.args[0], A.Labelled):
        only = interp.eval(e.args[0], env, ctx) if not is_inline(interp, e.args[0], env) else None
        if isinstance(only, (list, tuple)):
            if not only:
                raise EmptySpaceError("choice([]) has no alternatives", e.span)
            labels, kind, plain = list_labels(interp, only, e)
            hints = kind | ctx.hints if ctx.hints else kind
            choice = Choice(path, "choice", labels, e.span, hints, condition=ctx.guards)
            if ctx.mode == SUPER:
                return _listed(interp, choice, e, ctx, only, plain, known=True)
            if not ctx.spec:
                label = read(ctx, choice)
                return only[labels.index(label)]
            return _listed(interp, choice, e, ctx, only, plain)
    given = [arg_label(interp, a, env, ctx) for a in e.args]
    labels = unique_labels([label for label, _ in given], e)
    if ctx.mode == SUPER:
        choice = Choice(path, "choice", tuple(labels), e.span, frozenset(), condition=ctx.guards)
    elif not ctx.spec and not _has(labels, ctx.values.get(path)):
        # a tied genotype's use: what each use gives was unknown when its choices were made, so
        # they were labelled by their text ("2*c"), which is what the architecture holds
        text = unique_labels([ast_label(a, interp.program) for a in e.args], e)
        if _has(text, ctx.values.get(path)):
            labels = text
    kind = "value" if all(is_value for _, is_value in given) else "op"
    choice = Choice(path, "choice", tuple(labels), e.span, frozenset({kind}) | ctx.hints, condition=ctx.guards)

    def alt_ctx(c, i):
        # choices inside an alternative live under its label: expr.Add.expr_2
        seg = _fmt_label(labels[i])
        return c.but(cprefix=f"{path}.{seg}" if path else seg, nprefix=f"{ctx.nprefix}" if ctx.nprefix else "",
                     anon_here=False, loops=())
    if ctx.mode == SUPER:
        return _alternatives(interp, choice, e, ctx, lambda i, sub: interp.eval(e.args[i], env, alt_ctx(sub, i)),
                             known=True)
    if not ctx.spec:
        i = labels.index(read(ctx, choice))
        return interp.eval(e.args[i], env, alt_ctx(ctx, i))
    return _alternatives(interp, choice, e, ctx, lambda i, sub: interp.eval(e.args[i], env, alt_ctx(sub, i)))


def _has(labels, v) -> bool:
    return any(type(x) is type(v) and x == v for x in labels)


def _fmt_label(label) -> str:
    if isinstance(label, bool):
        return "true" if label else "false"
    return str(label)


def _alternatives(interp, choice: Choice, e, ctx, value_of, known=False):
    if not known:
        register(interp, choice, e, ctx)
    else:                                   # super mode: the spec registered it, with its real labels
        choice = interp.registered.setdefault(choice.path, choice)
    alts, plain = [], True
    for i, label in enumerate(choice.domain):
        guard = Guard(choice.path, frozenset([label]), str(label))
        sub, group = ctx.guarded(guard)
        v = value_of(i, sub)
        interp.keep(ctx, group)
        alts.append((guard, v))
        if not (isinstance(v, SCALARS) and v == label and type(v) is type(label)):
            plain = False
    if plain:
        return ChoiceRef(choice.path, choice)
    return _computed(alts, choice, ctx)


def _listed(interp, choice: Choice, e, ctx, values, plain: bool, known=False):
    """``choice(LIST)``: :func:`_alternatives` for values computed already.

    Nothing is evaluated under an alternative, so nothing can register there:
    no guarded scopes are opened (four per layer of a generated chain were a
    fifth of its load), and the guards are made only for a value that needs them.
    """
    if not known:
        register(interp, choice, e, ctx)
    else:
        choice = interp.registered.setdefault(choice.path, choice)
    if plain:
        return ChoiceRef(choice.path, choice)
    alts = [(Guard(choice.path, frozenset([label]), str(label)), v) for label, v in zip(choice.domain, values)]
    return _computed(alts, choice, ctx)




def _computed(alts, choice, ctx):
    """The value of a choice whose alternatives ``alts`` are not its own labels."""
    if all(isinstance(v, Tensor) for _, v in alts):
        if ctx.mode == SUPER:
            return ctx.graph.add_select(alts, ctx)
        return PLACEHOLDER          # a choice among computed values: a tensor either way
    return ChoiceVal(choice.path, choice, alts)


# builtins whose call gives a list: choice(range(n)) chooses among its elements


# ---------------------------------------------------------------- optional
def _optional(interp, path, e, env, ctx):
    if len(e.args) != 1 or e.kwargs:
        raise NaslTypeError("optional(x) takes one argument", e.span)
    choice = Choice(path, "bool", (False, True), e.span, frozenset({"optional"}) | ctx.hints,
                    condition=ctx.guards)
    if not ctx.spec and ctx.mode != SUPER:
        return interp.eval(e.args[0], env, ctx) if read(ctx, choice) else ABSENT
    if ctx.spec:
        register(interp, choice, e, ctx)
    g_yes = Guard(path, frozenset([True]), "true")
    sub, group = ctx.guarded(g_yes)
    v = interp.eval(e.args[0], env, sub)
    interp.keep(ctx, group)
    return ChoiceVal(path, choice, [(g_yes, v), (Guard(path, frozenset([False]), "false"), ABSENT)])


# ----------------------------------------------------------- simple kinds
def _int_range(path, args, kw, e, ctx):
    lo, hi, step, log = _args(args, kw, ("low", "high", "step", "log"), (None, None, 1, False))
    for n, v in (("low", lo), ("high", hi), ("step", step)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"'{n}' must be an int, got {_value(v)}")
    if step <= 0:
        raise TypeError("'step' must be positive")
    if hi < lo:
        raise EmptySpaceError(f"int_range({lo}, {hi}) is empty: high < low", e.span)
    if (hi - lo) // step >= sys.maxsize:
        raise TypeError(f"more than {sys.maxsize:,} values")
    if log and lo <= 0:
        raise TypeError("a log-scale range needs low > 0")
    return Choice(path, "int", range(lo, hi + 1, step), e.span, frozenset({"value"}) | ctx.hints,
                  log=bool(log), condition=ctx.guards)


def _float_range(path, args, kw, e, ctx):
    lo, hi, log = _args(args, kw, ("low", "high", "log"), (None, None, False))
    for n, v in (("low", lo), ("high", hi)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not _finite(v):
            raise TypeError(f"'{n}' must be a finite number, got {_value(v)}")
    if hi < lo:
        raise EmptySpaceError(f"float_range({lo}, {hi}) is empty: high < low", e.span)
    if log and lo <= 0:
        raise TypeError("a log-scale range needs low > 0")
    return Choice(path, "float", (float(lo), float(hi)), e.span, frozenset({"value"}) | ctx.hints,
                  log=bool(log), condition=ctx.guards)


def _value(v) -> str:
    """A number or a string as itself, anything else by its kind."""
    if isinstance(v, (int, float, str)) and not isinstance(v, bool):
        return repr(v)
    return kind_of(v)


def _finite(v) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:       # an int too large for a float
        return False


def _boolean(path, args, kw, e, ctx):
    _args(args, kw, (), ())
    return Choice(path, "bool", (False, True), e.span, frozenset({"value"}) | ctx.hints, condition=ctx.guards)


def _subset(path, args, kw, e, ctx):
    items, k, ordered, replace = _args(args, kw, ("items", "k", "ordered", "replace"), (None, None, False, False))
    items = _items(items)
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 0):
        raise TypeError(f"'k' must be a non-negative int, got {k!r}")
    if replace and k is None:
        raise TypeError("replace=true needs k, the number of items to pick")
    if k is not None and k > len(items) and not replace:
        raise EmptySpaceError(f"cannot pick {k} of {len(items)} items", e.span)
    return Choice(path, "subset", items, e.span, frozenset({"subset"}) | ctx.hints, k=k, ordered=bool(ordered),
                  replace=bool(replace), condition=ctx.guards)


def _permutation(path, args, kw, e, ctx):
    (items,) = _args(args, kw, ("items",), (None,))
    return Choice(path, "permutation", _items(items), e.span, frozenset({"permutation"}) | ctx.hints,
                  condition=ctx.guards)


def _items(items):
    if isinstance(items, range):
        items = list(items)
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"expected a list of items, got {items!r}")
    for x in items:
        if not isinstance(x, SCALARS) or isinstance(x, Tensor):
            raise TypeError("items must be numbers or strings")
    if len(set(items)) != len(items):
        raise TypeError("items must be distinct")
    return tuple(items)


def _args(args, kw, names, defaults):
    if len(args) > len(names):
        raise TypeError(f"takes at most {len(names)} argument(s)")
    out = dict(zip(names, args))
    for k, v in kw.items():
        if k not in names:
            raise TypeError(f"unknown argument '{k}'")
        if k in out:
            raise TypeError(f"argument '{k}' given twice")
        out[k] = v
    res = []
    for n, d in zip(names, defaults):
        if n not in out and d is None and n in ("low", "high", "items"):
            raise TypeError(f"missing argument '{n}'")
        res.append(out.get(n, d))
    return res


_BUILD = {"int_range": _int_range, "float_range": _float_range, "boolean": _boolean, "subset": _subset,
          "permutation": _permutation}
