"""The IR: choice points, architectures, spaces and realized graphs (no torch here).

The names load on first use: importing a submodule such as ``nasl.ir.errors``
(which the command line does to start) does not import the space machinery.
"""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasl.ir.architecture import Architecture  # noqa: F401
    from nasl.ir.archgraph import ArchGraph  # noqa: F401
    from nasl.ir.decision_tree import Choice, ChoiceSpec, Constraint, Guard  # noqa: F401
    from nasl.ir.errors import (ConstraintViolation, EmptySpaceError, InternalError, InvalidArchitecture,  # noqa: F401
                                NaslError, NaslErrors, NaslSyntaxError, NotRelaxable, Span,
                                UnsatisfiableError)
    from nasl.ir.oplib import list_ops, register_op  # noqa: F401
    from nasl.ir.space import Space  # noqa: F401

__all__ = ["Architecture", "ArchGraph", "Choice", "ChoiceSpec", "Constraint", "Guard", "Space", "Span",
           "NaslError", "NaslErrors", "NaslSyntaxError", "InvalidArchitecture", "ConstraintViolation",
           "EmptySpaceError", "UnsatisfiableError", "InternalError", "NotRelaxable", "list_ops", "register_op"]

# name -> the submodule that defines it (networkx, behind ArchGraph, costs ~130 ms to import)
_WHERE = {"Architecture": "architecture", "ArchGraph": "archgraph", "Choice": "decision_tree",
          "ChoiceSpec": "decision_tree", "Constraint": "decision_tree", "Guard": "decision_tree", "Space": "space",
          "list_ops": "oplib", "register_op": "oplib",
          **{n: "errors" for n in ("ConstraintViolation", "EmptySpaceError", "InternalError", "InvalidArchitecture",
                                   "NaslError", "NaslErrors", "NaslSyntaxError", "NotRelaxable", "Span",
                                   "UnsatisfiableError")}}


def __getattr__(name):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'nasl.ir' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"nasl.ir.{where}"), name)
    globals()[name] = value
    return value
