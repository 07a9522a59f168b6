"""Evaluation of expressions and statements, in spec or realize mode."""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.context import MAX_DEPTH, MAX_LENGTH, SUPER, Ctx
from nasl.dsl.naming import CHOICE_FORMS, site_names
from nasl.dsl.statements import Statements
from nasl.dsl.values import (ABSENT, PLACEHOLDER, AbsentType, Builtin, ChoiceRef, ChoiceVal, Compose, DagFn,
                             DefFn, Merged, OpFn, Sym, Tensor, Unknown, sym_op)
from nasl.ir.choices import Group
from nasl.ir.errors import (NaslCycleError, NaslError, NaslNameError, NaslTypeError, did_you_mean, lazy_did_you_mean,
                            source_lines)
from nasl.ir.oplib import VARIADIC, get_op, is_library_op, op_names


class _Return(Exception):
    def __init__(self, value, span=None):
        self.value = value
        self.span = span        # of the 'return' statement, where one raised it


class Deferred(Tensor):
    """A definition's body under a condition, expanded only when needed (spec mode)."""

    __slots__ = ("thunk", "group", "_value", "_done")

    def __init__(self, thunk, group):
        super().__init__(None)
        self.thunk, self.group, self._done, self._value = thunk, group, False, None

    def force(self):
        if not self._done:
            self.group.block        # runs the thunk, which stores _value
        return self._value


