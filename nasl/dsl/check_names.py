"""A static pass that reports every unknown name in a program at once.

Elaboration stops at the first error inside a body; this pass runs first and
visits every definition, used or not, so a file with three typos gets three
diagnostics in one run.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.builtins import BUILTIN_NAMES
from nasl.dsl.naming import CHOICE_FORMS, child_fields
from nasl.dsl.runtime import too_deep
from nasl.ir.errors import NaslNameError, lazy_did_you_mean
from nasl.ir.oplib import op_names

_LITERALS = frozenset({A.Num, A.Str, A.Bool})
_DAG_NAMES = frozenset({"src", "edges", "connected", "nodes", "uses"})


def check_names(prog: A.Program) -> list:
    """Every unknown name, as NaslNameErrors in source order."""
    globals_ = {getattr(d, "name") for d in prog.items if hasattr(d, "name")}
    known = globals_ | BUILTIN_NAMES | CHOICE_FORMS | set(op_names())
    errors: list = []
    for d in prog.items:
        try:
            _item(d, known, errors)
        except RecursionError:
            errors.append(too_deep(d))
    seen, out = set(), []
    for e in errors:
        key = (e.message, str(e.span))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


class _Scope:
    """Local names over an enclosing scope, without copying it: the globals of a generated file may
    number tens of thousands, and copying them for every definition made the pass quadratic."""

    __slots__ = ("names", "outer")

    def __init__(self, names, outer):
        self.names, self.outer = names, outer

    def __contains__(self, name) -> bool:
        return name in self.names or name in self.outer


def _groups(scope) -> tuple:
    """The name collections a scope is made of, innermost first."""
    out = []
    while isinstance(scope, _Scope):
        out.append(scope.names)
        scope = scope.outer
    return (*out, scope)


def _item(d, known, errors):
    if isinstance(d, A.DefDecl):
        local = {p.name for p in (d.params or ())} | {p.name for p in (d.inputs or ())}
        if d.params:
            for p in d.params:
                if p.default is not None:
                    _expr(p.default, known, errors)
        body = d.body if isinstance(d.body, tuple) else ()
        local |= _assigned(body)
        scope = _Scope(local, known)
        if isinstance(d.body, tuple):
            _stmts(d.body, scope, errors)
        else:
            _expr(d.body, scope, errors)
    elif isinstance(d, A.NetworkDecl):
        _stmts(d.body, _Scope(_assigned(d.body), known), errors)
    elif isinstance(d, (A.ParamDecl, A.LetDecl, A.GenotypeDecl)):
        _expr(d.value, known, errors)
    elif isinstance(d, A.InputDecl):
        _expr(d.shape, known, errors)
    elif isinstance(d, A.Require):
        _expr(d.expr, known, errors)


def _assigned(stmts) -> set:
    out = set()
    for s in stmts:
        if isinstance(s, A.Assign):
            out.update(s.targets)
        elif isinstance(s, A.For):
            out.update(s.vars)
            out |= _assigned(s.body)
        elif isinstance(s, A.Repeat):
            if s.var:
                out.add(s.var)
            out |= _assigned(s.body)
        elif isinstance(s, A.If):
            for _, body in s.branches:
                out |= _assigned(body)
            out |= _assigned(s.orelse)
    return out


def _stmts(stmts, scope, errors):
    for s in stmts:
        if isinstance(s, A.Assign):
            for v in s.values:
                _expr(v, scope, errors)
        elif isinstance(s, A.For):
            _expr(s.iterable, scope, errors)
            _stmts(s.body, scope, errors)
        elif isinstance(s, A.Repeat):
            _expr(s.count, scope, errors)
            _stmts(s.body, scope, errors)
        elif isinstance(s, A.If):
            for test, body in s.branches:
                _expr(test, scope, errors)
                _stmts(body, scope, errors)
            _stmts(s.orelse, scope, errors)
        elif isinstance(s, A.Return):
            for v in s.values:
                _expr(v, scope, errors)
        elif isinstance(s, A.Require):
            _expr(s.expr, scope, errors)


def _expr(e, scope, errors):
    if e is None:
        return
    t = type(e)
    if t is A.Name:
        if e.id not in scope:
            errors.append(NaslNameError(f"unknown name '{e.id}'", e.span,
                                        hint=lazy_did_you_mean(e.id, *_groups(scope))))
        return
    if t is A.Dag:
        for _, v in e.kwargs:
            _expr(v, scope, errors)
        for es in e.edges:
            inner = _Scope({es.src, es.dst} | _DAG_NAMES, scope)
            _expr(es.where, inner, errors)
            _expr(es.op, inner, errors)
        for ns in e.nodes:
            inner = _Scope({ns.var} | _DAG_NAMES, scope)
            _expr(ns.where, inner, errors)
            for _, v in ns.kwargs:
                _expr(v, inner, errors)
        for r in e.requires:
            _expr(r.expr, _Scope(_DAG_NAMES, scope), errors)
        return
    if t is A.Call:
        _expr(e.func, scope, errors)
        for a in e.args:
            _expr(a, scope, errors)
        for _, v in e.kwargs:
            _expr(v, scope, errors)
        return
    if t in _LITERALS:
        return
    for name in child_fields(t):
        v = getattr(e, name)
        if isinstance(v, A.Node):
            _expr(v, scope, errors)
        elif isinstance(v, tuple):
            for x in v:
                if isinstance(x, A.Node):
                    _expr(x, scope, errors)
