"""NAS-Bench-101 specs: an upper-triangular adjacency matrix and a list of op names.

In ``examples/nas_bench_101.nas`` the edge i -> j is the choice
``cell.edge[i->j]`` (a bool) and vertex k's op is ``cell.node[k].op``.

The official table stores pruned specs, which may have fewer vertices than
the space (at most 7). :func:`to_arch` pads such a spec: its interior
vertices come first, its output becomes the space's last vertex, and the
extra vertices are isolated (pruned away again when the cell is realized)
with the first op. :func:`to_spec` gives the pruned spec back, as the
official ``ModelSpec`` does.

>>> import nasl
>>> from nasl.formats import nb101
>>> space = nasl.load("examples/nas_bench_101.nas")
>>> arch = nb101.to_arch(space, nb101.README_MATRIX, nb101.README_OPS)
>>> nb101.to_spec(space, arch) == (nb101.README_MATRIX, nb101.README_OPS)
True
"""
from __future__ import annotations

from typing import Mapping

from nasl.ir.architecture import Architecture
from nasl.ir.errors import InvalidArchitecture
from nasl.ir.space import Space

OPS = {"conv3x3-bn-relu": "conv3x3_bn_relu", "conv1x1-bn-relu": "conv1x1_bn_relu", "maxpool3x3": "maxpool3x3"}
_NAMES = {v: k for k, v in OPS.items()}

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


def _check(matrix, ops) -> int:
    if not isinstance(matrix, (list, tuple)) or not isinstance(ops, (list, tuple)):
        raise InvalidArchitecture("a NAS-Bench-101 spec is a square 0/1 matrix (a list of rows) and a list of ops")
    n = len(matrix)
    if n < 2 or len(ops) != n or any(not isinstance(row, (list, tuple)) or len(row) != n for row in matrix):
        raise InvalidArchitecture(f"a spec of {len(ops)} ops needs a {len(ops)}x{len(ops)} matrix (at least 2x2)")
    if ops[0] != "input" or ops[-1] != "output":
        raise InvalidArchitecture(f"a spec's ops start with 'input' and end with 'output', got {ops[0]!r} ... "
                                  f"{ops[-1]!r}")
    unknown = [op for op in ops[1:-1] if op not in OPS]
    if unknown:
        raise InvalidArchitecture(f"unknown NAS-Bench-101 op '{unknown[0]}'", hint=f"ops: {', '.join(OPS)}")
    for i in range(n):
        for j in range(n):
            if matrix[i][j] not in (0, 1, True, False):
                raise InvalidArchitecture(f"matrix[{i}][{j}] is {matrix[i][j]!r}; a spec's matrix holds 0 or 1")
            if matrix[i][j] and j <= i:
                raise InvalidArchitecture(f"matrix[{i}][{j}] is set below the diagonal; "
                                          "a spec's matrix is upper-triangular")
    return n


def from_spec(matrix, ops, prefix: str = "cell", vertices: int | None = None) -> dict:
    """The choices of an official ``(matrix, ops)`` spec (not validated), padded to ``vertices``."""
    n = _check(matrix, ops)
    v = n if vertices is None else vertices
    if n > v:
        raise InvalidArchitecture(f"the spec has {n} vertices; the space allows at most {v}")
    where = list(range(n - 1)) + [v - 1]            # the spec's vertex k is the space's vertex where[k]
    arch = {f"{prefix}.edge[{i}->{j}]": False for j in range(v) for i in range(j)}
    arch.update({f"{prefix}.node[{k}].op": "conv3x3_bn_relu" for k in range(1, v - 1)})
    for i in range(n):
        for j in range(i + 1, n):
            arch[f"{prefix}.edge[{where[i]}->{where[j]}]"] = bool(matrix[i][j])
    arch.update({f"{prefix}.node[{where[k]}].op": OPS[ops[k]] for k in range(1, n - 1)})
    return arch


def _cell(space: Space) -> tuple[str, int]:
    cells = [d for d in space.dags if d.prune and not d.picks]
    if len(cells) != 1:
        raise InvalidArchitecture(f"NAS-Bench-101 specs describe a space with one pruned dag cell; "
                                  f"{space.name} has {len(cells)}", hint="use examples/nas_bench_101.nas")
    return cells[0].prefix, cells[0].n


def to_arch(space: Space, matrix, ops) -> Architecture:
    """The architecture of ``space`` for an official spec, validated against the space."""
    prefix, v = _cell(space)
    return space.validate(from_spec(matrix, ops, prefix, v))


def to_spec(space: Space, arch: Mapping, prune: bool = True) -> tuple[list, list]:
    """``(matrix, ops)`` of an architecture; pruned to the vertices on input-to-output paths by default."""
    prefix, v = _cell(space)
    arch = space.validate(arch)
    edges = {(i, j) for j in range(v) for i in range(j) if arch.get(f"{prefix}.edge[{i}->{j}]")}
    keep = list(range(v))
    if prune:
        fwd, back = {0}, {v - 1}
        for j in range(v):
            if any((i, j) in edges for i in fwd):
                fwd.add(j)
        for i in reversed(range(v)):
            if any((i, j) in edges for j in back):
                back.add(i)
        keep = sorted(fwd & back)
    matrix = [[int((i, j) in edges) for j in keep] for i in keep]
    ops = ["input"] + [_NAMES[arch[f"{prefix}.node[{k}].op"]] for k in keep[1:-1]] + ["output"]
    return matrix, ops


def from_value(space: Space, value) -> Architecture:
    """The CLI's and the presets' entry point: ``{"matrix": ..., "ops": ...}`` or ``[matrix, ops]``."""
    if isinstance(value, Mapping) and set(value) >= {"matrix", "ops"}:
        return to_arch(space, value["matrix"], value["ops"])
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[1], (list, tuple)) \
            and all(isinstance(o, str) for o in value[1]):
        return to_arch(space, value[0], value[1])
    raise InvalidArchitecture("a NAS-Bench-101 spec is {\"matrix\": [[0, 1, ...], ...], \"ops\": [\"input\", ..., "
                              "\"output\"]}")


def to_value(space: Space, arch: Mapping) -> dict:
    """The JSON value :func:`from_value` reads back."""
    matrix, ops = to_spec(space, arch)
    return {"matrix": matrix, "ops": ops}
