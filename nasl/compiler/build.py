"""Compile a realized architecture into a ``torch.fx.GraphModule``.

The forward is generated once, as straight-line code: one placeholder per
network input, one ``call_module`` per op that has weights or state, the
traced body of each functional op (merges, channel slices, zero), and the
output. Nothing walks the ``ArchGraph`` at call time.

Submodule paths come from the node ids of the ``ArchGraph``, which are
deterministic: ``cell[0][2].edge[0->1].relu_conv_bn`` becomes the nested
submodule ``cell_0_2.edge_0_1.relu_conv_bn``, so ``state_dict`` keys are the
same in every run and every process.
"""
from __future__ import annotations

import functools
import keyword
import re
from dataclasses import dataclass

from torch import fx, nn
from torch.fx.proxy import GraphAppendingTracer

from nasl.compiler.budget import allocation_error, check_weights
from nasl.compiler.clone import ModuleFactory, container_factory
from nasl.compiler.frees import SCOPE_KEY, STATE_KEY, free_at_scope_ends
from nasl.compiler.infer import infer_shapes
from nasl.compiler.op_rules import get_builder
from nasl.compiler.user_ops import reraise
from nasl.compiler.plan import plan_graph
from nasl.compiler.recorded import RecordedGraph
from nasl.compiler.source import AVAILABLE as DIRECT_SOURCE, LazyGraphModule, install
from nasl.ir.paths import scope_of, split_path
from nasl.ir.errors import NaslError



@dataclass(frozen=True)
class BuildOptions:
    """How :func:`compile_graph` builds. The defaults are nasl's; the tests and benchmarks that compare
    with the plainer ways (every module built afresh, merges traced, torch.fx's last-use frees) pass
    ``compile(..., options=BuildOptions(...))`` instead of switching module globals."""

    copy_modules: bool = True   # ModuleFactory copies repeated modules instead of building each (clone.py)
    direct_emit: bool = True    # merges build their fx nodes directly instead of being traced (merges.py)
    scope_frees: bool = True    # free values at scope ends (frees.py); False: at their last use
    direct_source: bool = True  # write the forward's source directly, the fx graph replayed on demand (source.py)


DEFAULT_OPTIONS = BuildOptions()
_RESERVED = set(dir(fx.GraphModule)) | {"graph", "code", "training"}


def _segments(node_id: str) -> list:
    return split_path(node_id)


@functools.lru_cache(maxsize=4096)      # the same segments (edge[0->1], relu_conv_bn) recur in every cell
def sanitize(name: str) -> str:
    """A readable Python identifier for one segment of a node id: ``edge[0->1]`` -> ``edge_0_1``."""
    s = re.sub(r"[^0-9A-Za-z_]+", "_", str(name).replace("->", "_")).strip("_")
    s = re.sub(r"__+", "_", s) or "op"
    if s[0].isdigit():
        s = "n" + s
    if keyword.iskeyword(s) or s in _RESERVED:
        s += "_"
    return s


def module_paths(graph, ops=None) -> dict:
    """``{node: dotted submodule path}`` for the op nodes (or just ``ops``), unique and prefix-free."""
    paths: dict = {}
    taken: set = set()          # leaf paths
    containers: set = set()     # proper prefixes of leaf paths
    if ops is None:
        ops = [n for n, d in graph.nodes(data=True) if d.get("kind") == "op"]
    for n in ops:
        segs = [sanitize(s) for s in _segments(n)]
        prefixes = {".".join(segs[:i]) for i in range(1, len(segs))}
        if prefixes & taken:
            segs = ["_".join(segs)]          # a leaf already sits on this path: flatten
            prefixes = set()
        path, k = ".".join(segs), 1
        while path in taken or path in containers:
            path = ".".join(segs[:-1] + [f"{segs[-1]}_{k}"])
            k += 1
        paths[n] = path
        taken.add(path)
        containers |= prefixes
    return paths


def _rename(node: fx.Node, name: str):
    if hasattr(node, "_rename"):      # private in torch.fx; only cosmetic
        node._rename(name)


