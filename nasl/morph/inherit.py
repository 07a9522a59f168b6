"""Weight inheritance for any mutation of any space (Real et al. 2017: a child starts from its
parent's weights wherever its layers are the parent's).

A child node inherits when the parent has a node with the same stable id, op, resolved params
and input shapes: then every tensor of it is copied. Everything else keeps the child's fresh
initialisation. This is not function-preserving in general (a mutated op changes what flows
on); the transformations of :mod:`nasl.morph` are, where the space allows them.

Node ids are the realized graph's (``cell[0].edge[0->1].relu_conv_bn``), stable across runs;
within one scope they carry a counter (``bn_1``), so after a mutation that adds a layer before
another of the same op in the same scope, the later one's id names the earlier parent layer.
Such a node still has the same op, params and shapes, so the copy is well-formed; it is
inheritance, not an exact correspondence (the function-preserving transformations align graphs
structurally instead, :mod:`nasl.morph.align`).
"""
from __future__ import annotations

from nasl.ir.errors import NaslError
from nasl.morph.graphs import Morph, Realized, by_node, count, fresh


def inherit(space, parent_arch, parent_state: dict, child_arch, *, mapping: dict | None = None,
            transformation: str = "inherit") -> Morph:
    """The child's state_dict: the parent's tensors where a node is unchanged, fresh elsewhere.

    ``mapping`` (``{child node: parent node}``) overrides the match by id, for callers that know
    the correspondence. Weights that do not fit the parent architecture raise a one-line
    :class:`NaslError`.
    """
    parent = Realized(space, parent_arch, parent_state)
    child = Realized(space, child_arch, who="child")
    return inherit_realized(parent, child, mapping=mapping, transformation=transformation)


def inherit_realized(parent: Realized, child: Realized, *, mapping: dict | None = None,
                     transformation: str = "inherit", state: dict | None = None) -> Morph:
    if not isinstance(parent.state, dict):
        raise NaslError(f"the parent's weights must be a state_dict (a dict of tensors), "
                        f"got {type(parent.state).__name__}")
    _check_keys(parent)
    state = fresh(child) if state is None else state
    nodes = by_node(child, state)
    copied = 0
    for n, tensors in nodes.items():
        p = mapping.get(n) if mapping is not None else (n if n in parent.paths else None)
        # op and params here; the input shapes show in the tensors' shapes, compared below
        if p is None or p not in parent.paths or parent.op(p) != child.op(n) or parent.params(p) != child.params(n):
            continue
        old = parent.tensors(p)
        if any(suffix not in old or tuple(old[suffix].shape) != tuple(t.shape) for suffix, t in tensors.items()):
            if parent.in_shapes(p) != child.in_shapes(n):       # its input changed: a new layer
                continue
            _mismatch(parent, p, old, tensors)
        for suffix, t in tensors.items():
            state[f"{child.paths[n]}.{suffix}"] = old[suffix].detach().clone().to(t.dtype)
            if t.is_floating_point():
                copied += t.numel()
    total = count(state)
    return Morph(child.arch, state, transformation, parent.arch == child.arch,
                 copied / total if total else 1.0)


def _mismatch(parent: Realized, p, old: dict, tensors: dict):
    for suffix, t in tensors.items():
        src = old.get(suffix)
        if src is None:
            raise NaslError(f"the parent's weights are not those of architecture {parent.arch.id}: "
                            f"'{parent.paths[p]}.{suffix}' is missing")
        if tuple(src.shape) != tuple(t.shape):
            raise NaslError(f"the parent's weights are not those of architecture {parent.arch.id}: "
                            f"'{parent.paths[p]}.{suffix}' has shape {list(src.shape)}, "
                            f"the architecture needs {list(t.shape)}")


def _check_keys(parent: Realized):
    # a key under no layer of the parent means these weights belong to another architecture
    prefixes = {p + "." for p in parent.paths.values()}
    for k in parent.state:
        head = k
        while "." in head:
            head = head.rpartition(".")[0]
            if head + "." in prefixes:
                break
        else:
            raise NaslError(f"the parent's weights are not those of architecture {parent.arch.id}: "
                            f"'{k}' belongs to no layer of it")
