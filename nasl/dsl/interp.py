"""Evaluation of expressions, in spec, realize or super mode.

The interpreter dispatches on the type of the node it evaluates, as
``torch.fx.Interpreter`` dispatches on a node's opcode: :data:`EXPRESSIONS`
maps an expression's AST type to ``fn(interp, node, env, ctx)``,
:data:`nasl.dsl.statements.STATEMENTS` does the same for statements and
:data:`nasl.dsl.calls.CALLABLES` maps the type of a called value to the
function that applies it. The handlers live in leaf modules that take the
interpreter as an argument and import only :mod:`nasl.dsl.runtime` (and each
other), never this module.
"""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.calls import CALLABLES, not_callable
from nasl.dsl.choice_forms import eval_choice_form
from nasl.dsl.context import MAX_DEPTH, MAX_LENGTH, Ctx
from nasl.dsl.defs import run_expr_def
from nasl.dsl.guards import as_guard, run_under, split
from nasl.dsl.naming import CHOICE_FORMS, site_names
from nasl.dsl.runtime import ConstRef, is_tensorish, kind_of, merge_values, recursion_error, same_value
from nasl.dsl.statements import Statements
from nasl.dsl.values import (PLACEHOLDER, AbsentType, ChoiceRef, ChoiceVal, Compose, DagFn, DefFn, Merged, OpFn,
                             OpSym, Sym, Tensor, Unknown, sym_op)
from nasl.ir.decision_tree import Group
from nasl.ir.errors import NaslNameError, NaslTypeError, lazy_did_you_mean
from nasl.ir.oplib import get_op, op_names
from nasl.ir.symbols import BINARY_OPS


