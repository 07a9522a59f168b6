"""NAS-Bench-201 architecture strings: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

Node k (1..3) lists its incoming edges as ``|op~src|`` ordered by source;
nodes are joined by ``+``. In ``examples/nas_bench_201.nas`` the edge from
``src`` to node ``k`` is the choice ``cell.edge[src->k]``.

>>> import nasl
>>> from nasl.formats import nb201
>>> space = nasl.load("examples/nas_bench_201.nas")
>>> arch = nb201.to_arch(space, "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|")
>>> arch["cell.edge[1->2]"]
'nor_conv_3x3'
>>> nb201.to_string(space, arch)
'|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|'
"""
from __future__ import annotations

from typing import Mapping

from nasl.ir.architecture import Architecture
from nasl.ir.errors import InvalidArchitecture
from nasl.ir.space import Space

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
_SHAPE_HINT = "expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|"


def cell_of(space: Space) -> tuple[str, int]:
    """``(prefix, nodes)`` of the space's one edge-labelled dag cell (``("cell", 4)`` for NAS-Bench-201)."""
    cells = [d for d in space.dags if d.edges and not d.picks]
    if len(cells) != 1:
        raise InvalidArchitecture(f"NAS-Bench-201 strings describe a space with one dag cell whose edges carry "
                                  f"ops; {space.name} has {len(cells)}",
                                  hint="use examples/nas_bench_201.nas or a space like it")
    return cells[0].prefix, cells[0].n


def from_string(text: str, prefix: str = "cell") -> dict:
    """``{prefix.edge[src->k]: op}`` for an official architecture string (not validated)."""
    if not isinstance(text, str):
        raise InvalidArchitecture(f"a NAS-Bench-201 architecture is a string, not {type(text).__name__}",
                                  hint=_SHAPE_HINT)
    out = {}
    try:
        for dst, node in enumerate(text.strip().split("+"), start=1):
            node = node.strip()
            if not (node.startswith("|") and node.endswith("|")) or len(node) < 3:
                raise ValueError(node)
            terms = node[1:-1].split("|")
            if len(terms) != dst:
                raise ValueError(node)
            for term in terms:
                op, src = term.split("~")
                if int(src) >= dst or f"{prefix}.edge[{int(src)}->{dst}]" in out:
                    raise ValueError(term)
                out[f"{prefix}.edge[{int(src)}->{dst}]"] = op
    except ValueError:
        raise InvalidArchitecture(f"not a NAS-Bench-201 architecture string: {text!r}", hint=_SHAPE_HINT) from None
    return out


def to_arch(space: Space, text: str) -> Architecture:
    """The architecture of ``space`` that an official string names, validated against the space."""
    prefix, nodes = cell_of(space)
    values = from_string(text, prefix)
    if len(values) != nodes * (nodes - 1) // 2:
        raise InvalidArchitecture(f"{text!r} describes a cell of {len(values)} edges; "
                                  f"the cell of {space.name} has {nodes * (nodes - 1) // 2}", hint=_SHAPE_HINT)
    return space.validate(values)


def to_string(space_or_arch, arch: Mapping | None = None, prefix: str = "cell", nodes: int = 4) -> str:
    """The official string of an architecture: ``to_string(space, arch)``.

    The older form ``to_string(arch, prefix="cell", nodes=4)`` is still accepted.
    """
    if isinstance(space_or_arch, Space):
        if arch is None:
            raise TypeError("to_string(space, arch) needs the architecture")
        prefix, nodes = cell_of(space_or_arch)
        arch = space_or_arch.validate(arch)
    else:
        arch = space_or_arch
    parts = []
    for dst in range(1, nodes):
        try:
            terms = [f"{arch[f'{prefix}.edge[{src}->{dst}]']}~{src}" for src in range(dst)]
        except KeyError as e:
            raise InvalidArchitecture(f"the architecture has no choice {e.args[0]!r}") from None
        parts.append("|" + "|".join(terms) + "|")
    return "+".join(parts)


def from_value(space: Space, value) -> Architecture:
    """The CLI's and the presets' entry point: ``value`` is the architecture string."""
    return to_arch(space, value)


def to_value(space: Space, arch: Mapping) -> str:
    """The JSON value :func:`from_value` reads back: the architecture string."""
    return to_string(space, arch)
