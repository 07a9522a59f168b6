"""Statements: assignment, return, loops, branches and constraints."""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.context import Ctx
from nasl.dsl.values import Sym, Unknown
from nasl.ir.choices import Constraint
from nasl.ir.errors import ConstraintViolation, NaslError, NaslTypeError, UnsatisfiableError


class Statements:
    """The statement half of the :class:`~nasl.dsl.interp.Interpreter`."""

    def exec_body(self, stmts, env: dict, ctx: Ctx):
        for s in stmts:
            self.exec_stmt(s, env, ctx)

    def exec_stmt(self, s, env, ctx):
        t = type(s)
        if t is A.Assign:
            if len(s.values) == 1:
                v = self.eval(s.values[0], env, ctx)
                if len(s.targets) == 1:
                    env[s.targets[0]] = v
                    return
                from nasl.dsl.interp import _unpack
                vals = _unpack(v, len(s.targets), s)
            else:
                if len(s.values) != len(s.targets):
                    raise NaslTypeError(f"{len(s.targets)} names but {len(s.values)} values", s.span)
                vals = [self.eval(x, env, ctx) for x in s.values]
            for name, v in zip(s.targets, vals):
                env[name] = v
        elif t is A.Return:
            vals = [self.eval(x, env, ctx) for x in s.values]
            from nasl.dsl.interp import _Return
            raise _Return(vals[0] if len(vals) == 1 else tuple(vals), s.span)
        elif t is A.For:
            from nasl.dsl.control import exec_for
            exec_for(self, s, env, ctx)
        elif t is A.Repeat:
            from nasl.dsl.control import exec_repeat
            exec_repeat(self, s, env, ctx)
        elif t is A.If:
            from nasl.dsl.control import exec_if
            exec_if(self, s, env, ctx)
        elif t is A.Require:
            self.exec_require(s, env, ctx)
        else:
            raise NaslTypeError(f"unexpected statement {t.__name__}", s.span)

    def exec_require(self, s: A.Require, env, ctx):
        from nasl.dsl.interp import _source, _unknown_error
        v = self.eval(s.expr, env, ctx)
        word = "forbid" if s.negate else "require"
        msg = s.message or f"{word} {_source(self.program, s.expr.span)}"
        if isinstance(v, Unknown):
            raise _unknown_error(v, s.expr)
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
            from nasl.dsl.values import OpSym
            ctx.block.items.append(Constraint(OpSym(lambda: False, ()), False, msg, s.span, ctx.guards))
            return
        raise ConstraintViolation(f"constraint violated: {msg}", s.span)
