"""DARTS genotypes: ``normal`` and ``reduce`` lists of (op, input) pairs, two per node.

A genotype (quark0/darts ``cnn/genotypes.py``) is a namedtuple or mapping
with ``normal``, ``normal_concat``, ``reduce`` and ``reduce_concat``. Node
``j`` (2, 3, ...) of a cell sums ``op(states[input])`` over its two pairs;
the cell output concatenates the nodes of ``*_concat``.

In ``examples/darts.nas`` node ``j`` of a cell picks its inputs as
``<cell>.node[j].inputs`` and the op on its s-th input as
``<cell>.node[j].edge[s]``; the cells are the genotypes ``normal`` and
``reduction``. When the space picks two *distinct* inputs (DARTS), the
inputs are a sorted pair, so :func:`to_genotype` lists a node's pairs by
input; when its picks are independent (``distinct=false``, for NASNet and
AmoebaNet) they keep the genotype's order and a genotype round-trips exactly.

>>> import nasl
>>> space = nasl.load("examples/darts.nas")
>>> arch = to_arch(space, DARTS_V2)
>>> arch["normal.node[4].inputs"], arch["normal.node[4].edge[0]"]
((0, 1), 'skip_connect')
>>> to_genotype(space, arch).normal[4:6]
[('skip_connect', 0), ('sep_conv_3x3', 1)]
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping

from nasl.ir.errors import InvalidArchitecture

Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")

# The genotypes of quark0/darts cnn/genotypes.py (facts, as published there).
DARTS_V1 = Genotype(
    normal=[("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
            ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)],
    reduce_concat=[2, 3, 4, 5])
DARTS_V2 = Genotype(
    normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
    reduce_concat=[2, 3, 4, 5])
NASNET = Genotype(
    normal=[("sep_conv_5x5", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 0), ("sep_conv_3x3", 0),
            ("avg_pool_3x3", 1), ("skip_connect", 0), ("avg_pool_3x3", 0), ("avg_pool_3x3", 0),
            ("sep_conv_3x3", 1), ("skip_connect", 1)],
    normal_concat=[2, 3, 4, 5, 6],
    reduce=[("sep_conv_5x5", 1), ("sep_conv_7x7", 0), ("max_pool_3x3", 1), ("sep_conv_7x7", 0),
            ("avg_pool_3x3", 1), ("sep_conv_5x5", 0), ("skip_connect", 3), ("avg_pool_3x3", 2),
            ("sep_conv_3x3", 2), ("max_pool_3x3", 1)],
    reduce_concat=[4, 5, 6])
AMOEBANET = Genotype(
    normal=[("avg_pool_3x3", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 2),
            ("sep_conv_3x3", 0), ("avg_pool_3x3", 3), ("sep_conv_3x3", 1), ("skip_connect", 1),
            ("skip_connect", 0), ("avg_pool_3x3", 1)],
    normal_concat=[4, 5, 6],
    reduce=[("avg_pool_3x3", 0), ("sep_conv_3x3", 1), ("max_pool_3x3", 0), ("sep_conv_7x7", 2),
            ("sep_conv_7x7", 0), ("avg_pool_3x3", 1), ("max_pool_3x3", 0), ("max_pool_3x3", 1),
            ("conv_7x1_1x7", 0), ("sep_conv_3x3", 5)],
    reduce_concat=[3, 4, 6])
# yuhuixu1993/PC-DARTS genotypes.py PC_DARTS_image: searched on ImageNet, evaluated there (imagenet=true)
PC_DARTS_IMAGE = Genotype(
    normal=[("skip_connect", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 0), ("skip_connect", 1),
            ("sep_conv_3x3", 1), ("sep_conv_3x3", 3), ("sep_conv_3x3", 1), ("dil_conv_5x5", 4)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("sep_conv_3x3", 0), ("skip_connect", 1), ("dil_conv_5x5", 2), ("max_pool_3x3", 1),
            ("sep_conv_3x3", 2), ("sep_conv_3x3", 1), ("sep_conv_5x5", 0), ("sep_conv_3x3", 3)],
    reduce_concat=[2, 3, 4, 5])
GENOTYPES = {"DARTS_V1": DARTS_V1, "DARTS_V2": DARTS_V2, "NASNet": NASNET, "AmoebaNet": AMOEBANET,
             "PC_DARTS_image": PC_DARTS_IMAGE}

# The parameters of examples/darts.nas under which NASNet and AmoebaNet are architectures.
NASNET_FORMAT = dict(nodes=5, distinct=False, concat="loose",
                     ops=["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                          "sep_conv_7x7", "dil_conv_3x3", "dil_conv_5x5", "conv_7x1_1x7"])

# genotype field -> the genotype (cell) that holds it in examples/darts.nas
CELLS = (("normal", "normal"), ("reduce", "reduction"))


def to_arch(space, genotype, cells=CELLS):
    """The architecture of ``space`` (``examples/darts.nas``) that a genotype describes.

    Parameters
    ----------
    space : Space
        A DARTS-format space; its cells' node count, op list and input rule are read from it.
    genotype : Genotype, Mapping or object
        With ``normal`` and ``reduce`` (lists of ``(op, input)`` pairs, two per node) and optionally
        ``normal_concat`` and ``reduce_concat``, which must then be the nodes the space concatenates.
    cells : sequence of (field, cell) pairs
        Which genotype field goes to which cell of the space.

    Raises
    ------
    InvalidArchitecture
        For a missing field, a wrong number of pairs, an op outside the space's op list, an input
        that is not an earlier node, an input read twice where the space picks distinct inputs, or
        a concat list other than the space's.
    """
    values = {}
    for field, cell in cells:
        info = _cell(space, cell)
        pairs = _get(genotype, field)
        if pairs is None:
            raise InvalidArchitecture(f"the genotype has no '{field}' list of (op, input) pairs")
        values.update(_cell_values(space, info, field, pairs))
        concat = _get(genotype, f"{field}_concat")
        if concat is not None:
            want = info.output_nodes(info.present_edges(values))
            if sorted(_int_list(concat, f"{field}_concat")) != want:
                rule = {"concat": "every intermediate node", "loose": "the nodes no other node reads"}
                raise InvalidArchitecture(
                    f"'{field}_concat' is {list(concat)}, but this space's cell concatenates "
                    f"{rule.get(info.output, info.output)}: {want}",
                    hint="for NASNet-style loose ends load the space with concat=\"loose\"")
    return space.validate(values)


def to_genotype(space, arch, cells=CELLS) -> Genotype:
    """The genotype of an architecture of a DARTS-format space (the inverse of :func:`to_arch`)."""
    out = {}
    for field, cell in cells:
        info = _cell(space, cell)
        pairs = []
        for j in info.computed():
            path, slots = info.picks[j]
            inputs = arch[path]
            pairs.extend((arch[slots[s].path], int(i)) for s, i in enumerate(inputs))
        out[field] = pairs
        out[f"{field}_concat"] = info.output_nodes(info.present_edges(arch))
    return Genotype(**out)


def from_value(space, value):
    """The architecture of a JSON-decoded genotype: ``{"normal": [[op, input], ...], "normal_concat": [...],
    "reduce": [...], "reduce_concat": [...]}`` (the CLI's ``--arch-format darts`` and the presets)."""
    if not isinstance(value, Mapping):
        raise InvalidArchitecture(f"a DARTS genotype is an object with normal, normal_concat, reduce and "
                                  f"reduce_concat, not {type(value).__name__}")
    unknown = set(value) - {"normal", "normal_concat", "reduce", "reduce_concat"}
    if unknown:
        raise InvalidArchitecture(f"a DARTS genotype has no field '{sorted(unknown)[0]}'",
                                  hint="fields: normal, normal_concat, reduce, reduce_concat")
    return to_arch(space, value)


def from_genotype(genotype, distinct: bool = True) -> dict:
    """The choices of the default ``examples/darts.nas`` for a genotype, without loading the space.

    Kept for callers that predate :func:`to_arch`; ``distinct=False`` keeps each node's pairs in
    the genotype's order (the ``distinct=false`` spaces).
    """
    out = {}
    for field, cell in CELLS:
        pairs = _get(genotype, field)
        if pairs is None:
            pairs = _get(genotype, cell)
        if pairs is None or len(pairs) % 2:
            raise InvalidArchitecture(f"the genotype needs an even list of (op, input) pairs for '{field}'")
        for i in range(len(pairs) // 2):
            node = _node_pairs(pairs, i, field, distinct)
            out[f"{cell}.node[{i + 2}].inputs"] = tuple(src for _, src in node)
            for s, (op, _) in enumerate(node):
                out[f"{cell}.node[{i + 2}].edge[{s}]"] = op
    return out


# ---------------------------------------------------------------- helpers

def _get(genotype, key):
    if isinstance(genotype, Mapping):
        return genotype.get(key)
    return getattr(genotype, key, None)


def _cell(space, cell):
    for info in space.dags:
        if info.prefix == cell:
            if info.inputs != 2 or not info.picks:
                break
            return info
    raise InvalidArchitecture(f"{space.name} has no DARTS cell '{cell}'",
                              hint="DARTS genotypes describe examples/darts.nas (two-input cells whose nodes pick "
                                   "their inputs)")


def _node_pairs(pairs, i, field, distinct):
    node = []
    for pair in pairs[2 * i:2 * i + 2]:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], str) \
                or not isinstance(pair[1], int) or isinstance(pair[1], bool):
            raise InvalidArchitecture(f"'{field}' node {i + 2}: {pair!r} is not an (op, input) pair")
        node.append((pair[0], pair[1]))
    if distinct:
        if node[0][1] == node[1][1]:
            raise InvalidArchitecture(f"node {i + 2} of '{field}' reads input {node[0][1]} twice; the DARTS space "
                                      "picks two distinct inputs",
                                      hint="load the space with distinct=false for NASNet-style genotypes")
        node.sort(key=lambda t: t[1])
    return node


