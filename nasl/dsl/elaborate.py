"""A parsed program, run in spec mode (to find its choices) or realize mode (to build a graph)."""
from __future__ import annotations

from nasl.dsl import ast as A
from nasl.dsl.builtins import make_builtins
from nasl.dsl.context import REALIZE, SPEC, Ctx
from nasl.dsl.defs import declare_genotype
from nasl.dsl.interp import Interpreter
from nasl.dsl.naming import site_names
from nasl.dsl.runtime import ReturnSignal, kind_of, too_deep
from nasl.dsl.values import PLACEHOLDER, DefFn, Sym, Tensor, Unknown
from nasl.ir.decision_tree import Block, ChoiceSpec
from nasl.ir.errors import NaslCycleError, NaslError, NaslErrors, NaslNameError, NaslTypeError, Span, did_you_mean


class _Lazy:
    """A top-level param or let, evaluated on first reference (so order does not matter)."""

    __slots__ = ("decl", "state", "value")

    def __init__(self, decl):
        self.decl, self.state, self.value = decl, "new", None


class _Poison:
    """A global whose declaration failed; references to it stay silent."""


class _Silent(NaslError):
    pass


class Program:
    """Runs one parsed program; a fresh interpreter per run keeps runs independent."""

    def __init__(self, prog: A.Program, params: dict | None = None):
        self.ast = prog
        self.overrides = dict(params or {})
        self.param_names = [d.name for d in prog.items if isinstance(d, A.ParamDecl)]
        unknown = [k for k in self.overrides if k not in self.param_names]
        if unknown:
            k = unknown[0]
            raise NaslNameError(f"{prog.file}: the space has no parameter '{k}'",
                                hint=did_you_mean(k, self.param_names) or
                                (f"its parameters are: {', '.join(self.param_names)}" if self.param_names
                                 else "it declares no 'param'"))
        self.networks = [d for d in prog.items if isinstance(d, A.NetworkDecl)]
        self._forcing: list = []      # the params and lets being evaluated, innermost last
        self._names: dict = {}        # site names by AST node id, shared by every run (the AST does not change)

    # ------------------------------------------------------------------ runs
    def run_spec(self):
        """Returns ``(ChoiceSpec, dags, params)``; raises NaslErrors with every error found."""
        from nasl.dsl.check_names import check_names
        interp, errors = self._interp(), list(check_names(self.ast))
        root = Block()
        ctx = Ctx(SPEC, block=root)
        self._run(interp, ctx, errors)
        if errors:
            raise _collect(errors, self.ast.source)
        self.graph_constraints = interp.graph_constraints
        return ChoiceSpec(root), interp.dags, self._params(interp)

    def run_realize(self, values: dict):
        from nasl.dsl.builder import GraphBuilder   # networkx loads only when realizing
        interp = self._interp()
        builder = GraphBuilder()
        ctx = Ctx(REALIZE, values=values, graph=builder)
        errors: list = []
        self._run(interp, ctx, errors, stop_on_error=True)
        if errors:
            raise errors[0].with_source(self.ast.source)
        try:
            builder.finish(values)
        except NaslError as e:
            raise e.with_source(self.ast.source)
        return builder

    def run_super(self, spec):
        """The :class:`~nasl.ir.supergraph.SuperGraph` of every architecture (nasl/dsl/super_mode.py)."""
        from nasl.dsl.context import SUPER
        from nasl.dsl.super_mode import SuperBuilder
        interp = self._interp()
        # filled as the run meets each choice: walking the whole spec would expand every lazy group
        interp.registered = {}
        builder = SuperBuilder(interp.registered)
        ctx = Ctx(SUPER, graph=builder, values={})
        errors: list = []
        self._run(interp, ctx, errors, stop_on_error=True)
        if errors:
            raise errors[0].with_source(self.ast.source)
        return builder.g

    def _interp(self) -> Interpreter:
        g: dict = {}
        interp = Interpreter(self.ast, g, make_builtins(), self._names)
        interp.dags = []
        return interp

    def _params(self, interp) -> dict:
        return {name: interp.globals[name].value for name in self.param_names
                if isinstance(interp.globals.get(name), _Lazy)}

    def _run(self, interp, ctx, errors, stop_on_error=False):
        g = interp.globals
        seen: dict = {}
        items = self.ast.items
        for d in items:
            name = getattr(d, "name", None)
            if name is None:
                continue
            if name in seen and not isinstance(d, A.NetworkDecl):
                errors.append(NaslNameError(f"'{name}' is declared twice (first at line {seen[name].span.line})",
                                            d.span))
                continue
            seen[name] = d
            if isinstance(d, A.DefDecl):
                g[name] = d if d.params is None else DefFn(d, None, globals=g)
            elif isinstance(d, (A.ParamDecl, A.LetDecl)):
                g[name] = _Lazy(d)
        if len(self.networks) > 1:
            errors.append(NaslError("a space has at most one 'network'", self.networks[1].span))
        if not self.networks:
            # without one the space would be a single empty architecture that compiles to nothing
            what = "the file is empty" if not self.ast.items else "the file declares no 'network'"
            errors.append(NaslError(f"{what}: a space needs a network", Span(self.ast.file, 1, 1, 1, 1),
                                    hint="end it with 'network { ... return ... }'"))
        interp.resolve_global = lambda v: self._resolve(interp, v, ctx)
        for d in items:
            try:
                self._item(interp, d, ctx)
            except _Silent:
                pass
            except NaslErrors as e:
                errors.extend(e.errors)
            except NaslError as e:
                errors.append(e)
                name = getattr(d, "name", None)
                if name and not isinstance(d, A.NetworkDecl):
                    g[name] = _Poison()
            except RecursionError:
                errors.append(too_deep(d))
                return          # the declarations after it would only run out of stack again
            if errors and stop_on_error:
                return

    def _item(self, interp, d, ctx):
        g = interp.globals
        if isinstance(d, (A.ParamDecl, A.LetDecl)):
            v = g.get(d.name)
            if isinstance(v, _Lazy):
                self._force(interp, v, ctx)
        elif isinstance(d, A.InputDecl):
            shape = interp.eval(d.shape, {}, ctx)
            if not isinstance(shape, (list, tuple)) or not all(isinstance(s, int) and not isinstance(s, bool)
                                                               and s > 0 for s in shape):
                raise NaslTypeError(f"input '{d.name}' needs a shape of positive ints, e.g. [3, 32, 32]",
                                    d.shape.span)
            g[d.name] = PLACEHOLDER if ctx.spec else ctx.graph.add_input(d.name, shape)
            if not ctx.spec:
                ctx.graph.g.nodes[d.name]["span"] = d.span
        elif isinstance(d, A.GenotypeDecl):
            names = site_names((A.Assign(d.span, (d.name,), (d.value,)),))
            value = interp.eval(d.value, {}, ctx.but(names=names)) if not _is_partial_call(d.value) \
                else _partial_def(interp, d.value, ctx)
            g[d.name] = declare_genotype(interp, d.name, value, d, ctx.but(names={}))
        elif isinstance(d, A.NetworkDecl):
            self._network(interp, d, ctx)
        elif isinstance(d, A.Require):
            interp.exec_require(d, {}, ctx.but(names=site_names(d.expr)))

    def _resolve(self, interp, v, ctx):
        """A global as code sees it: a lazy param or let is evaluated, a failed one stays silent."""
        if isinstance(v, _Lazy):
            return self._force(interp, v, ctx)
        if isinstance(v, _Poison):
            raise _Silent("")
        return v

    def _force(self, interp, lazy: _Lazy, ctx):
        if lazy.state == "done":
            return lazy.value
        d = lazy.decl
        if lazy.state == "busy":
            chain = self._forcing[self._forcing.index(d.name):] + [d.name]
            raise NaslCycleError(f"'{d.name}' is defined in terms of itself", d.span,
                                 hint=f"the cycle: {' -> '.join(chain)}" if len(chain) > 2 else None)
        lazy.state = "busy"
        self._forcing.append(d.name)
        try:
            if isinstance(d, A.ParamDecl) and d.name in self.overrides:
                v = self.overrides[d.name]
            else:
                names = site_names((A.Assign(d.span, (d.name,), (d.value,)),))
                v = interp.eval(d.value, {}, ctx.but(names=names, cprefix="", nprefix="", loops=(),
                                                     guards=(), anon_here=False))
            if isinstance(d, A.ParamDecl) and isinstance(v, (Sym, Unknown)):
                raise NaslTypeError(f"param '{d.name}' must be a constant; use 'let' for a choice", d.value.span)
        except BaseException:
            lazy.state = "new"
            raise
        finally:
            self._forcing.pop()
        lazy.value, lazy.state = v, "done"
        return v

    def _network(self, interp, d: A.NetworkDecl, ctx):
        names = interp.names_for(d, d.body)
        sub = ctx.but(names=names, cprefix="", nprefix="")
        env: dict = {}
        try:
            interp.exec_body(d.body, env, sub)
        except ReturnSignal as r:
            # in spec mode, returns under a choice-dependent 'if' merge tuples into lists
            outs = r.value if isinstance(r.value, (tuple, list) if ctx.spec else tuple) else (r.value,)
            for t in outs:
                if not isinstance(t, Tensor):
                    raise NaslTypeError(f"the network must return tensors, not {kind_of(t)}", r.span or d.span)
            if not ctx.spec:
                for k, t in enumerate(outs):
                    ctx.graph.add_output(t, k)
            return
        raise NaslTypeError("the network ends without 'return'", d.span)


def _is_partial_call(e) -> bool:
    return isinstance(e, A.Call) and isinstance(e.func, A.Name)


def _partial_def(interp, e: A.Call, ctx):
    """``genotype g = cell(nodes=4)``: bind some parameters now, the rest at each use."""
    from nasl.dsl.defs import bind_params
    f = interp.eval(e.func, {}, ctx)
    if not isinstance(f, DefFn):
        return interp.eval(e, {}, ctx)
    args = tuple(interp.eval(a, {}, ctx) for a in e.args)
    kwargs = {k: interp.eval(v, {}, ctx) for k, v in e.kwargs}
    bound = bind_params(interp, f.decl, args, kwargs, e, partial=True)
    return DefFn(f.decl, bound, None, None, f.globals)


def _collect(errors, source) -> NaslError:
    uniq, seen = [], set()
    for e in errors:
        for x in (e.errors if isinstance(e, NaslErrors) else [e]):
            key = (x.message, str(x.span))
            if key not in seen:
                seen.add(key)
                uniq.append(x.with_source(source))
    if len(uniq) == 1:
        return uniq[0]
    return NaslErrors(uniq)
