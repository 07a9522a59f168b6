"""The forward's source written straight from a :class:`~nasl.compiler.recorded.RecordedGraph`.

:func:`forward_source` writes, character for character, the code that torch.fx generates for the
graph the record stands for, with the frees of :mod:`nasl.compiler.frees` (``print(model.code)``,
``recompile()`` and the exports read the same text either way; ``tests/compiler/test_source.py``
compares the two on every example space). It knows the node kinds the compiler emits itself: a
placeholder, ``call_module``, the operators (``a + b``, ``x[...]``, ``a / n``), ``torch.cat``, a
tensor method (``x.mul(0.0)``) and the output. For anything else it returns ``None`` and the
caller has torch.fx generate the code from the replayed graph.

:class:`LazyGraphModule` is the ``fx.GraphModule`` that :func:`install` puts such a forward on.
Its ``graph`` is replayed from the record the first time anything reads it (``model.graph``,
``recompile()``, ``copy.deepcopy``, pickling), so a network that is only built and run never
builds one.
"""
from __future__ import annotations

import math
import operator

import torch
from torch import fx

from nasl.compiler.frees import free_at_scope_ends, free_plan, scope_ends
from nasl.compiler.recorded import FxNamespace

try:                        # how torch.fx compiles a forward (a named source, for tracebacks)
    from torch.fx.graph_module import _forward_from_src
except ImportError:         # pragma: no cover
    _forward_from_src = None

# the operators torch.fx writes as Python syntax (its magic_methods) that the merges emit
_OPERATORS = {operator.add: "{} + {}", operator.truediv: "{} / {}", operator.mul: "{} * {}",
              operator.sub: "{} - {}", operator.getitem: "{}[{}]"}
_FUNCTIONS = {torch.cat: "torch.cat"}
# names torch.fx's code generator reserves for its globals: a node so named is renamed there
_FX_GLOBAL_NAMES = {"inf", "nan", "NoneType", "torch", "device", "fx_pytree", "pytree"}
_GLOBALS = {"torch": torch, "inf": math.inf, "nan": math.nan, "NoneType": type(None), "device": torch.device}
AVAILABLE = _forward_from_src is not None and FxNamespace is not None


class _Unsupported(Exception):
    pass


def _repr(arg) -> str:
    """An argument as torch.fx writes it (its ``_get_repr`` for the values merges pass)."""
    if isinstance(arg, tuple):
        return f"({_repr(arg[0])},)" if len(arg) == 1 else "(" + ", ".join(map(_repr, arg)) + ")"
    if isinstance(arg, list):
        return "[" + ", ".join(map(_repr, arg)) + "]"
    if isinstance(arg, slice):
        return f"slice({_repr(arg.start)}, {_repr(arg.stop)}, {_repr(arg.step)})"
    if arg is None or isinstance(arg, (bool, int, float, str)) or hasattr(arg, "users"):
        return repr(arg)
    raise _Unsupported(type(arg).__name__)


def _target(base: str, target: str) -> str:
    for e in target.split("."):
        base = f"{base}.{e}" if e.isidentifier() else f'getattr({base}, "{e}")'
    return base


def _expression(n) -> str:
    args = n.args
    if n.kwargs:
        raise _Unsupported("kwargs")
    if n.op == "call_module":
        return f"{_target('self', n.target)}({', '.join(map(_repr, args))})"
    if n.op == "call_method":
        return f"{_target(_repr(args[0]), n.target)}({', '.join(map(_repr, args[1:]))})"
    if n.op == "call_function":
        form = _OPERATORS.get(n.target)
        if form is not None:
            return form.format(*map(_repr, args))
        name = _FUNCTIONS.get(n.target)
        if name is not None:
            return f"{name}({', '.join(map(_repr, args))})"
    raise _Unsupported(f"{n.op} {n.target}")


