"""Net2Deeper (Chen et al. 2016; EAS, Cai et al. 2018) and N2N's layer removal (Ashok et al.
2018) on a depth choice (a repeat whose count is a choice).

Net2Deeper raises the count by one: the parent's layers keep their weights (aligned in
execution order, :func:`nasl.morph.align.align_sequence`) and the new block is initialised to
the identity (:mod:`nasl.morph.identity`), so the child computes the parent's function. Layer
removal lowers the count: the remaining layers keep their weights, and the child does not
compute the parent's function (N2N trains it on, by distillation in the paper).
"""
from __future__ import annotations

from nasl.ir.errors import NaslError
from nasl.morph.align import align_sequence, insertion, removal
from nasl.morph.graphs import (Built, Morph, Realized, by_node, check_weights, child_of, is_number, moved,
                               next_value)
from nasl.morph.identity import identity_modes, initialise
from nasl.morph.inherit import inherit_realized


def net2deeper(space, arch, state: dict, path: str, value=None, fill: dict | None = None, *, input_shape=None,
               built: Built | None = None) -> Morph:
    """Deepen the repeat that choice ``path`` counts, to ``value`` (default: the next larger one),
    with the new layers initialised to the identity. Choices that the new layers bring (an
    mbconv's kernel and expand) take ``fill``'s values, else their domain's first.

    Refused, naming ``path``, when the space has no deeper point, when the change does more than
    add one block of layers, or when the new block cannot compute the identity (a ReLU on a
    signed input, a cell whose genotype has no skip path from its input to its output).
    """
    parent = Realized(space, arch, state, input_shape=input_shape)
    value = next_value(space, parent.arch, path, value, grow=True)
    child = child_of(space, moved(space, parent.arch, path, value, "net2deeper", fill), "net2deeper",
                     input_shape, built)
    check_weights(parent)
    modes, new, blocks = None, [], 0
    for mapping in align_sequence(parent, child):
        try:
            new, source, out = insertion(parent, child, mapping, "net2deeper", path)
        except NaslError:           # not one block read from one old tensor at this place
            continue
        blocks += 1
        modes = identity_modes(child, new, source, out)
        if modes is not None:
            break
    if not blocks:
        raise NaslError(f"net2deeper: '{path}' = {value!r} does not only insert one block of layers "
                        f"into the network", path=path)
    if modes is None:
        ops = sorted({child.op(n) for n in new})
        raise NaslError(f"net2deeper: the layers that '{path}' = {value!r} adds ({', '.join(ops)}) cannot be "
                        f"initialised to the identity here (a ReLU on a signed input, or no path that "
                        f"passes the input through)", path=path)
    result = inherit_realized(parent, child, mapping=mapping, transformation="net2deeper")
    nodes = by_node(child, result.state_dict)
    for n, mode in modes.items():
        initialise(child.op(n), mode, nodes.get(n, {}))
    return Morph(child.arch, result.state_dict, f"net2deeper({path}: {parent.arch[path]} -> {value})",
                 preserving=True, inherited=result.inherited)


def remove_layer(space, arch, state: dict, path: str, value=None, *, input_shape=None,
                 built: Built | None = None) -> Morph:
    """N2N's layer removal: lower the count of the repeat ``path`` (default: by one step).

    The remaining layers keep their trained weights; the child does not compute the parent's
    function (``preserving`` is False) and needs training.
    """
    parent = Realized(space, arch, state, input_shape=input_shape)
    value = next_value(space, parent.arch, path, value, grow=False)
    child = child_of(space, moved(space, parent.arch, path, value, "remove_layer"), "remove_layer",
                     input_shape, built)
    if not (is_number(value) and is_number(parent.arch[path]) and value < parent.arch[path]):
        raise NaslError(f"remove_layer: '{path}' = {value!r} does not lower {parent.arch[path]!r}", path=path)
    check_weights(parent)
    mappings = align_sequence(parent, child)
    if not mappings:
        raise NaslError(f"remove_layer: '{path}' = {value!r} does not only remove one block of layers",
                        path=path)
    mapping = mappings[0]
    removal(parent, child, mapping, "remove_layer", path)
    result = inherit_realized(parent, child, mapping=mapping)
    return Morph(child.arch, result.state_dict, f"remove_layer({path}: {parent.arch[path]} -> {value})",
                 preserving=False, inherited=result.inherited)
