"""Choice points and the decision tree that searchers see.

A :class:`ChoiceSpec` is an ordered tree of :class:`Block` s. A block holds
choice points, constraints and :class:`Group` s; a group is a nested block
that exists only while its :class:`Guard` holds (a choice inside a branch).
Groups may be *lazy*: their content is produced on first use, so recursive
rules and sub-spaces cost nothing until someone walks into them.

Walking the tree top-down in order, answering each active choice, visits
exactly the active choices; their answers form an :class:`Architecture`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from nasl.ir.choice import Choice, checked_value, fmt_value  # noqa: F401  (re-exported: the choice types)
from nasl.ir.choice_kind import CHOICE_TYPES
from nasl.ir.errors import InternalError, NaslCycleError, NaslError, Span

@dataclass(frozen=True, eq=False)
class Guard:
    """``path`` takes one of ``values``: the condition under which a group exists.

    For a subset choice, ``contains`` is set instead: the group exists while
    the chosen subset holds that item.
    """

    path: str
    values: frozenset
    text: str = ""

    def holds(self, assignment) -> bool:
        v = assignment.get(self.path, INACTIVE)
        if v is INACTIVE:
            return INACTIVE in self.values
        return _hashable(v) in self.values

    def to_dict(self) -> dict:
        return {"path": self.path, "values": sorted((fmt_value(v) for v in self.values))}


class _Inactive:
    """The 'value' of a choice that does not exist under an assignment."""

    def __repr__(self):
        return "inactive"


INACTIVE = _Inactive()


class AllOf:
    """A conjunction of guards (a condition over several choices)."""

    __slots__ = ("guards", "path", "paths")

    def __init__(self, guards):
        self.guards = tuple(guards)
        self.paths = tuple(g.path for g in self.guards)
        self.path = self.paths[-1]

    def holds(self, assignment) -> bool:
        return all(g.holds(assignment) for g in self.guards)


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


@dataclass(eq=False)
class Constraint:
    """A ``require``/``forbid`` over choice values, active under ``condition``."""

    sym: Any                     # has .deps (paths) and .ev(values) -> value
    negate: bool
    message: str
    span: Optional[Span]
    condition: tuple = ()

    def satisfied(self, values) -> bool:
        try:
            ok = bool(self.sym.ev(values))
        except NaslError as e:
            raise e.at(self.span)
        return ok != self.negate

    def partial(self, values):
        """True/False when decided by the values so far, else None."""
        p = getattr(self.sym, "partial", None)
        try:
            r = p(values) if p else (self.sym.ev(values) if all(d in values for d in self.sym.deps) else None)
        except NaslError as e:
            raise e.at(self.span)
        if r is None:
            return None
        return bool(r) != self.negate


@dataclass(eq=False)
class Block:
    """An ordered list of items: Choice, Group or Constraint."""

    items: list = field(default_factory=list)


class Group:
    """A block that exists only while ``guard`` holds; maybe lazily built."""

    __slots__ = ("guard", "_block", "_thunk", "_forcing", "_error", "site", "key", "origin")

    def __init__(self, guard: Guard | None, block: Block | None = None, thunk: Callable[[], Block] | None = None,
                 site: str = "", key=None, origin=None):
        self.guard = guard          # None: always present with its parent (a lazily built extension)
        self._block = block
        self._thunk = thunk
        self._forcing = False
        self._error = None          # the error that building the block raised; raised again on each use
        self.site = site
        self.key = key              # equal keys promise equally shaped blocks (for counting)
        self.origin = origin        # the builder's record of where a lazy block comes from (opaque here)

    @property
    def forced(self) -> bool:
        return self._block is not None

    @property
    def block(self) -> Block:
        if self._block is None:
            if self._error is not None:
                raise self._error       # a retry would see the half-registered choices of the first try
            if self._forcing:
                raise NaslCycleError(f"'{self.site}' expands into itself: the recursion has no base case")
            self._forcing = True
            try:
                self._block = self._thunk()
            except NaslError as e:
                self._error = e
                raise
            finally:
                self._forcing = False
            self._thunk = None
        return self._block


class ChoiceSpec:
    """The decision tree of a space: choice points in a fixed order.

    Iterating yields every choice point, expanding lazy groups; for a
    recursive space use :meth:`walk` instead, which visits only active ones.
    """

    def __init__(self, root: Block):
        self.root = root
        self._index: dict[str, Choice] = {}

    # ----------------------------------------------------------- traversal
    def walk(self, answer: Callable[[Choice, dict], Any]) -> dict:
        """Answer every active choice in order; returns ``{path: value}``."""
        values: dict = {}
        self._walk(self.root, answer, values)
        return values

    def _walk(self, block: Block, answer, values):
        for item in block.items:
            t = type(item)
            if t in CHOICE_TYPES:
                values[item.path] = answer(item, values)
            elif t is Group:
                if item.guard is None or item.guard.holds(values):
                    self._walk(item.block, answer, values)

    def active_choices(self, values) -> Iterator[Choice]:
        """The choice points that are active under ``values`` (a full assignment)."""
        return self._active(values, CHOICE_TYPES)

    def active_constraints(self, values) -> Iterator[Constraint]:
        """The constraints that apply under ``values``."""
        return self._active(values, (Constraint,))

    def _active(self, values, kinds) -> Iterator:
        stack = [iter(self.root.items)]
        while stack:
            for item in stack[-1]:
                t = type(item)
                if t in kinds:
                    yield item
                elif t is Group and (item.guard is None or item.guard.holds(values)):
                    stack.append(iter(item.block.items))
                    break
            else:
                stack.pop()

    def __iter__(self) -> Iterator[Choice]:
        return self.all_choices()

    def all_constraints(self) -> Iterator[Constraint]:
        """Every constraint, active or not; expands every lazy group."""
        stack = [self.root]
        while stack:
            for item in stack.pop().items:
                if type(item) is Constraint:
                    yield item
                elif type(item) is Group:
                    stack.append(item.block)

    def all_choices(self, limit: int = 1_000_000) -> Iterator[Choice]:
        """Every choice point, active or not; expands every lazy group."""
        n = 0
        stack = [iter(self.root.items)]
        while stack:
            for item in stack[-1]:
                t = type(item)
                if t in CHOICE_TYPES:
                    n += 1
                    if n > limit:
                        raise InternalError(f"more than {limit} choice points; walk the spec instead")
                    yield item
                elif t is Group:
                    stack.append(iter(item.block.items))
                    break
            else:
                stack.pop()

    def __getitem__(self, path: str) -> Choice:
        c = self._index.get(path)
        if c is None:
            for c2 in self.all_choices():
                self._index.setdefault(c2.path, c2)
            c = self._index.get(path)
            if c is None:
                raise KeyError(path)
        return c

    def __len__(self) -> int:
        return sum(1 for _ in self.all_choices())

    def top_level(self) -> list[Choice]:
        return [i for i in self.root.items if type(i) in CHOICE_TYPES]

    def to_list(self) -> list[dict]:
        return [c.to_dict() for c in self.all_choices()]