class Interpreter(Statements):
    """Runs a program's bodies. ``globals`` holds params, lets, defs and genotypes."""

    def __init__(self, program, globals_: dict, builtins: dict, names_cache: dict | None = None):
        self.program = program
        self.globals = globals_
        self.builtins = builtins
        self.registered: dict[str, object] = {}   # path -> Choice (spec mode), for duplicate checks
        self.graph_constraints: list = []         # constraints on the realized network (spec mode)
        self.lazy_memo: dict = {}                 # lazy calls' templates by their arguments (nasl.dsl.lazy)
        self.list_labels: dict = {}               # choice(LIST)'s labels by the list (nasl.dsl.choice_forms)
        # how a top-level value is read: the program forces lazy params and lets here
        self.resolve_global = lambda v: v
        # site names depend only on the AST: the Program shares one cache between its runs
        self._names_cache: dict[int, dict] = {} if names_cache is None else names_cache

    # ------------------------------------------------------------ helpers
    def names_for(self, key, body, top_anonymous: bool = False) -> dict:
        n = self._names_cache.get(id(key))
        if n is None:
            n = self._names_cache[id(key)] = site_names(body, top_anonymous)
        return n

    def lookup(self, name: str, env: dict, node):
        if name in env:
            return env[name]
        if name in self.globals:
            v = self.globals[name]
            if isinstance(v, A.DefDecl) and v.params is None:
                raise ConstRef(v)
            return self.resolve_global(v)
        if name in self.builtins:
            return self.builtins[name]
        sig = get_op(name)
        if sig is not None:
            return OpFn(sig, {}, node.span)
        known = (list(env), self.globals, self.builtins, op_names())     # env is a run's: copy it now
        raise NaslNameError(f"unknown name '{name}'", node.span, hint=lazy_did_you_mean(name, *known))

    # --------------------------------------------------------- expressions
    def eval(self, e, env: dict, ctx: Ctx):
        try:
            fn = EXPRESSIONS[type(e)]
        except KeyError:
            raise NaslTypeError(f"cannot evaluate {type(e).__name__}", getattr(e, "span", None)) from None
        return fn(self, e, env, ctx)

    def eval_binop(self, e, env, ctx):
        op = e.op
        left = self.eval(e.left, env, ctx)
        if op in ("and", "or") and not isinstance(left, (Sym, Unknown)):
            if (op == "and") != bool(left):
                return left
            return self.eval(e.right, env, ctx)
        right = self.eval(e.right, env, ctx)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return left if isinstance(left, Unknown) else right
        if isinstance(left, Sym) or isinstance(right, Sym):
            if op in ("and", "or"):
                fn = (lambda a, b: a and b) if op == "and" else (lambda a, b: a or b)
                return OpSym(fn, (left, right), op)
            other = right if isinstance(left, Sym) else left
            if op not in ("==", "!=", "in") and not isinstance(other, (Sym, int, float, str, list, tuple)):
                # fails for every choice: say so now rather than when the space is counted
                raise NaslTypeError(f"cannot apply '{op}' to {kind_of(left)} and {kind_of(right)}", e.span)
            return sym_op(op, left, right)
        if op in ("*", "+") and _result_length(op, left, right) > MAX_LENGTH:
            what = "string of more than {:,} characters" if isinstance(left, str) or isinstance(right, str) \
                else "list of more than {:,} items"
            raise NaslTypeError("this would make a " + what.format(MAX_LENGTH), e.span)
        try:
            return BINARY_OPS[op](left, right)
        except ZeroDivisionError:
            raise NaslTypeError("division by zero", e.span) from None
        except OverflowError:
            raise NaslTypeError(f"the result of '{op}' is too large for a float", e.span) from None
        except TypeError:
            raise NaslTypeError(f"cannot apply '{op}' to {kind_of(left)} and {kind_of(right)}", e.span) from None

    def eval_cond(self, e, env, ctx):
        test = self.eval(e.test, env, ctx)
        if isinstance(test, Unknown):
            return self.eval_cond_unknown(e, test, env, ctx)
        if not isinstance(test, Sym):
            return self.eval(e.then if test else e.orelse, env, ctx)
        out = []
        for chain, truth in split(self, test, e.test):
            branch = e.then if truth else e.orelse
            v = run_under(self, ctx, chain, lambda sub: self.eval(branch, env, sub))
            out.append((as_guard(chain) if chain else None, v))
        return merge_values(out, ctx, e.span)

    def eval_cond_unknown(self, e, test: Unknown, env, ctx):
        """``s == 1 ? identity : conv(c, stride=s)`` in a genotype, where each use gives ``s``.

        Which branch a use takes is known only at the use, but the genotype's
        choices are made once for all uses: both branches are elaborated (their
        choices are the genotype's, unconditionally), and the value is one that
        works for every use. Tensors and functions are fine (each use builds its
        own layers); any other value still depends on ``s``, so it stays unknown,
        and a choice whose domain it reaches is refused by the tie rule, at that
        choice.
        """
        vals = [self.eval(e.then, env, ctx), self.eval(e.orelse, env, ctx)]
        if all(isinstance(v, Tensor) for v in vals):
            return PLACEHOLDER
        if same_value(vals[0], vals[1]) and not isinstance(vals[0], Sym):
            return vals[0]
        if all(isinstance(v, (OpFn, DefFn, Compose, DagFn, AbsentType, ChoiceVal, Merged)) for v in vals):
            return Merged([(None, v) for v in vals])
        return test

    # --------------------------------------------------------------- calls
    def eval_call(self, e: A.Call, env, ctx):
        f_node = e.func
        if type(f_node) is A.Name and f_node.id in CHOICE_FORMS and f_node.id not in env \
                and f_node.id not in self.globals:
            return eval_choice_form(self, f_node.id, e, env, ctx)
        f = self.eval(f_node, env, ctx)
        args = tuple(self.eval(a, env, ctx) for a in e.args)
        kwargs = {k: self.eval(v, env, ctx) for k, v in e.kwargs}
        return self.apply(f, args, kwargs, ctx, e)

    def apply(self, f, args: tuple, kwargs: dict, ctx: Ctx, node):
        fn = CALLABLES.get(type(f))
        if fn is None:
            raise not_callable(f, node)
        return fn(self, f, args, kwargs, ctx, node)

    def eval_const_def(self, decl, ctx, node):
        """``def f = expr``: evaluated afresh at each reference, in its own scope."""
        return run_expr_def(self, DefFn(decl, {}), ctx, node)

    # ---------------------------------------------------------- guards
    @staticmethod
    def keep(ctx: Ctx, group: Group):
        """Add a finished eager group to the parent block unless it is empty."""
        if group.block.items:
            ctx.block.items.append(group)

    def check_depth(self, ctx, node, name):
        if ctx.depth >= MAX_DEPTH:
            raise recursion_error(name, ctx.trace, node, f"more than {MAX_DEPTH} levels deep")


# ------------------------------------------------------------ the expression table
def _literal(interp, e, env, ctx):
    return e.value


def _name(interp, e, env, ctx):
    if e.id in env:             # a local: the common case, without a call to lookup
        return env[e.id]
    try:
        return interp.lookup(e.id, env, e)
    except ConstRef as c:
        return interp.eval_const_def(c.decl, ctx, e)


