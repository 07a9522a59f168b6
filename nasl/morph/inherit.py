"""Weight inheritance for any mutation of any space (Real et al. 2017: a child starts from its
parent's weights wherever its layers are the parent's).

A child node inherits when the parent has a node with the same node identity (stable id, op,
resolved params, input shapes; :mod:`nasl.compiler.node_identity`, the identity the ``bank``
supernet keys its weights by): then every tensor of it is copied. Everything else keeps the
child's fresh initialisation. This is not function-preserving in general (a mutated op changes
what flows on); the transformations of :mod:`nasl.morph` are, where the space allows them.

Node ids are the realized graph's (``cell[0].edge[0->1].relu_conv_bn``), stable across runs;
within one scope they carry a counter (``bn_1``), so after a mutation that adds a layer before
another of the same op in the same scope, the later one's id names the earlier parent layer.
Such a node still has the same op, params and shapes, so the copy is well-formed; it is
inheritance, not an exact correspondence (the function-preserving transformations align graphs
structurally instead, :mod:`nasl.morph.align`).
"""
from __future__ import annotations

from nasl.compiler.node_identity import inherit_state
from nasl.morph.graphs import Morph, Realized, count, fresh


def inherit(space, parent_arch, parent_state: dict, child_arch, *, input_shape=None, into: dict | None = None,
            mapping: dict | None = None, transformation: str = "inherit", child_graph=None) -> Morph:
    """The child's state_dict: the parent's tensors where a node is unchanged, fresh elsewhere.

    This is nasl's one inheritance function (the argument order of every :mod:`nasl.morph`
    transformation: space, parent, its weights, then what to make of it). ``into`` is the
    child's state_dict to start from (say a model already compiled for the child, which then
    costs no second initialisation); by default a fresh one. ``input_shape`` overrides the
    declared input shape, as for ``nasl.compile``. ``mapping`` (``{child node: parent node}``)
    overrides the match by id, for callers that know the correspondence. Weights that do not fit
    the parent architecture raise a one-line :class:`NaslError`. ``child_graph`` is the child's
    realized graph where the caller has it (it compiled the child from it): not realized again.
    """
    parent = Realized(space, parent_arch, parent_state, input_shape=input_shape)
    child = Realized(space, child_arch, who="child", input_shape=input_shape, graph=child_graph)
    state = None if into is None else dict(into)       # its tensors stay where nothing is inherited
    return inherit_realized(parent, child, mapping=mapping, transformation=transformation, state=state)


def inherit_realized(parent: Realized, child: Realized, *, mapping: dict | None = None,
                     transformation: str = "inherit", state: dict | None = None) -> Morph:
    state = fresh(child) if state is None else state
    copied = inherit_state(parent.table, parent.state, child.table, state, mapping=mapping,
                           parent_id=parent.arch.id)
    total = count(state)
    return Morph(child.arch, state, transformation, parent.arch == child.arch,
                 copied / total if total else 1.0)
