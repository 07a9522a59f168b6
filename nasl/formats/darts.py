"""DARTS genotypes: ``normal`` and ``reduce`` lists of (op, input) pairs, two per node.

In ``examples/darts.nas`` intermediate node j (2, 3, ...) of a cell picks its
inputs as ``<cell>.node[j].inputs`` (the sorted pair) and the op on the s-th
picked input as ``<cell>.node[j].edge[s]``; the cells are the genotypes
``normal`` and ``reduction``.
"""
from __future__ import annotations

from nasl.ir.errors import InvalidArchitecture

# (op, input) pairs as in the official genotypes.py; *_concat lists the output nodes
DARTS_V2 = dict(
    normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
    reduce_concat=[2, 3, 4, 5],
)

CELLS = (("normal", "normal"), ("reduce", "reduction"))


def from_genotype(genotype) -> dict:
    """The choices of ``examples/darts.nas`` for a genotype (a dict or an object with those fields)."""
    get = genotype.get if isinstance(genotype, dict) else (lambda k, d=None: getattr(genotype, k, d))
    out = {}
    for key, cell in CELLS:
        pairs = get(key) if get(key) is not None else get(cell)
        if pairs is None or len(pairs) % 2:
            raise InvalidArchitecture(f"the genotype needs an even list of (op, input) pairs for '{key}'")
        for i in range(len(pairs) // 2):
            a, b = sorted(pairs[2 * i:2 * i + 2], key=lambda t: t[1])
            if a[1] == b[1]:
                raise InvalidArchitecture(f"node {i + 2} of '{key}' reads input {a[1]} twice; "
                                          "the DARTS space picks two distinct inputs")
            out[f"{cell}.node[{i + 2}].inputs"] = (a[1], b[1])
            out[f"{cell}.node[{i + 2}].edge[0]"] = a[0]
            out[f"{cell}.node[{i + 2}].edge[1]"] = b[0]
    return out
