"""The elaborator's context: where in the program, and in which mode, code runs."""
from __future__ import annotations

from nasl.ir.decision_tree import Block, Group, Guard

SPEC, REALIZE, SUPER = "spec", "realize", "super"     # super: nasl/dsl/super_mode.py
MAX_DEPTH = 200
MAX_LENGTH = 100_000       # the most items of a list or a range, and iterations of a repeat


class Ctx:
    """Immutable-by-convention state threaded through evaluation.

    ``cprefix`` prefixes choice paths and ``nprefix`` graph node names; they
    differ only inside a tied genotype, whose choices are shared while each
    use gets nodes of its own. In spec mode, ``block`` collects what is
    registered and ``guards`` is the chain of conditions around it. In
    realize mode, ``values`` is the architecture and ``graph`` the builder.
    """

    __slots__ = ("mode", "cprefix", "nprefix", "loops", "names", "guards", "block", "values", "graph",
                 "depth", "anon_here", "hints", "trace")

    def __init__(self, mode, *, cprefix="", nprefix="", loops=(), names=None, guards=(), block=None,
                 values=None, graph=None, depth=0, anon_here=False, hints=frozenset(), trace=()):
        self.mode = mode
        self.cprefix = cprefix
        self.nprefix = nprefix
        self.loops = loops
        self.names = names or {}
        self.guards = guards
        self.block = block
        self.values = values
        self.graph = graph
        self.depth = depth
        self.anon_here = anon_here
        self.hints = hints
        self.trace = trace

    def but(self, **changes) -> "Ctx":
        if not changes.keys() <= _SLOTS:
            raise TypeError(f"Ctx has no field {sorted(changes.keys() - _SLOTS)[0]!r}")
        # every field copied by name, then the changes: a loop of getattr/setattr over the slots
        # cost about 6% of realizing a network (it runs for every scope, loop and call)
        c = _new(Ctx)
        c.mode, c.cprefix, c.nprefix, c.loops, c.names = self.mode, self.cprefix, self.nprefix, self.loops, self.names
        c.guards, c.block, c.values, c.graph, c.depth = self.guards, self.block, self.values, self.graph, self.depth
        c.anon_here, c.hints, c.trace = self.anon_here, self.hints, self.trace
        for k, v in changes.items():
            setattr(c, k, v)
        return c

    @property
    def spec(self) -> bool:
        return self.mode == SPEC

    def path(self, node, default: str) -> str:
        """The path of the naming site ``node`` in this scope, with loop indices."""
        base = self.names.get(id(node), default)
        if self.anon_here and base in ("choice", "optional", "boolean", "int_range", "float_range",
                                       "subset", "permutation"):
            return self.cprefix
        seg = base + "".join(f"[{i}]" for i in self.loops)
        if not self.cprefix:
            return seg
        return f"{self.cprefix}.{seg}" if seg else self.cprefix

    def node_scope(self, node, default: str) -> str:
        base = self.names.get(id(node), default)
        seg = base + "".join(f"[{i}]" for i in self.loops)
        if not self.nprefix:
            return seg
        return f"{self.nprefix}.{seg}" if seg else self.nprefix

    def guarded(self, guard: Guard) -> tuple["Ctx", Group]:
        """A child context whose registrations land in a new group under ``guard``."""
        g = Group(guard, Block(), site=guard.path)
        return self.but(guards=self.guards + (guard,), block=g.block), g


_SLOTS = frozenset(Ctx.__slots__)
_new = object.__new__
assert len(Ctx.__slots__) == 13        # but() names each field
