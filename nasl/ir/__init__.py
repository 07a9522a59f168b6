"""The IR: choice points, architectures, spaces and realized graphs (no torch here)."""
from nasl.ir.architecture import Architecture
from nasl.ir.choices import Choice, ChoiceSpec, Constraint, Guard
from nasl.ir.errors import (ConstraintViolation, EmptySpaceError, InternalError, InvalidArchitecture, NaslError,
                            NaslErrors, NaslSyntaxError, Span, UnsatisfiableError)
from nasl.ir.oplib import list_ops, register_op
from nasl.ir.space import Space

__all__ = ["Architecture", "ArchGraph", "Choice", "ChoiceSpec", "Constraint", "Guard", "Space", "Span",
           "NaslError", "NaslErrors", "NaslSyntaxError", "InvalidArchitecture", "ConstraintViolation",
           "EmptySpaceError", "UnsatisfiableError", "InternalError", "list_ops", "register_op"]


def __getattr__(name):
    # networkx costs ~130 ms to import; only realization needs it.
    if name == "ArchGraph":
        from nasl.ir.archgraph import ArchGraph
        return ArchGraph
    raise AttributeError(f"module 'nasl.ir' has no attribute {name!r}")