def _cell_values(space, info, field, pairs) -> dict:
    n_nodes = info.n - info.inputs
    if not isinstance(pairs, (list, tuple)) or len(pairs) != 2 * n_nodes:
        got = len(pairs) if isinstance(pairs, (list, tuple)) else type(pairs).__name__
        raise InvalidArchitecture(f"'{field}' has {got} (op, input) pairs; this space's cells have {n_nodes} "
                                  f"nodes, so it needs {2 * n_nodes}",
                                  hint="load the space with nodes=N for genotypes of N nodes")
    out = {}
    for i, j in enumerate(info.computed()):
        path, slots = info.picks[j]
        choice = space.spec[path]
        node = _node_pairs(pairs, i, field, distinct=not choice.replace)
        for op, src in node:
            if not 0 <= src < j:
                raise InvalidArchitecture(f"node {j} of '{field}' reads input {src}, but only nodes 0..{j - 1} "
                                          "come before it")
        out[path] = tuple(src for _, src in node)
        for s, (op, _) in enumerate(node):
            ops = space.spec[slots[s].path].domain
            if op not in ops:
                raise InvalidArchitecture(f"node {j} of '{field}' uses op '{op}', which is not in this space's "
                                          f"op list", hint=f"ops: {', '.join(ops)}; load the space with ops=[...]")
            out[slots[s].path] = op
    return out


def _int_list(xs, name):
    if not isinstance(xs, (list, tuple, range)) or not all(isinstance(x, int) and not isinstance(x, bool)
                                                           for x in xs):
        raise InvalidArchitecture(f"'{name}' must be a list of node numbers, got {xs!r}")
    return list(xs)
