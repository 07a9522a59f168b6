"""Node identities, and weight inheritance between two architectures of one space.

A realized node's weights are fixed by four things: its node id (where it
sits: ``cell[0].edge[0->2].relu_conv_bn``), its op, its resolved params and
its input shapes (the builder's arguments, see :mod:`nasl.compiler.layers`).
Two architectures whose nodes agree on all four can share those weights; a
node that differs in any of them (another width, another op on the edge,
NAS-Bench-101's channel rule giving another channel count) cannot.

This identity is what the ``bank`` supernet keys its weights by
(:mod:`nasl.oneshot.bank`), and what :func:`inherit` copies by: the weight
inheritance of Large-Scale Evolution (Real et al. 2017), where a mutated
child keeps every weight of its parent whose layer the mutation left alone.
"""
from __future__ import annotations

import hashlib

from nasl.compiler.build import module_paths
from nasl.compiler.infer import infer_shapes
from nasl.compiler.plan import plan_graph


def identity(node: str, op: str, params, in_shapes) -> tuple:
    """The identity of one realized op node (plain data, hashable)."""
    items = tuple(sorted((str(k), _plain(v)) for k, v in dict(params or {}).items()))
    return (node, op, items, tuple(tuple(int(d) for d in s) for s in in_shapes))


def _plain(v):
    # a list-valued param (a kernel list, a tuple of strides) is hashable as a tuple
    if isinstance(v, (list, tuple)):
        return tuple(_plain(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((str(k), _plain(x)) for k, x in v.items()))
    return v


def key_of(ident: tuple) -> str:
    """A short name for an identity, usable as an ``nn.ModuleDict`` key and stable across processes
    (``repr`` of ints, strings, floats and tuples does not depend on the run, unlike ``hash``)."""
    return "n" + hashlib.sha1(repr(ident).encode()).hexdigest()[:20]


def node_identities(graph, input_shape=None) -> dict:
    """``{op node: (identity, submodule path)}`` for the op nodes of a realized graph, with the input
    shapes that :func:`nasl.compiler.compile_graph` builds them for (``input_shape`` overrides the
    declared one, as there). The path is where ``compile_graph`` puts the node's module, if it has one."""
    plan = plan_graph(graph)
    shapes = infer_shapes(graph, input_shape, plan)
    ops = [n for n in plan.order if graph.nodes[n].get("kind") == "op"]
    paths = module_paths(graph, ops)
    out = {}
    for n in ops:
        d = graph.nodes[n]
        out[n] = (identity(n, d["op"], d.get("params"), [shapes[u] for u in plan.inputs[n]]), paths[n])
    return out


def _keys_by_path(space, arch, input_shape) -> dict:
    """``{submodule path: identity key}`` of one architecture."""
    return {path: key_of(ident) for ident, path in node_identities(space.realize(arch), input_shape).values()}


def inherit(space, parent_arch, child_arch, parent_state_dict, input_shape=None, child_state_dict=None) -> dict:
    """The ``state_dict`` of ``nasl.compile(space, child_arch)`` that inherits from the parent's.

    Every tensor of a node whose identity (node id, op, params, input shapes) is the same in parent
    and child is the parent's (a copy: training the child does not change the parent). The others
    are ``child_state_dict``'s, by default those of a freshly initialised ``nasl.compile`` of the
    child. ``parent_state_dict`` has the keys of ``nasl.compile(space, parent_arch)``.
    """
    import torch

    from nasl.compiler.build import compile_graph

    parent = _keys_by_path(space, parent_arch, input_shape)
    child = _keys_by_path(space, child_arch, input_shape)
    by_key = {k: p for p, k in parent.items()}
    if child_state_dict is None:
        child_state_dict = compile_graph(space.realize(child_arch), input_shape).state_dict()
    out = {}
    for name, tensor in child_state_dict.items():
        path, leaf = _module_of(name, child)
        src = by_key.get(child.get(path)) if path is not None else None
        src_name = f"{src}.{leaf}" if src is not None else None
        if src_name is not None and src_name in parent_state_dict and \
                tuple(parent_state_dict[src_name].shape) == tuple(tensor.shape):
            out[name] = parent_state_dict[src_name].detach().clone()
        else:
            out[name] = tensor.detach().clone() if isinstance(tensor, torch.Tensor) else tensor
    return out


def _module_of(name: str, paths: dict):
    """``(module path, rest)`` of a state_dict key: the longest module path that prefixes it."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        path = ".".join(parts[:i])
        if path in paths:
            return path, ".".join(parts[i:])
    return None, name


def inherited_fraction(space, parent_arch, child_arch, input_shape=None) -> float:
    """The share of the child's op nodes whose identity the parent has (1.0: the same network)."""
    parent = set(_keys_by_path(space, parent_arch, input_shape).values())
    child = list(_keys_by_path(space, child_arch, input_shape).values())
    return sum(k in parent for k in child) / max(1, len(child))


__all__ = ["identity", "key_of", "node_identities", "inherit", "inherited_fraction"]