def nest_modules(root: nn.Module, modules: dict) -> nn.Module:
    """Add ``{dotted path: module}`` to ``root`` as a module tree, in insertion (execution)
    order, so that the ``state_dict`` lists weights in the order the forward uses them."""
    containers: dict = {"": root}
    new_container = container_factory()
    # Below the root, the names are sanitized segments (never an attribute of a plain container,
    # whose own are underscored or reserved) of fresh containers: add_module's checks cannot fail,
    # so the child goes straight into _modules, unless registration hooks want to see it.
    direct = new_container is not nn.Module
    for path, m in modules.items():
        parent, _, leaf = path.rpartition(".")
        at = containers.get(parent)
        if at is None:
            at, prefix = root, ""
            for p in parent.split("."):
                prefix = f"{prefix}.{p}" if prefix else p
                nxt = containers.get(prefix)
                if nxt is None:
                    nxt = containers[prefix] = new_container()
                    if direct and at is not root:
                        at._modules[p] = nxt
                    else:
                        at.add_module(p, nxt)
                at = nxt
        if direct and at is not root:
            at._modules[leaf] = m
        else:
            at.add_module(leaf, m)
    return root


def _emit(fxg, tracer, n, d, impl, ins: list, path: str, direct_emit: bool = True):
    """Append op ``n`` to the fx graph: a ``call_module``, or the traced body of a function.

    Every node it adds is tagged with the op's scope (see :mod:`nasl.compiler.frees`)."""
    scope = scope_of(n)
    if isinstance(impl, nn.Module):
        node = fxg.create_node("call_module", path, tuple(ins), {}, name=path.replace(".", "_"))
        if scope is not None:
            node.meta[SCOPE_KEY] = scope
        return node
    before = len(fxg.nodes)
    direct = getattr(impl, "fx_emit", None) if direct_emit else None
    if direct is not None:
        out = direct(fxg, ins)              # the nodes tracing would add, built directly (merges.py)
    else:
        traced = impl(*[fx.Proxy(v, tracer) for v in ins])
        if not isinstance(traced, fx.Proxy):
            raise NaslError(f"the builder of op '{d['op']}' returned a function whose result is not "
                            f"a traced tensor", d.get("span"), path=n)
        out = traced.node
    added = len(fxg.nodes) - before
    if added:
        _rename(out, path.replace(".", "_"))
        if len(ins) > 1:
            out.meta[STATE_KEY] = True          # a merge: a cell state, kept until its cell ends
        if scope is not None:
            for node, _ in zip(reversed(fxg.nodes), range(added)):     # the nodes just added
                node.meta[SCOPE_KEY] = scope
    return out


