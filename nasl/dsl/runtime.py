"""What every part of the interpreter shares: value kinds, errors, the return signal.

The interpreter (:mod:`nasl.dsl.interp`) dispatches each node to a function
in a leaf module (statements, control, defs, dag, choice_forms, super_mode,
super_dag). Those functions receive the interpreter as their first argument
and import only this module and each other, never ``interp``: the import
graph of the interpreter has no cycle.
"""
from __future__ import annotations

from nasl.dsl.context import SUPER
from nasl.dsl.values import (ABSENT, PLACEHOLDER, Builtin, ChoiceRef, Compose, DagFn, DefFn, Merged, OpFn, Sym,
                             Tensor, Unknown)
from nasl.ir.errors import NaslCycleError, NaslError, NaslTypeError, source_lines


class ReturnSignal(Exception):
    """``return v``: unwinds a body to the call that runs it (:func:`run_body`)."""

    def __init__(self, value, span=None):
        self.value = value
        self.span = span        # of the 'return' statement, where one raised it


class ConstRef(Exception):
    """A name that refers to ``def f = expr``: the caller evaluates it afresh, in its own scope."""

    def __init__(self, decl):
        self.decl = decl


class Deferred(Tensor):
    """A definition's body under a condition, expanded only when needed (spec mode)."""

    __slots__ = ("thunk", "group", "_value", "_done")

    def __init__(self, thunk, group):
        super().__init__(None)
        self.thunk, self.group, self._done, self._value = thunk, group, False, None

    def force(self):
        if not self._done:
            self.group.block        # runs the thunk, which calls settle()
        return self._value

    def settle(self, value):
        """The body has run: ``value`` is what it gave."""
        self._value, self._done = value, True


def run_body(interp, decl, env, ctx):
    """Run a definition's statements; the value is what its ``return`` gives."""
    try:
        interp.exec_body(decl.body, env, ctx)
    except ReturnSignal as r:
        return r.value
    raise NaslTypeError(f"'{decl.name}' ends without 'return'", decl.span)


def checked(body, sub, decl, node):
    """Run a body; a recursion that exhausts Python's stack is reported like one over MAX_DEPTH."""
    try:
        return body(sub)
    except RecursionError:
        if decl.name not in sub.trace[:-1]:
            raise               # deep, but not recursive: the caller reports it
        raise recursion_error(decl.name, sub.trace, node) from None


def recursion_error(name, trace, node, how="too deeply") -> NaslCycleError:
    chain = " -> ".join(trace[-6:])
    return NaslCycleError(f"'{name}' recurses {how} ({chain} -> ...)", node.span,
                          hint="give the recursion a depth parameter and a base case")


def too_deep(d) -> NaslError:
    """Python's stack ran out while elaborating the declaration ``d``."""
    return NaslCycleError("this nests too deeply to elaborate", d.span,
                          hint="an expression nested hundreds of levels deep, or a long chain of definitions "
                               "that refer to each other; split it up")


def unknown_error(u: Unknown, node) -> NaslError:
    return NaslTypeError(f"the genotype's choices depend on parameter '{u.name}', which each use gives",
                         node.span, hint=f"bind it where the genotype is declared: genotype g = cell({u.name}=...)")


def source_text(program, span) -> str:
    """The text of ``span`` when it is on one line, else ``...``."""
    lines = source_lines(program.source)
    if span.line == span.end_line and 0 < span.line <= len(lines):
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    return "..."


def merge_values(out, ctx=None, span=None):
    """Join the values of guarded branches (spec mode; super mode joins tensors in a select)."""
    if ctx is not None and ctx.mode == SUPER:
        return ctx.graph.merge(out, ctx, span)      # a SuperBuilder (nasl.dsl.super_mode)
    vals = [v for _, v in out]
    if not vals:
        return PLACEHOLDER
    if all(isinstance(v, Tensor) for v in vals):
        return PLACEHOLDER
    if all(isinstance(v, (list, tuple)) and all(isinstance(x, Tensor) for x in v) for v in vals):
        # lists of tensors of branch-dependent length (spec mode only needs their shape)
        return [PLACEHOLDER] * max(len(v) for v in vals)
    first = vals[0]
    if all(v is first or (not isinstance(v, Sym) and same_value(v, first)) for v in vals):
        return first
    return Merged(out)


def same_value(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def is_tensorish(v) -> bool:
    """A tensor, or a non-empty list of tensors (the inputs of a merge)."""
    return isinstance(v, Tensor) or (isinstance(v, (list, tuple)) and len(v) > 0
                                     and all(isinstance(x, Tensor) for x in v))


def flatten_tensors(args) -> list:
    """The arguments with lists of tensors spliced in."""
    out = []
    for a in args:
        if isinstance(a, (list, tuple)) and a and all(isinstance(x, Tensor) for x in a):
            out.extend(a)
        else:
            out.append(a)
    return out


def unpack(v, n, node) -> list:
    """``a, b = v``."""
    if isinstance(v, Tensor) and v.node is None:
        return [PLACEHOLDER] * n
    if isinstance(v, Merged):
        return [Merged([(g, x[i] if isinstance(x, (tuple, list)) else x) for g, x in v.alts]) for i in range(n)]
    if not isinstance(v, (tuple, list)) or len(v) != n:
        got = len(v) if isinstance(v, (tuple, list)) else 1
        raise NaslTypeError(f"cannot unpack {got} value(s) into {n} names", node.span)
    return list(v)


def kind_of(v) -> str:
    """A value's kind as error messages name it: ``an int``, ``op 'conv'``, ``a tensor``."""
    if v is None:
        return "null"
    if isinstance(v, dict):
        return "a dict"
    if isinstance(v, bool):
        return "a bool"
    if isinstance(v, int):
        return "an int"
    if isinstance(v, float):
        return "a float"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, Tensor):
        return "a tensor"
    if isinstance(v, OpFn):
        return f"op '{v.name}'"
    if isinstance(v, DefFn):
        return f"definition '{v.name}'"
    if isinstance(v, (ChoiceRef, Sym)):
        return "a choice-dependent value"
    if isinstance(v, Compose):
        return "a composition 'f >> g'"
    if isinstance(v, Builtin):
        return f"builtin '{v.name}'"
    if isinstance(v, DagFn):
        return "a dag"
    if v is ABSENT:
        return "an absent optional"
    # other values of the language name their kind themselves (dag.Pick: "pick(k)")
    return getattr(type(v), "kind_name", None) or type(v).__name__
