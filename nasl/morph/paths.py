"""Path-level transformations (Cai et al., ICML 2018) of tree cells such as
``examples/path_level.nas``'s: a node of the tree is ``{P}.node`` (``none``, ``add2``, ``add3``,
``concat2``); its branch ``b`` owns ``{P}.edge[b]``, ``{P}.deeper[b]`` and the subtree
``{P}.child[b]``. One genotype serves every block, so each transformation changes every cell.

- :func:`replicate_path`: a single path becomes ``add2``/``add3`` over copies of it (same
  weights; the mean of equal tensors is the tensor).
- :func:`split_path`: a single path becomes ``concat2``; at the root the conv's output units
  are divided between the two branches, below it the input channels are split, which preserves
  the function only for per-channel edges (identity, pools).
- :func:`insert_node`: a branch gets a child node that passes its input on (``none`` with an
  ``identity`` edge).
- :func:`replace_identity`: an ``identity`` edge becomes an identity-initialised layer
  (``conv_1x1``: BN-ReLU-conv1x1). Its ReLU makes it the identity only on non-negative inputs;
  ``preserving`` says whether the edge's input is provably so (in ``path_level.nas`` it follows a
  conv, so it is not, and the child only starts near the parent).
"""
from __future__ import annotations

import re

import networkx as nx

from nasl.ir.errors import NaslError
from nasl.morph.align import align_scoped, inserted_blocks
from nasl.morph.graphs import Built, Morph, Realized, by_node, check_weights, child_of, count, moved
from nasl.morph.identity import identity_modes, initialise
from nasl.morph.inherit import inherit_realized


def _branch_paths(arch, node: str, b: int) -> dict:
    pat = re.compile(rf"^{re.escape(node)}\.(edge|deeper|child)\[{b}\](?=$|\.)")
    return {p: v for p, v in arch.items() if pat.match(p)}


def _to_branch(path: str, node: str, b: int) -> str:
    return re.sub(rf"^({re.escape(node)}\.(?:edge|deeper|child))\[0\]", rf"\g<1>[{b}]", path)


def _single(parent: Realized, node: str, what: str):
    key = f"{node}.node"
    if parent.arch.get(key) != "none":
        raise NaslError(f"{what}: '{key}' must be 'none' (a single path), it is {parent.arch.get(key)!r}", path=key)
    return key


def replicate_path(space, arch, state: dict, node: str = "cell", branches: int = 2, *, input_shape=None,
                   built: Built | None = None) -> Morph:
    """Replicate the single path of tree node ``node`` into ``branches`` add-merged copies."""
    what = "replicate_path"
    parent = Realized(space, arch, state, input_shape=input_shape)
    key = _single(parent, node, what)
    fill = {key: {2: "add2", 3: "add3"}.get(branches, f"add{branches}")}
    for b in range(1, branches):
        fill.update({_to_branch(p, node, b): v for p, v in _branch_paths(parent.arch, node, 0).items()})
    child = child_of(space, moved(space, parent.arch, key, fill[key], what, fill), what, input_shape, built)
    check_weights(parent)
    result = inherit_realized(parent, child, transformation=what)
    nodes = by_node(child, result.state_dict)
    for merge in _new_merges(parent, child, "mean"):
        groups = _branches(child, merge)
        for b_nodes in groups[1:]:
            for n0, nb in _paired(child, groups[0], b_nodes, what):
                for suffix, t in (parent.tensors(n0) if n0 in parent.paths else {}).items():
                    nodes[nb][suffix].copy_(t)
    return _result(child, result.state_dict, f"{what}({key}: none -> {fill[key]})", True, parent)


def split_path(space, arch, state: dict, node: str = "cell", *, input_shape=None,
               built: Built | None = None) -> Morph:
    """Split the single path of tree node ``node`` into two concat-merged branches."""
    what = "split_path"
    parent = Realized(space, arch, state, input_shape=input_shape)
    key = _single(parent, node, what)
    deeper = f"{node}.deeper[0]"
    if parent.arch.get(deeper):
        raise NaslError(f"{what}: branch 0 of '{node}' has a child node ('{deeper}' is true); splitting would "
                        f"split its layers' inputs, which does not preserve the function", path=deeper)
    edge = f"{node}.edge[0]"
    fill = {key: "concat2", f"{node}.deeper[1]": False}
    if edge in parent.arch:
        if parent.arch[edge] not in ("identity", "max_pool_3x3", "avg_pool_3x3"):
            raise NaslError(f"{what}: '{edge}' = {parent.arch[edge]!r} mixes channels, so splitting its input "
                            f"does not preserve the function (only identity and pools do)", path=edge)
        fill[f"{node}.edge[1]"] = parent.arch[edge]
    child = child_of(space, moved(space, parent.arch, key, "concat2", what, fill), what, input_shape, built)
    check_weights(parent)
    result = inherit_realized(parent, child, transformation=what)
    nodes = by_node(child, result.state_dict)
    for merge in _new_merges(parent, child, "concat"):
        groups = _branches(child, merge)
        off = 0
        for b_nodes, out in zip(groups, child.inputs(merge)):
            width = child.shapes[out][0]
            for n0, nb in _paired(child, groups[0], b_nodes, what, loose={out, child.inputs(merge)[0]}):
                for suffix, t in (parent.tensors(n0) if n0 in parent.paths else {}).items():
                    if nb == out and suffix in ("weight", "bias"):      # the branch's share of the units
                        t = t[off:off + width]
                    nodes[nb][suffix].copy_(t)
            off += width
    return _result(child, result.state_dict, f"{what}({key}: none -> concat2)", True, parent)


