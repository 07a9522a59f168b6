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

import keyword
import re

import networkx as nx
from torch import fx, nn
from torch.fx.proxy import GraphAppendingTracer

from nasl.compiler.layers import get_builder
from nasl.compiler.shapes import infer_shapes
from nasl.ir.paths import split_path
from nasl.ir.errors import NaslError

_RESERVED = set(dir(fx.GraphModule)) | {"graph", "code", "training"}


def _segments(node_id: str) -> list:
    return split_path(node_id)


def sanitize(name: str) -> str:
    """A readable Python identifier for one segment of a node id: ``edge[0->1]`` -> ``edge_0_1``."""
    s = re.sub(r"[^0-9A-Za-z_]+", "_", str(name).replace("->", "_")).strip("_")
    s = re.sub(r"__+", "_", s) or "op"
    if s[0].isdigit():
        s = "n" + s
    if keyword.iskeyword(s) or s in _RESERVED:
        s += "_"
    return s


def module_paths(graph) -> dict:
    """``{node: dotted submodule path}`` for the op nodes, unique and prefix-free."""
    paths: dict = {}
    taken: set = set()          # leaf paths
    containers: set = set()     # proper prefixes of leaf paths
    for n, d in graph.nodes(data=True):
        if d.get("kind") != "op":
            continue
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


def _order(graph) -> list:
    index = {n: i for i, n in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(graph, key=index.__getitem__))


def _rename(node: fx.Node, name: str):
    if hasattr(node, "_rename"):      # private in torch.fx; only cosmetic
        node._rename(name)


def _nest(modules: dict) -> nn.Module:
    """A module tree holding ``{dotted path: module}``, in insertion (execution) order,
    so that the ``state_dict`` lists weights in the order the forward uses them."""
    root = nn.Module()
    for path, m in modules.items():
        *parents, leaf = path.split(".")
        at = root
        for p in parents:
            if not hasattr(at, p):
                at.add_module(p, nn.Module())
            at = getattr(at, p)
        at.add_module(leaf, m)
    return root


def compile_graph(graph, input_shape=None, *, class_name: str = "NaslNet") -> fx.GraphModule:
    """The ``GraphModule`` of an ``ArchGraph`` (see :func:`compile`)."""
    shapes = infer_shapes(graph, input_shape)
    paths = module_paths(graph)
    fxg = fx.Graph()
    tracer = GraphAppendingTracer(fxg)
    values: dict = {}
    modules: dict = {}
    for n in _order(graph):
        d = graph.nodes[n]
        kind = d.get("kind")
        if kind == "input":
            values[n] = fxg.placeholder(sanitize(n))
            continue
        if kind != "op":
            continue
        ins = graph.inputs_of(n)
        builder = get_builder(d["op"])
        if builder is None:
            raise NaslError(f"op '{d['op']}' has no PyTorch builder", d.get("span"), path=n,
                            hint="register one with nasl.compiler.torch_op")
        impl, _ = builder(d.get("params") or {}, [shapes[u] for u in ins])
        if isinstance(impl, nn.Module):
            modules[paths[n]] = impl
            values[n] = fxg.call_module(paths[n], tuple(values[u] for u in ins))
            continue
        before = len(fxg.nodes)
        out = impl(*[fx.Proxy(values[u], tracer) for u in ins])
        if not isinstance(out, fx.Proxy):
            raise NaslError(f"the builder of op '{d['op']}' returned a function whose result is not "
                            f"a traced tensor", d.get("span"), path=n)
        values[n] = out.node
        if len(fxg.nodes) > before:
            _rename(out.node, paths[n].replace(".", "_"))
    outs = []
    for o in graph.graph.get("outputs", []):
        (src,) = graph.inputs_of(o)
        outs.append(values[src])
    fxg.output(outs[0] if len(outs) == 1 else tuple(outs))
    fxg.lint()
    gm = fx.GraphModule(_nest(modules), fxg, class_name=class_name)
    gm.input_shapes = {k: shapes[k] for k in graph.graph.get("inputs", [])}
    gm.output_shapes = {k: shapes[k] for k in graph.graph.get("outputs", [])}
    return gm


def compile(space, arch, input_shape=None) -> fx.GraphModule:
    """Compile one architecture of ``space`` into a PyTorch module.

    ``arch`` is an ``Architecture`` or a ``{path: value}`` dict.
    ``input_shape`` overrides the declared input shape (``(C, H, W)``, a list
    of shapes, or a dict by input name). The result is a
    ``torch.fx.GraphModule``: ``print(model.code)`` shows its forward. It
    returns the output tensor, or a tuple when the network has several.
    Raises ``NaslError`` for an architecture that does not fit the space or
    a shape mismatch, pointing at the ``.nas`` span.
    """
    return compile_graph(space.realize(arch), input_shape)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["compile", "compile_graph", "module_paths", "sanitize", "count_params"]