def _seq(interp, e, env, ctx):
    """``x >> f`` applies f; ``f >> g`` composes."""
    left = interp.eval(e.left, env, ctx)
    right = interp.eval(e.right, env, ctx)
    if is_tensorish(left):
        return interp.apply(right, (left,), {}, ctx, e)
    return Compose(_fns(left) + _fns(right))


def _unary(interp, e, env, ctx):
    v = interp.eval(e.operand, env, ctx)
    if isinstance(v, Sym):
        fn = (lambda x: not x) if e.op == "not" else (lambda x: -x)
        return OpSym(fn, (v,), e.op)
    if isinstance(v, Unknown):
        return v
    if e.op == "not":
        return not v
    _need_number(v, e)
    return -v


def _list(interp, e, env, ctx):
    return [interp.eval(x, env, ctx) for x in e.items]


def _tuple(interp, e, env, ctx):
    return tuple(interp.eval(x, env, ctx) for x in e.items)


def _subscript(interp, e, env, ctx):
    obj = interp.eval(e.obj, env, ctx)
    idx = interp.eval(e.index, env, ctx)
    if isinstance(obj, Tensor) and obj.node is None:
        return PLACEHOLDER
    if isinstance(idx, Sym) or isinstance(obj, Sym):
        if isinstance(idx, ChoiceRef) and not isinstance(obj, Sym):
            _check_choice_index(obj, idx, e.span)      # at load, not in the trial that draws it
        return OpSym(lambda o, i: o[_not_negative(o, i, e.span)], (obj, idx), "[]")
    return _index(obj, idx, e.span)


def _labelled(interp, e, env, ctx):
    return interp.eval(e.expr, env, ctx)


def _dag(interp, e, env, ctx):
    return DagFn(e, dict(env), ctx)


EXPRESSIONS = {
    A.Num: _literal,
    A.Str: _literal,
    A.Bool: _literal,
    A.Name: _name,
    A.Call: Interpreter.eval_call,
    A.SeqExpr: _seq,
    A.BinOp: Interpreter.eval_binop,
    A.UnaryOp: _unary,
    A.ListExpr: _list,
    A.TupleExpr: _tuple,
    A.Index: _subscript,
    A.Cond: Interpreter.eval_cond,
    A.Labelled: _labelled,
    A.Dag: _dag,
}


def _fns(v):
    return v.fns if isinstance(v, Compose) else (v,)


def _result_length(op, a, b) -> int:
    """The length of ``a * b`` (a list or string and an int) or ``a + b`` (two of them); else 0."""
    seqs = (list, tuple, str)
    if op == "+":
        return len(a) + len(b) if isinstance(a, seqs) and isinstance(b, seqs) else 0
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, seqs) and isinstance(n, int):
            return len(seq) * n
    return 0


def _need_number(v, node):
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise NaslTypeError(f"expected a number, got {kind_of(v)}", node.span)


def _not_negative(obj, idx, span):
    """``idx``, unless it is a negative index of a sequence: nasl does not count from the end.

    A choice that indexes a list (``CH[choice(...)]``) with an alternative
    below zero was silently a different element; a position says where.
    """
    if isinstance(idx, int) and not isinstance(idx, bool) and idx < 0 and isinstance(obj, (list, tuple, str, range)):
        valid = f"valid indices: 0..{len(obj) - 1}" if len(obj) else f"{kind_of(obj)} is empty"
        raise NaslTypeError(f"index {idx} is negative: nasl does not count from the end ({valid})", span,
                            hint="write xs[len(xs) - 1] for the last element")
    return idx


def _index(obj, idx, span):
    """``obj[idx]``; a negative index is an error (see _not_negative)."""
    _not_negative(obj, idx, span)
    try:
        return obj[idx]
    except (TypeError, IndexError, KeyError) as err:
        raise NaslTypeError(f"cannot index {kind_of(obj)} with {idx!r}: {err}", span) from None


def _check_choice_index(obj, ref, span):
    """A choice's alternatives used as an index of ``obj`` must not be negative."""
    if isinstance(ref, ChoiceVal):
        values = [v for _, v in ref.alts]
    elif isinstance(ref.choice.domain, range):
        values = [ref.choice.domain[0]] if len(ref.choice.domain) else []   # ranges ascend: the least
    elif isinstance(ref.choice.domain, tuple) and ref.choice.kind in ("choice", "int"):
        values = ref.choice.domain
    else:
        return
    for v in values:
        _not_negative(obj, v, span)


