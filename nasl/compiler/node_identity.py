"""Node identity: what fixes a realized node's weights, and weight copying by it.

A realized op node's weights are fixed by four things: its stable id (where it sits:
``cell[0].edge[0->2].relu_conv_bn``), its op, its resolved params and its input shapes (the
builder's arguments, see :mod:`nasl.compiler.layers`). Two architectures whose nodes agree on all
four can share those weights; a node that differs in any of them (another width, another op on
the edge, NAS-Bench-101's channel rule giving another channel count) cannot.

Two users share this one definition: the ``bank`` supernet keys its weights by
:func:`key_of` (:mod:`nasl.oneshot.bank`), and weight inheritance between two architectures
(:func:`nasl.morph.inherit`, Real et al. 2017) copies every tensor of a node whose identity the
parent has, through :func:`inherit_state`.
"""
from __future__ import annotations

import hashlib

from nasl.compiler.build import module_paths
from nasl.compiler.infer import infer_shapes
from nasl.compiler.plan import plan_graph
from nasl.ir.errors import NaslError


def plain(v):
    """A param value as hashable plain data (a kernel list, a tuple of strides, a dict)."""
    if isinstance(v, (list, tuple)):
        return tuple(plain(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((str(k), plain(x)) for k, x in v.items()))
    return v


def identity(node: str, op: str, params, in_shapes) -> tuple:
    """The identity of one realized op node (plain data, hashable)."""
    return (node, op, plain(dict(params or {})), tuple(tuple(int(d) for d in s) for s in in_shapes))


def key_of(ident: tuple) -> str:
    """A short name for an identity, usable as an ``nn.ModuleDict`` key and stable across processes
    (``repr`` of ints, strings, floats and tuples does not depend on the run, unlike ``hash``)."""
    return "n" + hashlib.sha1(repr(ident).encode()).hexdigest()[:20]


class NodeTable:
    """The op nodes of one realized graph: op, params and submodule path, input shapes on demand.

    Shapes are inferred only when asked for: inheritance compares the tensors' shapes first and
    needs a node's input shapes only where those disagree (which is what keeps it cheap)."""

    def __init__(self, graph, input_shape=None):
        self.graph = graph
        self.input_shape = input_shape
        self._plan = None
        self._shapes = None
        self._plain: dict = {}           # node -> plain(params); a kept table (nasl.morph.memo) serves many children
        self._ins: dict = {}             # node -> input shapes
        self._owner = None               # module path -> node
        self._where: dict = {}           # state_dict key -> (node, suffix) or None
        self._data = dict(graph.nodes(data=True))      # plain dict lookups, not networkx views, per call
        self.ops = [n for n, d in self._data.items() if d.get("kind") == "op"]
        self.paths = module_paths(graph, self.ops)       # where compile_graph puts each node's module

    @property
    def plan(self):
        if self._plan is None:
            self._plan = plan_graph(self.graph)
        return self._plan

    @property
    def shapes(self) -> dict:
        """``{node: output shape}`` as ``compile_graph`` infers them (``input_shape`` overriding)."""
        if self._shapes is None:
            self._shapes = infer_shapes(self.graph, self.input_shape, self.plan)
        return self._shapes

    def op(self, n) -> str:
        return self._data[n].get("op")

    def params(self, n) -> dict:
        return self._data[n].get("params") or {}

    def plain_params(self, n):
        """``plain(params(n))``, computed once per node."""
        got = self._plain.get(n)
        if got is None:
            got = self._plain[n] = plain(self.params(n))
        return got

    def in_shapes(self, n) -> tuple:
        got = self._ins.get(n)
        if got is None:
            got = self._ins[n] = tuple(tuple(int(d) for d in self.shapes[u]) for u in self.plan.inputs[n])
        return got

    def identity(self, n) -> tuple:
        return identity(n, self.op(n), self.params(n), self.in_shapes(n))

    def same_layer(self, n, other: "NodeTable", m) -> bool:
        """Node ``n`` here and ``m`` of ``other`` agree on op and params (shapes are checked apart)."""
        return self.op(n) == other.op(m) and self.plain_params(n) == other.plain_params(m)

    def by_node(self, state: dict) -> dict:
        """``{node: {suffix: tensor}}`` over ``state`` (keys under no node's module are left out)."""
        out: dict = {}
        where = self._where
        for k, v in state.items():
            at = where.get(k, False)
            if at is False:
                at = where[k] = self._owner_of(k)
            if at is not None:
                out.setdefault(at[0], {})[at[1]] = v
        return out

    def _owner_of(self, key: str):
        """``(node, suffix)`` of a state_dict key, or None; kept per key (the same keys recur)."""
        if self._owner is None:
            self._owner = {p: n for n, p in self.paths.items()}
        mod, _, suffix = key.rpartition(".")
        while mod and mod not in self._owner:          # the tensor of a submodule inside the op's module
            mod, _, more = mod.rpartition(".")
            suffix = f"{more}.{suffix}"
        return (self._owner[mod], suffix) if mod else None


def node_identities(graph, input_shape=None) -> dict:
    """``{op node: (identity, submodule path)}`` for the op nodes of a realized graph, with the input
    shapes that :func:`nasl.compiler.compile_graph` builds them for (``input_shape`` overrides the
    declared one, as there)."""
    table = NodeTable(graph, input_shape)
    return {n: (table.identity(n), table.paths[n]) for n in table.plan.order if n in table.paths}


def fresh_state(graph, input_shape=None) -> dict:
    """The freshly initialised ``state_dict`` of ``compile_graph(graph, input_shape)``, built without
    tracing a forward: the same modules in the same order, so the same random draws."""
    from torch import nn

    from nasl.compiler.build import compile_graph, nest_modules
    from nasl.compiler.clone import ModuleFactory
    from nasl.compiler.op_rules import get_builder

    table = NodeTable(graph, input_shape)
    factory, modules = ModuleFactory(True), {}
    try:
        for n in table.plan.order:
            if n not in table.paths:
                continue
            impl = factory.build(get_builder(table.op(n)), table.op(n), table.params(n),
                                 [table.shapes[u] for u in table.plan.inputs[n]])
            if isinstance(impl, nn.Module):
                modules[table.paths[n]] = impl
    except Exception:           # noqa: BLE001 - let the compiler say what is wrong, with its position
        return dict(compile_graph(graph, input_shape).state_dict())
    return dict(nest_modules(nn.Module(), modules).state_dict())


def check_state(table: NodeTable, state, arch_id) -> None:
    """A one-line NaslError when ``state`` has a key under no layer of this architecture."""
    if not isinstance(state, dict):
        raise NaslError(f"the parent's weights must be a state_dict (a dict of tensors), got {type(state).__name__}")
    prefixes = {p + "." for p in table.paths.values()}
    for k in state:
        head = k
        while "." in head:
            head = head.rpartition(".")[0]
            if head + "." in prefixes:
                break
        else:
            raise NaslError(f"the parent's weights are not those of architecture {arch_id}: "
                            f"'{k}' belongs to no layer of it")


def inherit_state(parent: NodeTable, parent_state: dict, child: NodeTable, state: dict, *,
                  mapping: dict | None = None, parent_id="?", checked: bool = False) -> int:
    """Copy into ``state`` (the child's, keyed as its compile) every tensor of a child node whose
    identity the parent has; return the number of floating-point elements copied.

    The values are written into ``state``'s own tensors (``copy_``): the child's fresh tensors, or a
    compiled model's where ``state`` is its ``state_dict()``, which then holds the child's weights
    with no ``load_state_dict``; the parent's tensors are only read. A node matches the parent's
    node of the same id (or ``mapping[node]``) with the same op and params; its input shapes show
    in its tensors' shapes. Where those disagree but the input shapes agree, the parent's weights
    are not those of its architecture: a one-line NaslError. ``checked``: the caller has checked
    ``parent_state`` against the parent's architecture already."""
    import torch

    if not checked:
        check_state(parent, parent_state, parent_id)
    old_by_node = parent.by_node(parent_state)
    copied, dst, src = 0, [], []
    with torch.no_grad():           # state may hold a model's parameters
        for n, tensors in child.by_node(state).items():
            p = mapping.get(n) if mapping is not None else n
            if p is None or p not in parent.paths or not child.same_layer(n, parent, p):
                continue
            old = old_by_node.get(p, {})
            if any(s not in old or old[s].shape != t.shape for s, t in tensors.items()):
                if parent.in_shapes(p) != child.in_shapes(n):       # its input changed: a new layer
                    continue
                _mismatch(parent, p, old, tensors, parent_id)
            for s, t in tensors.items():
                dst.append(t)
                src.append(old[s])
                if t.is_floating_point():
                    copied += t.numel()
        copy_all(dst, src)
    return copied


def copy_all(dst: list, src: list) -> None:
    """``d.copy_(s)`` for each pair, in one ``torch._foreach_copy_`` (torch >= 2.1), half the cost of a
    copy_ per tensor on small layers (1.9 against 3.5 µs a tensor). It casts as copy_ does, and pairs it
    cannot fuse (other dtypes or devices) it copies one by one."""
    if dst:
        import torch
        torch._foreach_copy_(dst, src)


def _mismatch(parent: NodeTable, p, old: dict, tensors: dict, parent_id):
    for s, t in tensors.items():
        src = old.get(s)
        if src is None:
            raise NaslError(f"the parent's weights are not those of architecture {parent_id}: "
                            f"'{parent.paths[p]}.{s}' is missing")
        if tuple(src.shape) != tuple(t.shape):
            raise NaslError(f"the parent's weights are not those of architecture {parent_id}: "
                            f"'{parent.paths[p]}.{s}' has shape {list(src.shape)}, "
                            f"the architecture needs {list(t.shape)}")


__all__ = ["identity", "key_of", "plain", "NodeTable", "node_identities", "fresh_state", "check_state",
           "inherit_state"]
