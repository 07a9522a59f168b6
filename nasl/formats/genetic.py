"""Genetic CNN bit strings (Xie & Yuille, ICCV 2017).

Stage s of K_s nodes has K_s(K_s-1)/2 bits. As in the paper, they are
ordered by the later node: bit (1,2), then (1,3), (2,3), then (1,4), (2,4),
(3,4) and so on (nodes numbered from 1), and the paper writes the groups
apart with ``-``: ``1-01-001`` is a chain of four nodes.

A string gives the stages one after another; separators (``-``, ``|``,
``_``, ``,``, ``.``, ``/`` and spaces) may sit anywhere and are ignored, so
``"1-01-001"``, ``"101001"`` and ``"101|000111|..."`` all work; only the
number of bits must be right. :func:`to_bits` writes the stages apart with
``-``. A list of ints (all bits) or of per-stage strings or lists works too.

In ``examples/genetic_cnn.nas`` bit (i,j) of stage s is the choice
``stage[s].nodes.edge[i-1->j-1]``; the stages are the space's
``implicit_io`` dags, in order.

>>> import nasl
>>> space = nasl.load("examples/genetic_cnn.nas")
>>> arch = to_arch(space, "1-01 | 1-01-001 | 0-00-000-0000")
>>> arch["stage[1].nodes.edge[2->3]"]
True
>>> to_bits(space, arch)
'101-101001-0000000000'
"""
from __future__ import annotations

from nasl.ir.errors import InvalidArchitecture

SEPARATORS = set("-|_,./ \t\n")


def stages(space) -> list:
    """The dag of each stage of a Genetic CNN space, in order."""
    out = [d for d in space.dags if d.implicit_io]
    if not out:
        raise InvalidArchitecture(f"{space.name} has no Genetic CNN stages",
                                  hint="Genetic CNN bit strings describe dags with implicit_io=true "
                                       "(examples/genetic_cnn.nas)")
    return out


def bit_pairs(k: int) -> list:
    """The node pairs ``(i, j)`` (0-based, i < j) of a stage of k nodes, in the paper's bit order."""
    return [(i, j) for j in range(1, k) for i in range(j)]


def to_arch(space, bits):
    """The architecture of a bit string (or list of bits, or per-stage list) in ``space``.

    Raises
    ------
    InvalidArchitecture
        For a character other than 0, 1 or a separator, an item that is not a bit, or a number
        of bits other than the space's.
    """
    infos = stages(space)
    sizes = [len(bit_pairs(d.n)) for d in infos]
    flat = _flatten(bits, sizes)
    if len(flat) != sum(sizes):
        per = " + ".join(str(n) for n in sizes)
        raise InvalidArchitecture(f"this space's stages have K = {[d.n for d in infos]} nodes, so it needs "
                                  f"{per} = {sum(sizes)} bits, got {len(flat)}")
    values, pos = {}, 0
    for d in infos:
        for i, j in bit_pairs(d.n):
            slot = d.edges.get((i, j))
            if slot is None or slot.path is None:
                raise InvalidArchitecture(f"stage '{d.prefix}' has no edge choice {i}->{j}")
            values[slot.path] = bool(flat[pos])
            pos += 1
    return space.validate(values)


def to_bits(space, arch, sep: str = "-") -> str:
    """The bit string of an architecture: one run of bits per stage, joined by ``sep``."""
    parts = []
    for d in stages(space):
        parts.append("".join("1" if arch[d.edges[(i, j)].path] else "0" for i, j in bit_pairs(d.n)))
    return sep.join(parts)


def from_value(space, value):
    """The architecture of a JSON value: a bit string, a list of bits, or a list of per-stage strings or lists
    (the CLI's ``--arch-format genetic`` and the presets)."""
    return to_arch(space, value)


def _flatten(bits, sizes) -> list:
    if isinstance(bits, str):
        return _chars(bits)
    if not isinstance(bits, (list, tuple)):
        raise InvalidArchitecture(f"a Genetic CNN architecture is a bit string or a list of bits, "
                                  f"not {type(bits).__name__}")
    if bits and all(isinstance(b, (str, list, tuple)) for b in bits):
        if len(bits) != len(sizes):
            raise InvalidArchitecture(f"this space has {len(sizes)} stages, got {len(bits)} per-stage entries")
        out = []
        for s, (part, n) in enumerate(zip(bits, sizes)):
            got = _flatten(part, [n])
            if len(got) != n:
                raise InvalidArchitecture(f"stage {s} needs {n} bits, got {len(got)}")
            out.extend(got)
        return out
    for b in bits:
        if b not in (0, 1) or isinstance(b, float):
            raise InvalidArchitecture(f"{b!r} is not a bit (0 or 1)")
    return [int(b) for b in bits]


def _chars(text: str) -> list:
    out = []
    for ch in text:
        if ch in "01":
            out.append(int(ch))
        elif ch not in SEPARATORS:
            raise InvalidArchitecture(f"{text!r} is not a Genetic CNN bit string: {ch!r} is neither a bit nor a "
                                      "separator", hint="write bits as 0 and 1, e.g. 1-01|1-01-001|...")
    return out
