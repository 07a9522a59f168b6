"""nasl: a declarative language for neural-architecture search spaces.

``load`` / ``loads`` parse a ``.nas`` space; the returned :class:`Space`
counts, samples, enumerates, validates and realizes architectures. Nothing
here imports torch.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:       # the names below load on first use (``nasl --help`` needs none of them)
    from nasl.ir import (Architecture, Choice, ChoiceSpec, ConstraintViolation, EmptySpaceError,  # noqa: F401
                         InternalError, InvalidArchitecture, NaslError, NaslErrors, NaslSyntaxError, Space,
                         UnsatisfiableError, list_ops, register_op)

__version__ = "0.1.0"


def loads(text: str, file: str = "<string>", **params) -> Space:
    """Elaborate a space from source text; keyword arguments override its ``param`` s."""
    from nasl.dsl import elaborate
    if not isinstance(text, str):
        from nasl.ir import NaslError
        hint = " (decode it first, or use nasl.load for a file)" if isinstance(text, (bytes, bytearray)) else ""
        raise NaslError(f"nasl.loads takes the source text as a str, not {type(text).__name__}{hint}")
    return elaborate(text, file, params)


def load(path: str | os.PathLike, **params) -> Space:
    """Elaborate a space from a ``.nas`` file; keyword arguments override its ``param`` s."""
    from nasl.ir.reading import MAX_SOURCE_BYTES, read_text
    path = os.fspath(path)
    return loads(read_text(path, "the space file", MAX_SOURCE_BYTES), path, **params)


def realize(space: Space, arch):
    """The flat graph of concrete ops for an architecture of ``space``."""
    return space.realize(arch)


_FROM_IR = frozenset({"Architecture", "Choice", "ChoiceSpec", "ConstraintViolation", "EmptySpaceError",
                      "InternalError", "InvalidArchitecture", "NaslError", "NaslErrors", "NaslSyntaxError", "Space",
                      "UnsatisfiableError", "list_ops", "register_op"})


def __getattr__(name):
    # the IR loads on first use, networkx and torch only when these are asked for
    if name in _FROM_IR:
        import nasl.ir
        value = getattr(nasl.ir, name)
        globals()[name] = value
        return value
    if name == "ArchGraph":
        from nasl.ir.archgraph import ArchGraph
        return ArchGraph
    if name == "compile":
        from nasl.compiler import compile
        return compile
    if name == "compile_supernet":
        from nasl.oneshot import compile_supernet
        return compile_supernet
    if name == "cost":
        from nasl.compiler.cost import cost
        return cost
    if name in ("search", "Study"):
        import nasl.study
        return getattr(nasl.study, name)
    raise AttributeError(f"module 'nasl' has no attribute {name!r}")


__all__ = ["load", "loads", "realize", "Space", "Architecture", "ArchGraph", "Choice", "ChoiceSpec",
           "NaslError", "NaslErrors", "NaslSyntaxError", "InvalidArchitecture", "ConstraintViolation",
           "EmptySpaceError", "UnsatisfiableError", "InternalError", "list_ops", "register_op", "search", "Study",
           "compile_supernet"]
