"""The choice constructors: choice, optional, boolean, int_range, float_range, subset, permutation.

Each is a special form: ``choice`` must not evaluate every alternative in
realize mode (an alternative may add layers), and all of them need the
static name of their site to build a path.
"""
from __future__ import annotations

import math
import sys

from nasl.dsl import ast as A
from nasl.dsl.values import ABSENT, PLACEHOLDER, ChoiceRef, ChoiceVal, DefFn, OpFn, Sym, Tensor, Unknown
from nasl.dsl.context import SUPER
from nasl.dsl.runtime import kind_of, unknown_error
from nasl.ir.decision_tree import Choice, Guard, checked_value
from nasl.ir.errors import EmptySpaceError, NaslError, NaslTypeError, lines_of

_SCALARS = (str, int, float, bool)
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
        only = interp.eval(e.args[0], env, ctx) if not _is_inline(interp, e.args[0], env) else None
        if isinstance(only, (list, tuple)):
            if not only:
                raise EmptySpaceError("choice([]) has no alternatives", e.span)
            labels, kind, plain = _list_labels(interp, only, e)
            hints = kind | ctx.hints if ctx.hints else kind
            choice = Choice(path, "choice", labels, e.span, hints, condition=ctx.guards)
            if ctx.mode == SUPER:
                return _listed(interp, choice, e, ctx, only, plain, known=True)
            if not ctx.spec:
                label = read(ctx, choice)
                return only[labels.index(label)]
            return _listed(interp, choice, e, ctx, only, plain)
    given = [_arg_label(interp, a, env, ctx) for a in e.args]
    labels = _unique([label for label, _ in given], e)
    if ctx.mode == SUPER:
        choice = Choice(path, "choice", tuple(labels), e.span, frozenset(), condition=ctx.guards)
    elif not ctx.spec and not _has(labels, ctx.values.get(path)):
        # a tied genotype's use: what each use gives was unknown when its choices were made, so
        # they were labelled by their text ("2*c"), which is what the architecture holds
        text = _unique([_ast_label(a, interp.program) for a in e.args], e)
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
        if not (isinstance(v, _SCALARS) and v == label and type(v) is type(label)):
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


def _list_labels(interp, values, e) -> tuple:
    """``(labels, kind hint, plain)`` of ``choice(values)``: plain when every value is its own label.

    A list is a param or a let read at many sites (``choice(units)`` in each
    of a thousand layers), and what it yields depends on the list alone, so it
    is worked out once per run; the entry holds the list, so its id is not reused.
    """
    memo = interp.list_labels
    hit = memo.get(id(values))
    if hit is not None and hit[0] is values:
        return hit[1]
    labels = tuple(_unique([_value_label(v, e) for v in values], e))
    plain = all(isinstance(v, _SCALARS) and v == label and type(v) is type(label)
                for v, label in zip(values, labels))
    kind = frozenset({"op" if any(isinstance(v, (OpFn, DefFn)) for v in values) else "value"})
    out = (labels, kind, plain)
    memo[id(values)] = (values, out)
    return out


def _computed(alts, choice, ctx):
    """The value of a choice whose alternatives ``alts`` are not its own labels."""
    if all(isinstance(v, Tensor) for _, v in alts):
        if ctx.mode == SUPER:
            return ctx.graph.add_select(alts, ctx)
        return PLACEHOLDER          # a choice among computed values: a tensor either way
    return ChoiceVal(choice.path, choice, alts)


# builtins whose call gives a list: choice(range(n)) chooses among its elements
_LIST_BUILTINS = frozenset({"range", "list", "select", "zip", "enumerate"})


def _is_inline(interp, a, env) -> bool:
    # a single inline alternative is not a list to expand: choice(conv(k=3));
    # a call of a list builtin (not shadowed by a name of the file) is a list
    if isinstance(a, A.Call) and isinstance(a.func, A.Name) and a.func.id in _LIST_BUILTINS \
            and a.func.id not in env and a.func.id not in interp.globals:
        return False
    return isinstance(a, (A.Num, A.Str, A.Bool, A.Call, A.SeqExpr))


# builtins without side effects, whose calls may be evaluated for an alternative's label
_PURE_BUILTINS = frozenset({"len", "min", "max", "abs", "int", "round", "make_divisible"})


