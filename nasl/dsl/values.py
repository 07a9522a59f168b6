"""Run-time values of the elaborator.

The elaborator runs a program in one of two modes. In *realize* mode every
choice has a concrete answer and applying an op adds a node to the graph. In
*spec* mode choices have no answer yet: a choice evaluates to a
:class:`ChoiceVal`, arithmetic on it builds a :class:`Sym` (an expression
over choice paths, evaluated later for constraints and conditions), and
tensors are placeholders.
"""
from __future__ import annotations

from typing import Callable

from nasl.ir.oplib import OpSig


class Tensor:
    """A value flowing through the network: a graph node's output, or a placeholder in spec mode."""

    __slots__ = ("node", "index")

    def __init__(self, node: str | None, index: int = 0):
        self.node = node
        self.index = index

    def __repr__(self):
        return f"Tensor({self.node})"


PLACEHOLDER = Tensor(None)


class OpFn:
    """A library op with some parameters bound; applying it to tensors adds a node."""

    __slots__ = ("sig", "params", "span")

    def __init__(self, sig: OpSig, params: dict, span):
        self.sig, self.params, self.span = sig, params, span

    @property
    def name(self) -> str:
        return self.sig.name

    def __repr__(self):
        ps = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.sig.name}({ps})"


class Compose:
    """``f >> g`` for two functions: apply f, then g."""

    __slots__ = ("fns",)

    def __init__(self, fns: tuple):
        self.fns = fns


class DefFn:
    """A definition, possibly with its parameters bound.

    ``site`` is ``(choice_prefix, node_prefix)``, fixed where the parameters
    were bound; a tied genotype keeps its own choice prefix at every use.
    """

    __slots__ = ("decl", "args", "site", "genotype", "globals")

    def __init__(self, decl, args: dict | None, site=None, genotype: str | None = None, globals=None):
        self.decl, self.args, self.site, self.genotype, self.globals = decl, args, site, genotype, globals

    @property
    def name(self) -> str:
        return self.genotype or self.decl.name

    def __repr__(self):
        return f"<def {self.decl.name}>"


class DagFn:
    """A ``dag(...) {...}`` expression waiting for its input tensors."""

    __slots__ = ("node", "env", "ctx")

    def __init__(self, node, env, ctx):
        self.node, self.env, self.ctx = node, env, ctx


class AbsentType:
    """What ``optional(x)`` gives when x is left out: applying it passes the input on."""

    _inst = None

    def __new__(cls):
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self):
        return "absent"


ABSENT = AbsentType()


class Unknown:
    """A genotype parameter that only each use supplies (spec mode)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"<unknown {self.name}>"


class Builtin:
    """A function of the language implemented in Python."""

    __slots__ = ("name", "fn")

    def __init__(self, name: str, fn: Callable):
        self.name, self.fn = name, fn


from nasl.ir.symbols import (ChoiceRef, CountSym, FnSym, Merged, OpSym, Sym,  # noqa: F401  (re-exported)
                             sym_op)


class ChoiceVal(ChoiceRef):
    """A choice in spec mode: its reference plus the alternatives' values, each under its guard."""

    __slots__ = ("alts",)

    def __init__(self, path, choice, alts):
        super().__init__(path, choice)
        self.alts = alts   # list of (Guard, value)

    def ev(self, values):
        # what realize mode computes: a labelled number (`nl + 1 as deep`) is its number in a
        # constraint or a repeat count, not its label; an op alternative stays its label
        label = values.get(self.path)
        if self.choice.kind != "choice":
            return label
        for guard, v in self.alts:
            if label in guard.values:
                if isinstance(v, Sym):
                    return v.ev(values)
                return v if isinstance(v, (int, float, str)) else label
        return label