def insert_node(space, arch, state: dict, branch: str = "cell.deeper[0]", *, input_shape=None,
                built: Built | None = None) -> Morph:
    """Give a branch (``{P}.deeper[b]`` false) a child node that passes its input on."""
    what = "insert_node"
    parent = Realized(space, arch, state, input_shape=input_shape)
    if parent.arch.get(branch) is not False:
        raise NaslError(f"{what}: '{branch}' must be an active 'deeper' choice that is false", path=branch)
    sub = re.sub(r"\.deeper\[(\d+)\]$", r".child[\1]", branch)
    child = child_of(space, moved(space, parent.arch, branch, True, what,
                                  {f"{sub}.node": "none", f"{sub}.edge[0]": "identity"}), what, input_shape, built)
    check_weights(parent)
    result = inherit_realized(parent, child, transformation=what)
    return _result(child, result.state_dict, f"{what}({branch}: false -> true)", True, parent)


def replace_identity(space, arch, state: dict, edge: str, op: str = "conv_1x1", *,
                     allow_inexact: bool = False, input_shape=None, built: Built | None = None) -> Morph:
    """Replace an ``identity`` edge by the layer ``op``, initialised to the identity.

    A pre-activation layer (BN-ReLU-conv, as path_level's edges) passes its input on only where
    that input is non-negative: the ReLU cuts the rest, whatever BN and conv are set to. Where the
    edge reads a signed value (a conv's output), no initialisation preserves the function, so the
    transformation is refused with the edge and the value named; ``allow_inexact=True`` gives the
    child anyway (BN and conv at identity, ``preserving`` False)."""
    what = "replace_identity"
    parent = Realized(space, arch, state, input_shape=input_shape)
    if parent.arch.get(edge) != "identity":
        raise NaslError(f"{what}: '{edge}' must be 'identity', it is {parent.arch.get(edge)!r}", path=edge)
    child = child_of(space, moved(space, parent.arch, edge, op, what), what, input_shape, built)
    check_weights(parent)
    mapping = align_scoped(parent, child)
    # one block per cell that uses the genotype, each in place of one identity edge
    blocks = inserted_blocks(parent, child, mapping, what, edge)
    result = inherit_realized(parent, child, mapping=mapping, transformation=what)
    nodes = by_node(child, result.state_dict)
    exact = True
    for block, source, out in blocks:
        modes = identity_modes(child, block, source, out)
        if modes is None and not allow_inexact:
            raise NaslError(f"{what}: {edge} = {op} cannot preserve the function: its ReLU reads '{source}' "
                            f"(a {child.op(source)}), whose output can be negative; pass allow_inexact=True "
                            f"for a child that does not preserve it", path=edge)
        if modes is None:       # a ReLU on a signed input: BN and conv still pass their input on
            exact = False
            modes = {n: "id" for n in block if child.op(n) in ("bn", "conv", "dw_conv", "linear")}
        for n, mode in modes.items():
            initialise(child.op(n), mode, nodes.get(n, {}))
    return _result(child, result.state_dict, f"{what}({edge}: identity -> {op})", exact, parent)


def _new_merges(parent: Realized, child: Realized, op: str) -> list:
    """The merge nodes the transformation added: new, of ``op``, read by an old node."""
    return [n for n in child.ops if n not in parent.graph and child.op(n) == op
            and any(s in parent.graph for s in child.graph.successors(n))]


def _branches(r: Realized, merge) -> list:
    """The nodes of each branch into ``merge``, in creation order (empty for an identity edge)."""
    outs = r.inputs(merge)
    reach = [nx.ancestors(r.graph, o) | {o} for o in outs]
    common = set.intersection(*reach)
    order = {n: i for i, n in enumerate(r.ops)}
    return [sorted((n for n in s - common if n in order), key=order.get) for s in reach]


def _paired(r: Realized, first: list, other: list, what: str, loose: set = frozenset()):
    if len(first) != len(other):
        raise NaslError(f"{what}: internal mismatch between the copied branches")
    for a, b in zip(first, other):
        # the branch's last layer (its share of the units) and its channel slice differ in width
        if r.op(a) != r.op(b) or (r.signature(a) != r.signature(b) and not {a, b} & set(loose)
                                  and r.op(a) != "split"):
            raise NaslError(f"{what}: internal mismatch between '{a}' and '{b}'")
        yield a, b


def _result(child, state, transformation, preserving, parent) -> Morph:
    total = count(state)
    shared = sum(t.numel() for n in child.ops if n in parent.paths for t in parent.tensors(n).values()
                 if t.is_floating_point() and n in child.paths)
    return Morph(child.arch, state, transformation, preserving, min(shared / total, 1.0) if total else 1.0)