def forward_source(graph) -> tuple | None:
    """``(source, lineno_map)`` of the forward torch.fx would generate for ``graph`` (a
    :class:`~nasl.compiler.recorded.RecordedGraph`) with frees at scope ends; ``None`` when the
    record holds a node this writer does not know."""
    free_vars, lines = ["self"], []        # lines: (text, index of the node it belongs to)
    try:
        for i, n in enumerate(graph.nodes):
            if n.name in _FX_GLOBAL_NAMES:
                return None
            if n.op == "placeholder":
                if n.target != n.name:      # fx writes "name = target", which the free plan does not expect
                    return None
                free_vars.append(n.target)
            elif n.op == "output":
                lines.append((f"return {_repr(n.args[0])}", i))
                lines.append(("", i))
            else:
                lines.append((f"{n.name} = {_expression(n)}", i))
    except _Unsupported:
        return None
    lines = _place_frees(graph, lines)
    body = "\n".join("    " + text for text, _ in lines)
    return f"\n\n\ndef forward({', '.join(free_vars)}):\n{body}", {k: i for k, (_, i) in enumerate(lines, 1)}


def _place_frees(graph, lines: list) -> list:
    """The lines with the frees of :func:`~nasl.compiler.frees.free_plan`, as ``ScopeFrees`` places them."""
    plan, ends = free_plan(graph), scope_ends(graph)
    out = []
    for text, i in lines:
        names = plan.get(text.partition(" = ")[0]) if not text.startswith("return ") else None
        if not names:
            out.append((text, i))
            continue
        scope = ends.get(text.partition(" = ")[0])
        if scope is None:               # a top-level op: torch.fx's own style
            out.append((text + ";  " + " = ".join(names) + " = None", i))
        else:                           # a scope ends: its frees on a line of their own
            out.append((text, i))
            out.append((" = ".join(names) + f" = None  # end of {scope}", i))
    return out


class _ReplayedGraph:
    """The ``_graph`` of a :class:`LazyGraphModule`: the stored graph, or the record replayed."""

    def __get__(self, gm, owner=None):
        if gm is None:
            return self
        d = gm.__dict__
        graph = d.get("_graph")
        if graph is None:
            record = d.pop("_nasl_record", None)
            if record is None:              # not set yet (inside GraphModule.__init__): as a plain attribute
                raise AttributeError("_graph")
            graph = d["_graph"] = free_at_scope_ends(record.to_fx()[0])
            graph.owning_module = gm
        return graph

    def __set__(self, gm, graph):
        gm.__dict__.pop("_nasl_record", None)
        gm.__dict__["_graph"] = graph


class LazyGraphModule(fx.GraphModule):
    """A ``GraphModule`` whose ``graph`` may be replayed from a record on first use (see the module
    doc). Everything torch.fx does with the graph reads ``_graph``, which replays it; copying and
    pickling read the instance dict, so they replay it first."""

    _graph = _ReplayedGraph()

    def __deepcopy__(self, memo):
        self._graph                                 # noqa: B018 - replayed, so the dict holds it
        return super().__deepcopy__(memo)

    def __reduce__(self):
        self._graph                                 # noqa: B018
        return super().__reduce__()

    def __reduce_package__(self, exporter):
        self._graph                                 # noqa: B018
        return super().__reduce_package__(exporter)


def install(gm: LazyGraphModule, graph) -> bool:
    """Give ``gm`` the forward of the record ``graph``, whose fx graph it replays when asked;
    ``False`` (``gm`` untouched) where :func:`forward_source` cannot write it."""
    written = forward_source(graph) if AVAILABLE else None
    if written is None:
        return False
    src, lineno = written
    type(gm).forward = _forward_from_src(src, _GLOBALS)
    gm._code, gm._lineno_map, gm._prologue_start = src, lineno, 4
    d = gm.__dict__
    d.pop("_graph", None)
    d["_nasl_record"] = graph
    return True


__all__ = ["AVAILABLE", "LazyGraphModule", "forward_source", "install"]