def compile_graph(graph, input_shape=None, *, class_name: str = "NaslNet",
                  options: BuildOptions = DEFAULT_OPTIONS, table=None) -> fx.GraphModule:
    """The ``GraphModule`` of an ``ArchGraph`` (see :func:`compile`).

    Ops that reach no network output (dead ops) get no line in the forward.
    Their modules are still built and registered, so the parameter count
    and the ``state_dict`` keys are those of the whole ``ArchGraph`` (and of
    the official NAS-Bench-201 network, whose cells compute such nodes and
    multiply them by zero).

    ``table`` is the graph's :class:`~nasl.compiler.node_identity.NodeTable` for ``input_shape``
    where the caller keeps one (a transformation reads the same plan, shapes and module paths).
    """
    if table is not None:
        plan, shapes, paths = table.plan, table.shapes, table.paths
    else:
        plan = plan_graph(graph)
        shapes = infer_shapes(graph, input_shape, plan)
        paths = None
    check_weights(graph, plan, shapes)          # before torch is asked for terabytes
    if paths is None:
        paths = module_paths(graph)
    factory = ModuleFactory(options.copy_modules)
    # A record stands in for the fx graph while every op is one the compiler emits itself (see recorded.py)
    recording = DIRECT_SOURCE and options.direct_source and options.direct_emit and options.scope_frees
    fxg = RecordedGraph() if recording else fx.Graph()
    tracer = None if recording else GraphAppendingTracer(fxg)
    values: dict = {}
    modules: dict = {}
    for n in graph.graph.get("inputs", []):
        values[n] = fxg.placeholder(sanitize(n))
    nodes, live = graph.nodes, plan.live
    for n in plan.order:
        d = nodes[n]
        if d.get("kind") != "op":
            continue
        ins = plan.inputs[n]
        builder = get_builder(d["op"])
        if builder is None:
            raise NaslError(f"op '{d['op']}' has no PyTorch builder", d.get("span"), path=n,
                            hint="pass builder= to nasl.register_op")
        try:
            impl = factory.build(builder, d["op"], d.get("params") or {}, [shapes[u] for u in ins])
        except Exception as e:  # noqa: BLE001 - a user op's own code failed (see user_ops)
            if isinstance(e, (RuntimeError, MemoryError)):      # a user op, which check_weights cannot size
                alloc = allocation_error(d, n, e)
                if alloc is not None:
                    raise alloc from None
            reraise(e, n, d, "in its builder")
        if isinstance(impl, nn.Module):
            modules[paths[n]] = impl
        if n in live:
            if recording and not isinstance(impl, nn.Module) and getattr(impl, "fx_emit", None) is None:
                fxg, values, recording = _to_fx(fxg, values)        # this op's function must be traced
                tracer = GraphAppendingTracer(fxg)
            try:
                values[n] = _emit(fxg, tracer, n, d, impl, [values[u] for u in ins], paths[n],
                                  options.direct_emit)
            except Exception as e:  # noqa: BLE001
                reraise(e, n, d, "while its forward was traced")
    outs = [values[plan.inputs[o][0]] for o in graph.graph.get("outputs", [])]
    fxg.output(outs[0] if len(outs) == 1 else tuple(outs))
    # An empty graph first, then the modules, then the real graph: GraphModule(root, graph)
    # would copy every submodule path into a second container tree.
    gm = LazyGraphModule(nn.Module(), fx.Graph(), class_name=class_name)
    nest_modules(gm, modules)
    if not (recording and install(gm, fxg)):
        if recording:                                   # a node the source writer does not know
            fxg = fxg.to_fx()[0]
        gm.graph = free_at_scope_ends(fxg) if options.scope_frees else fxg     # frees at cell ends (frees.py)
    gm.input_shapes = {k: shapes[k] for k in graph.graph.get("inputs", [])}
    gm.output_shapes = {k: shapes[k] for k in graph.graph.get("outputs", [])}
    return gm


def _to_fx(record: RecordedGraph, values: dict) -> tuple:
    """Replay the record into an ``fx.Graph`` and carry on there: ``(graph, values, False)``."""
    graph, fx_nodes = record.to_fx()
    return graph, {k: fx_nodes[v] for k, v in values.items()}, False


def compile(space, arch, input_shape=None, *, options: BuildOptions = DEFAULT_OPTIONS) -> fx.GraphModule:
    """Compile one architecture of ``space`` into a PyTorch module.

    ``arch`` is an ``Architecture`` or a ``{path: value}`` dict.
    ``input_shape`` overrides the declared input shape (``(C, H, W)``, a list
    of shapes, or a dict by input name). The result is a
    ``torch.fx.GraphModule``: ``print(model.code)`` shows its forward. It
    returns the output tensor, or a tuple when the network has several.
    Ops that reach no output are not run (their modules are kept, see
    :func:`compile_graph`).
    Raises ``NaslError`` for an architecture that does not fit the space or
    a shape mismatch, pointing at the ``.nas`` span.
    """
    try:
        return compile_graph(space.realize(arch), input_shape, options=options)
    except NaslError as e:              # a shape error's span indexes the space's source: draw its caret
        e.with_source(source_of(space))
        raise                           # as it was: --traceback shows a user op's own frames


def source_of(space) -> str | None:
    """The text of a space's program, which the spans of its errors index (None without one)."""
    return getattr(getattr(space, "_backend", None), "source", None)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["compile", "compile_graph", "BuildOptions", "module_paths", "sanitize", "count_params", "source_of"]