def _arg_label(interp, a, env, ctx):
    """An alternative's label: a value expression's value, else its name or text (see _ast_label).

    ``choice(nl - 1, nl, nl + 1)`` must record 3, not the text "nl+1": an
    architecture holds numbers, and a repeat count or a width reads them. Only
    expressions that cannot add layers or choices are evaluated here (an
    alternative with an op is evaluated under its own guard, later); a label
    must be the same in spec and realize mode, which it is, since both
    evaluate it in the same scope.
    """
    if not isinstance(a, A.Labelled) and _pure(a, interp, env):
        v = interp.eval(a, env, ctx)
        # a genotype's parameter that each use gives (Unknown here) has no one value: the
        # alternative stays its text, "2*c", and each use computes it with its own c
        if isinstance(v, _SCALARS):
            return v, True
    return _ast_label(a, interp.program), isinstance(a, (A.Num, A.Str, A.Bool))


def _pure(a, interp, env) -> bool:
    t = type(a)
    if t in (A.Num, A.Str, A.Bool):
        return True
    if t is A.Name:
        if a.id in env:
            return True
        g = interp.globals.get(a.id)
        return g is not None and not isinstance(g, A.DefDecl)       # a param, not a definition to elaborate
    if t is A.BinOp:
        return _pure(a.left, interp, env) and _pure(a.right, interp, env)
    if t is A.UnaryOp:
        return _pure(a.operand, interp, env)
    if t is A.Cond:
        return all(_pure(x, interp, env) for x in (a.test, a.then, a.orelse))
    if t is A.Index:
        return _pure(a.obj, interp, env) and _pure(a.index, interp, env)
    if t is A.Call:
        f = a.func
        return (type(f) is A.Name and f.id in _PURE_BUILTINS and f.id not in env and f.id not in interp.globals
                and all(_pure(x, interp, env) for x in a.args) and all(_pure(v, interp, env) for _, v in a.kwargs))
    return False


def _ast_label(a, program):
    if isinstance(a, A.Labelled):
        return a.label
    if isinstance(a, (A.Num, A.Str, A.Bool)):
        return a.value
    if isinstance(a, A.UnaryOp) and a.op == "-" and isinstance(a.operand, A.Num):
        return -a.operand.value
    if isinstance(a, A.Name):
        return a.id
    if isinstance(a, A.Call):
        head = a.func
        while isinstance(head, A.Call):
            head = head.func
        if isinstance(head, A.Name):
            return _Head(head.id, _text(program, a.span))
    return _text(program, a.span)


class _Head(str):
    """A call's function name, with its full text to fall back on when names collide."""

    def __new__(cls, head, text):
        s = super().__new__(cls, head)
        s.text = text
        return s


def _text(program, span) -> str:
    lines = lines_of(program.source)
    if span.line == span.end_line:
        t = lines[span.line - 1][span.col - 1:span.end_col - 1]
    else:
        # a comment inside a call that spans lines is not part of its label
        t = "\n".join([_uncommented(lines[span.line - 1][span.col - 1:])]
                      + [_uncommented(x) for x in lines[span.line:span.end_line - 1]]
                      + [lines[span.end_line - 1][:span.end_col - 1]])
    return "".join(t.split())


def _uncommented(line: str) -> str:
    """``line`` up to a ``#`` that is outside a string."""
    quote, i = None, 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 1                  # an escaped character, the closing quote included
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
        i += 1
    return line


def _value_label(v, e):
    if isinstance(v, _SCALARS):
        return v
    if isinstance(v, OpFn):
        ps = ",".join(f"{k}={_short(x)}" for k, x in v.params.items())
        return _Head(v.name, f"{v.name}({ps})")
    if isinstance(v, DefFn):
        ps = ",".join(f"{k}={_short(x)}" for k, x in (v.args or {}).items())
        return _Head(v.name, f"{v.name}({ps})")
    if v is ABSENT:
        return "absent"
    raise NaslTypeError(f"cannot choose among values like {v!r}; alternatives must be numbers, strings, "
                        "ops or definitions", e.span)


def _short(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    return x if isinstance(x, (int, float, str)) else "?"


def _unique(labels, e):
    """Use bare heads where they are unique, full texts where they collide."""
    heads = [str(l) if isinstance(l, _Head) else l for l in labels]
    out = []
    for l, h in zip(labels, heads):
        if isinstance(l, _Head) and sum(1 for x in heads if x == h and type(x) is type(h)) > 1:
            out.append(l.text)
        else:
            out.append(h)
    seen = {}
    for i, l in enumerate(out):
        key = (type(l), l)
        if key in seen:
            raise NaslTypeError(f"alternatives {seen[key] + 1} and {i + 1} of this choice are both '{l}'",
                                e.span, hint="name them apart with 'as': choice(a as first, a as second)")
        seen[key] = i
    return [str(l) if isinstance(l, _Head) else l for l in out]


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
        if not isinstance(x, _SCALARS) or isinstance(x, Tensor):
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
