"""NAS-Bench-101 specs: an upper-triangular adjacency matrix and a list of op names.

In ``examples/nas_bench_101.nas`` the edge i -> j is the choice
``cell.edge[i->j]`` (a bool) and vertex k's op is ``cell.node[k].op``.
"""
from __future__ import annotations

from nasl.ir.errors import InvalidArchitecture

OPS = {"conv3x3-bn-relu": "conv3x3_bn_relu", "conv1x1-bn-relu": "conv1x1_bn_relu", "maxpool3x3": "maxpool3x3"}

# the Inception-like spec of the official README (2,694,282 parameters)
README_MATRIX = [[0, 1, 1, 1, 0, 1, 0],
                 [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 1, 0, 0],
                 [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 0, 0]]
README_OPS = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3",
              "output"]


def from_spec(matrix, ops, prefix: str = "cell") -> dict:
    """The architecture of an official ``(matrix, ops)`` spec."""
    n = len(matrix)
    if len(ops) != n or any(len(row) != n for row in matrix):
        raise InvalidArchitecture(f"a spec of {n} vertices needs an {n}x{n} matrix and {n} ops")
    unknown = [op for op in ops[1:-1] if op not in OPS]
    if unknown:
        raise InvalidArchitecture(f"unknown NAS-Bench-101 op '{unknown[0]}'", hint=f"ops: {', '.join(OPS)}")
    arch = {f"{prefix}.edge[{i}->{j}]": bool(matrix[i][j]) for j in range(n) for i in range(j)}
    arch.update({f"{prefix}.node[{k}].op": OPS[ops[k]] for k in range(1, n - 1)})
    return arch
