"""The labels of a choice's alternatives: what ``choice(a, b)`` and ``choice(LIST)`` name them.

A label is the alternative's value where that is a plain scalar, else its source text
(``conv(16)``), kept short and unique within the choice. Split from
:mod:`nasl.dsl.choice_forms`, which builds the choices these label.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.values import ABSENT, DefFn, OpFn
from nasl.ir.errors import NaslTypeError, lines_of

SCALARS = (str, int, float, bool)      # values that are their own labels
def list_labels(interp, values, e) -> tuple:
    """``(labels, kind hint, plain)`` of ``choice(values)``: plain when every value is its own label.

    A list is a param or a let read at many sites (``choice(units)`` in each
    of a thousand layers), and what it yields depends on the list alone, so it
    is worked out once per run; the entry holds the list, so its id is not reused.
    """
    memo = interp.list_labels
    hit = memo.get(id(values))
    if hit is not None and hit[0] is values:
        return hit[1]
    labels = tuple(unique_labels([_value_label(v, e) for v in values], e))
    plain = all(isinstance(v, SCALARS) and v == label and type(v) is type(label)
                for v, label in zip(values, labels))
    kind = frozenset({"op" if any(isinstance(v, (OpFn, DefFn)) for v in values) else "value"})
    out = (labels, kind, plain)
    memo[id(values)] = (values, out)
    return out


_LIST_BUILTINS = frozenset({"range", "list", "select", "zip", "enumerate"})


def is_inline(interp, a, env) -> bool:
    # a single inline alternative is not a list to expand: choice(conv(k=3));
    # a call of a list builtin (not shadowed by a name of the file) is a list
    if isinstance(a, A.Call) and isinstance(a.func, A.Name) and a.func.id in _LIST_BUILTINS \
            and a.func.id not in env and a.func.id not in interp.globals:
        return False
    return isinstance(a, (A.Num, A.Str, A.Bool, A.Call, A.SeqExpr))


# builtins without side effects, whose calls may be evaluated for an alternative's label
_PURE_BUILTINS = frozenset({"len", "min", "max", "abs", "int", "round", "make_divisible"})


def arg_label(interp, a, env, ctx):
    """An alternative's label: a value expression's value, else its name or text (see ast_label).

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
        if isinstance(v, SCALARS):
            return v, True
    return ast_label(a, interp.program), isinstance(a, (A.Num, A.Str, A.Bool))


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


def ast_label(a, program):
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
    if isinstance(v, SCALARS):
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


def unique_labels(labels, e):
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