class Interpreter(Statements):
    """Runs a program's bodies. ``globals`` holds params, lets, defs and genotypes."""

    def __init__(self, program, globals_: dict, builtins: dict, names_cache: dict | None = None):
        self.program = program
        self.globals = globals_
        self.builtins = builtins
        self.registered: dict[str, object] = {}   # path -> Choice (spec mode), for duplicate checks
        self.graph_constraints: list = []         # constraints on the realized network (spec mode)
        self.lazy_memo: dict = {}                 # lazy calls' templates by their arguments (nasl.dsl.lazy)
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
                raise _ConstRef(v)
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
        t = type(e)
        if t is A.Num or t is A.Str or t is A.Bool:
            return e.value
        if t is A.Name:
            try:
                return self.lookup(e.id, env, e)
            except _ConstRef as c:
                return self.eval_const_def(c.decl, ctx, e)
        if t is A.Call:
            return self.eval_call(e, env, ctx)
        if t is A.SeqExpr:
            left = self.eval(e.left, env, ctx)
            right = self.eval(e.right, env, ctx)
            if _is_tensorish(left):
                return self.apply(right, (left,), {}, ctx, e)
            return Compose(_fns(left) + _fns(right))
        if t is A.BinOp:
            return self.eval_binop(e, env, ctx)
        if t is A.UnaryOp:
            v = self.eval(e.operand, env, ctx)
            if isinstance(v, Sym):
                from nasl.dsl.values import OpSym
                fn = (lambda x: not x) if e.op == "not" else (lambda x: -x)
                return OpSym(fn, (v,), e.op)
            if isinstance(v, Unknown):
                return v
            if e.op == "not":
                return not v
            _need_number(v, e)
            return -v
        if t is A.ListExpr:
            return [self.eval(x, env, ctx) for x in e.items]
        if t is A.TupleExpr:
            return tuple(self.eval(x, env, ctx) for x in e.items)
        if t is A.Index:
            obj = self.eval(e.obj, env, ctx)
            idx = self.eval(e.index, env, ctx)
            if isinstance(obj, Tensor) and obj.node is None:
                return PLACEHOLDER
            if isinstance(idx, Sym) or isinstance(obj, Sym):
                from nasl.dsl.values import OpSym
                if isinstance(idx, ChoiceRef) and not isinstance(obj, Sym):
                    _check_choice_index(obj, idx, e.span)      # at load, not in the trial that draws it
                return OpSym(lambda o, i: o[_not_negative(o, i, e.span)], (obj, idx), "[]")
            return _index(obj, idx, e.span)
        if t is A.Cond:
            return self.eval_cond(e, env, ctx)
        if t is A.Labelled:
            return self.eval(e.expr, env, ctx)
        if t is A.Dag:
            return DagFn(e, dict(env), ctx)
        raise NaslTypeError(f"cannot evaluate {t.__name__}", getattr(e, "span", None))

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
                from nasl.dsl.values import OpSym
                fn = (lambda a, b: a and b) if op == "and" else (lambda a, b: a or b)
                return OpSym(fn, (left, right), op)
            other = right if isinstance(left, Sym) else left
            if op not in ("==", "!=", "in") and not isinstance(other, (Sym, int, float, str, list, tuple)):
                # fails for every choice: say so now rather than when the space is counted
                raise NaslTypeError(f"cannot apply '{op}' to {_kind(left)} and {_kind(right)}", e.span)
            return sym_op(op, left, right)
        from nasl.dsl.values import _OPS
        if op in ("*", "+") and _result_length(op, left, right) > MAX_LENGTH:
            what = "string of more than {:,} characters" if isinstance(left, str) or isinstance(right, str) \
                else "list of more than {:,} items"
            raise NaslTypeError("this would make a " + what.format(MAX_LENGTH), e.span)
        try:
            return _OPS[op](left, right)
        except ZeroDivisionError:
            raise NaslTypeError("division by zero", e.span) from None
        except OverflowError:
            raise NaslTypeError(f"the result of '{op}' is too large for a float", e.span) from None
        except TypeError:
            raise NaslTypeError(f"cannot apply '{op}' to {_kind(left)} and {_kind(right)}", e.span) from None

    def eval_cond(self, e, env, ctx):
        test = self.eval(e.test, env, ctx)
        if isinstance(test, Unknown):
            return self.eval_cond_unknown(e, test, env, ctx)
        if not isinstance(test, Sym):
            return self.eval(e.then if test else e.orelse, env, ctx)
        from nasl.dsl.guards import as_guard, run_under, split
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
        if _eq(vals[0], vals[1]) and not isinstance(vals[0], Sym):
            return vals[0]
        if all(isinstance(v, (OpFn, DefFn, Compose, DagFn, AbsentType, ChoiceVal, Merged)) for v in vals):
            return Merged([(None, v) for v in vals])
        return test

    # --------------------------------------------------------------- calls
    def eval_call(self, e: A.Call, env, ctx):
        f_node = e.func
        if type(f_node) is A.Name and f_node.id in CHOICE_FORMS and f_node.id not in env \
                and f_node.id not in self.globals:
            from nasl.dsl.choice_forms import eval_choice_form
            return eval_choice_form(self, f_node.id, e, env, ctx)
        f = self.eval(f_node, env, ctx)
        args = tuple(self.eval(a, env, ctx) for a in e.args)
        kwargs = {k: self.eval(v, env, ctx) for k, v in e.kwargs}
        return self.apply(f, args, kwargs, ctx, e)

    def apply(self, f, args: tuple, kwargs: dict, ctx: Ctx, node):
        if isinstance(f, Deferred):
            f = f.force()
        t = type(f)
        if t is OpFn:
            return self.apply_op(f, args, kwargs, ctx, node)
        if t is DefFn:
            from nasl.dsl.defs import apply_def
            return apply_def(self, f, args, kwargs, ctx, node)
        if t is Builtin:
            try:
                return f.fn(self, ctx, node, *args, **kwargs)
            except TypeError:
                _check_builtin_args(f, (self, ctx, node) + args, kwargs, node)
                raise
        if t is Compose:
            if kwargs or len(args) != 1:
                raise NaslTypeError("a composition 'f >> g' takes exactly one input", node.span)
            v = args[0]
            for fn in f.fns:
                v = self.apply(fn, (v,), {}, ctx, node)
            return v
        if t is DagFn:
            from nasl.dsl.dag import apply_dag
            return apply_dag(self, f, args, kwargs, ctx, node)
        if t is AbsentType:
            if all(_is_tensorish(a) for a in args) and len(args) == 1 and not kwargs:
                return args[0]
            return ABSENT
        if t is ChoiceVal or t is Merged:
            from nasl.dsl.guards import run_under
            out = []
            for guard, v in f.alts:
                chain = () if guard is None else getattr(guard, "guards", (guard,))
                out.append((guard, run_under(self, ctx, chain,
                                             lambda sub: self.apply(v, args, kwargs, sub, node))))
            return merge_values(out, ctx, node.span)
        if isinstance(f, Unknown):
            raise _unknown_error(f, node)
        if isinstance(f, Tensor):
            raise NaslTypeError("a tensor is not a function; did you mean 'x >> f' instead of 'x(f)'?",
                                node.span)
        raise NaslTypeError(f"{_kind(f)} is not callable", node.span)

    def apply_op(self, f: OpFn, args, kwargs, ctx, node):
        tensors = [a for a in _flatten(args) if _is_tensorish(a)]
        sig = f.sig
        if not tensors:
            # binding parameters: conv(C, k=3)
            n_bound = len(f.params)
            names = sig.param_names
            free = [p for p in names if p not in f.params]
            if len(args) > len(free):
                raise NaslTypeError(f"'{sig.name}' takes at most {len(names)} parameter(s) "
                                    f"({', '.join(names) or 'none'})", node.span)
            params = dict(f.params)
            params.update(zip(free, args))
            for k, v in kwargs.items():
                if k not in names:
                    raise NaslTypeError(f"'{sig.name}' has no parameter '{k}'", node.span,
                                        hint=did_you_mean(k, names) or
                                        (f"its parameters are: {', '.join(names)}" if names else
                                         f"'{sig.name}' takes no parameters"))
                if k in params and n_bound:
                    raise NaslTypeError(f"'{sig.name}' got parameter '{k}' twice", node.span)
                params[k] = v
            _check_counts(sig, params, node.span)
            return OpFn(sig, params, node.span)
        if len(tensors) != len(_flatten(args)):
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
        _check_counts(sig, params, f.span or node.span)     # a width that depended on a choice is known now
        return ctx.graph.add_op(ctx.nprefix, sig.name, params, tensors, f.span or node.span)

    def eval_const_def(self, decl, ctx, node):
        """``def f = expr``: evaluated afresh at each reference, in its own scope."""
        from nasl.dsl.defs import run_expr_def
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


