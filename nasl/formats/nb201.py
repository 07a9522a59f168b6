"""NAS-Bench-201 architecture strings: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

Node k (1..3) lists its incoming edges as ``|op~src|`` ordered by source;
nodes are joined by ``+``. In ``examples/nas_bench_201.nas`` the edge from
``src`` to node ``k`` is the choice ``cell.edge[src->k]``.
"""
from __future__ import annotations

from nasl.ir.errors import InvalidArchitecture

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def from_string(text: str, prefix: str = "cell") -> dict:
    """``{prefix.edge[src->k]: op}`` for an official architecture string."""
    out = {}
    try:
        for dst, node in enumerate(text.strip().split("+"), start=1):
            for term in node.strip("|").split("|"):
                op, src = term.split("~")
                out[f"{prefix}.edge[{int(src)}->{dst}]"] = op
    except ValueError:
        raise InvalidArchitecture(f"not a NAS-Bench-201 architecture string: {text!r}",
                                  hint="expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|") from None
    return out


def to_string(arch, prefix: str = "cell", nodes: int = 4) -> str:
    """The official string of an architecture of the NB201 space."""
    parts = []
    for dst in range(1, nodes):
        terms = [f"{arch[f'{prefix}.edge[{src}->{dst}]']}~{src}" for src in range(dst)]
        parts.append("|" + "|".join(terms) + "|")
    return "+".join(parts)
