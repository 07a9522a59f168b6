"""Statements: assignment, return, loops, branches and constraints."""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.context import Ctx
from nasl.dsl.control import exec_for, exec_if, exec_repeat
from nasl.dsl.runtime import ReturnSignal, source_text, unknown_error, unpack
from nasl.dsl.values import OpSym, Sym, Unknown
from nasl.ir.decision_tree import Constraint
from nasl.ir.errors import ConstraintViolation, NaslError, NaslTypeError, UnsatisfiableError


def exec_assign(interp, s: A.Assign, env, ctx):
    if len(s.values) == 1:
        v = interp.eval(s.values[0], env, ctx)
        if len(s.targets) == 1:
            env[s.targets[0]] = v
            return
        vals = unpack(v, len(s.targets), s)
    else:
        if len(s.values) != len(s.targets):
            raise NaslTypeError(f"{len(s.targets)} names but {len(s.values)} values", s.span)
        vals = [interp.eval(x, env, ctx) for x in s.values]
    for name, v in zip(s.targets, vals):
        env[name] = v


def exec_return(interp, s: A.Return, env, ctx):
    vals = [interp.eval(x, env, ctx) for x in s.values]
    raise ReturnSignal(vals[0] if len(vals) == 1 else tuple(vals), s.span)


def _exec_require(interp, s, env, ctx):
    interp.exec_require(s, env, ctx)


# a statement's AST type -> fn(interp, statement, env, ctx), as nasl.dsl.interp.EXPRESSIONS for expressions
STATEMENTS = {
    A.Assign: exec_assign,
    A.Return: exec_return,
    A.For: exec_for,
    A.Repeat: exec_repeat,
    A.If: exec_if,
    A.Require: _exec_require,
}


class Statements:
    """The statement half of the :class:`~nasl.dsl.interp.Interpreter`."""

    def exec_body(self, stmts, env: dict, ctx: Ctx):
        for s in stmts:
            self.exec_stmt(s, env, ctx)

    def exec_stmt(self, s, env, ctx):
        try:
            fn = STATEMENTS[type(s)]
        except KeyError:
            raise NaslTypeError(f"unexpected statement {type(s).__name__}", s.span) from None
        fn(self, s, env, ctx)

    def exec_require(self, s: A.Require, env, ctx):
        v = self.eval(s.expr, env, ctx)
        word = "forbid" if s.negate else "require"
        msg = s.message or f"{word} {source_text(self.program, s.expr.span)}"
        if isinstance(v, Unknown):
            raise unknown_error(v, s.expr)
        if isinstance(v, Sym) and ctx.mode == "super":
            # a supernet holds every architecture; the constraint is a policy's business (ONESHOT.md)
            ctx.graph.g.graph["constraints"].append(Constraint(v, s.negate, msg, s.span, ctx.guards))
            return
        if isinstance(v, Sym):
            from nasl.ir.symbols import needs_graph
            con = Constraint(v, s.negate, msg, s.span, ctx.guards)
            if needs_graph(v):
                # about the built network: checked once the graph is complete
                (self.graph_constraints if ctx.spec else ctx.graph.checks).append(con)
                return
            if ctx.spec:
                ctx.block.items.append(con)
                return
            try:
                v = v.ev(ctx.values)
            except NaslError as e:
                raise e.at(s.span)
        ok = bool(v) != s.negate
        if ok:
            return
        if ctx.spec:
            if not ctx.guards:
                raise UnsatisfiableError(f"this {word} never holds: {msg}", s.span)
            # under a condition: that branch is simply never valid
            ctx.block.items.append(Constraint(OpSym(lambda: False, ()), False, msg, s.span, ctx.guards))
            return
        raise ConstraintViolation(f"constraint violated: {msg}", s.span)