def recursion_error(name, trace, node, how="too deeply") -> NaslCycleError:
    chain = " -> ".join(trace[-6:])
    return NaslCycleError(f"'{name}' recurses {how} ({chain} -> ...)", node.span,
                          hint="give the recursion a depth parameter and a base case")


class _ConstRef(Exception):
    def __init__(self, decl):
        self.decl = decl


def merge_values(out, ctx=None, span=None):
    """Join the values of guarded branches (spec mode; super mode joins tensors in a select)."""
    if ctx is not None and ctx.mode == SUPER:
        from nasl.dsl.super_mode import merge_super
        return merge_super(out, ctx, span)
    vals = [v for _, v in out]
    if not vals:
        return PLACEHOLDER
    if all(isinstance(v, Tensor) for v in vals):
        return PLACEHOLDER
    if all(isinstance(v, (list, tuple)) and all(isinstance(x, Tensor) for x in v) for v in vals):
        # lists of tensors of branch-dependent length (spec mode only needs their shape)
        return [PLACEHOLDER] * max(len(v) for v in vals)
    first = vals[0]
    if all(v is first or (not isinstance(v, Sym) and _eq(v, first)) for v in vals):
        return first
    return Merged(out)


def _eq(a, b):
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def _is_tensorish(v) -> bool:
    return isinstance(v, Tensor) or (isinstance(v, (list, tuple)) and len(v) > 0
                                     and all(isinstance(x, Tensor) for x in v))


def _flatten(args):
    out = []
    for a in args:
        if isinstance(a, (list, tuple)) and a and all(isinstance(x, Tensor) for x in a):
            out.extend(a)
        else:
            out.append(a)
    return out


def _fns(v):
    return v.fns if isinstance(v, Compose) else (v,)


def _unpack(v, n, node):
    if isinstance(v, Tensor) and v.node is None:
        return [PLACEHOLDER] * n
    if isinstance(v, Merged):
        return [Merged([(g, x[i] if isinstance(x, (tuple, list)) else x) for g, x in v.alts]) for i in range(n)]
    if not isinstance(v, (tuple, list)) or len(v) != n:
        got = len(v) if isinstance(v, (tuple, list)) else 1
        raise NaslTypeError(f"cannot unpack {got} value(s) into {n} names", node.span)
    return list(v)


def _check_builtin_args(f: Builtin, args, kwargs, node):
    """Blame the call, not nasl, when a builtin's TypeError is a wrong number or name of arguments."""
    import inspect
    try:
        inspect.signature(f.fn).bind(*args, **kwargs)
    except TypeError as err:
        raise NaslTypeError(f"{f.name}(...): {err}", node.span) from None


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
        raise NaslTypeError(f"expected a number, got {_kind(v)}", node.span)


# parameters of the library's ops that count channels, features, groups or heads: a float there
# (a width multiplier, C * 0.75) used to reach the compiler and fail as a "shape mismatch"
_CHANNELS = ("c", "n")
_COUNTS = _CHANNELS + ("groups", "heads", "parts")


def _check_counts(sig, params: dict, span):
    if not is_library_op(sig.name):
        return
    for k in _COUNTS:
        v = params.get(k)
        if isinstance(v, float):
            what = "channel count" if k in _CHANNELS else f"'{k}'"
            raise NaslTypeError(f"'{sig.name}': the {what} must be an integer, got {v!r}; "
                                "use int(), round() or make_divisible()", span,
                                hint=f"e.g. {sig.name}(make_divisible(C * 0.75)) rounds to a multiple of 8")


def _not_negative(obj, idx, span):
    """``idx``, unless it is a negative index of a sequence: nasl does not count from the end.

    A choice that indexes a list (``CH[choice(...)]``) with an alternative
    below zero was silently a different element; a position says where.
    """
    if isinstance(idx, int) and not isinstance(idx, bool) and idx < 0 and isinstance(obj, (list, tuple, str, range)):
        valid = f"valid indices: 0..{len(obj) - 1}" if len(obj) else f"{_kind(obj)} is empty"
        raise NaslTypeError(f"index {idx} is negative: nasl does not count from the end ({valid})", span,
                            hint="write xs[len(xs) - 1] for the last element")
    return idx


def _index(obj, idx, span):
    """``obj[idx]``; a negative index is an error (see _not_negative)."""
    _not_negative(obj, idx, span)
    try:
        return obj[idx]
    except (TypeError, IndexError, KeyError) as err:
        raise NaslTypeError(f"cannot index {_kind(obj)} with {idx!r}: {err}", span) from None


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


def _kind(v) -> str:
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
    from nasl.dsl.dag import Pick
    if isinstance(v, Pick):
        return "pick(k)"
    return type(v).__name__


def _unknown_error(u: Unknown, node) -> NaslError:
    return NaslTypeError(f"the genotype's choices depend on parameter '{u.name}', which each use gives",
                         node.span, hint=f"bind it where the genotype is declared: genotype g = cell({u.name}=...)")


def _source(program, span) -> str:
    lines = source_lines(program.source)
    if span.line == span.end_line and 0 < span.line <= len(lines):
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    return "..."
