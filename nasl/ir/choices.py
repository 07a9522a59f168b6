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

import math
from dataclasses import dataclass, field
from itertools import combinations, permutations
from typing import Any, Callable, Iterator, Optional

from nasl.ir.errors import InternalError, NaslCycleError, NaslError, Span

KINDS = ("choice", "int", "float", "bool", "subset", "permutation")


@dataclass(frozen=True, eq=False)
class Choice:
    """One decision.

    ``domain`` depends on ``kind``:

    - ``choice``: the tuple of values (numbers, strings; op alternatives are labels);
    - ``int``: ``range`` of allowed integers (``log`` in hints for log-scale sampling);
    - ``float``: ``(low, high)``; continuous, so the space is infinite;
    - ``bool``: ``(False, True)``;
    - ``subset``: the items; ``k`` is the size (None for any size), ``ordered`` in options;
    - ``permutation``: the items.
    """

    path: str
    kind: str
    domain: Any
    span: Optional[Span] = None
    hints: frozenset = frozenset()
    k: Optional[int] = None
    ordered: bool = False
    log: bool = False
    condition: tuple = ()          # tuple of Guards, outermost first

    # ------------------------------------------------------------ cardinality
    @property
    def finite(self) -> bool:
        return self.kind != "float"

    def cardinality(self):
        """Number of values; ``math.inf`` for a float range."""
        kind, d = self.kind, self.domain
        if kind in ("choice", "bool"):
            return len(d)
        if kind == "int":
            return len(d)
        if kind == "float":
            return math.inf
        n = len(d)
        if kind == "permutation":
            return math.factorial(n)
        if self.k is None:
            return 2 ** n
        return math.perm(n, self.k) if self.ordered else math.comb(n, self.k)

    def values(self) -> Iterator[Any]:
        """Every value, in a fixed order (finite kinds only)."""
        kind, d = self.kind, self.domain
        if kind in ("choice", "bool", "int"):
            return iter(d)
        if kind == "float":
            raise ValueError(f"'{self.path}' is a float range and has no finite list of values")
        if kind == "permutation":
            return permutations(d)
        if self.k is None:
            return (tuple(c) for r in range(len(d) + 1) for c in combinations(d, r))
        if self.ordered:
            return permutations(d, self.k)
        return combinations(d, self.k)

    def contains(self, value) -> bool:
        kind, d = self.kind, self.domain
        if kind == "choice":
            return any(_same(value, x) for x in d)
        if kind == "bool":
            return isinstance(value, bool)
        if kind == "int":
            return isinstance(value, int) and not isinstance(value, bool) and value in d
        if kind == "float":
            return isinstance(value, (int, float)) and not isinstance(value, bool) and d[0] <= value <= d[1]
        if not isinstance(value, (tuple, list)):
            return False
        value = tuple(value)
        if len(set(value)) != len(value) or not all(any(_same(v, x) for x in d) for v in value):
            return False
        if kind == "permutation":
            return len(value) == len(d)
        if self.k is not None and len(value) != self.k:
            return False
        if not self.ordered:
            order = {x: i for i, x in enumerate(d)}
            return list(value) == sorted(value, key=order.__getitem__)
        return True

    def sample(self, rng):
        """A uniformly random value."""
        kind, d = self.kind, self.domain
        if kind in ("choice", "bool", "int"):
            return d[int(rng.random() * len(d))]
        if kind == "float":
            lo, hi = d
            if self.log:
                return math.exp(rng.uniform(math.log(lo), math.log(hi)))
            return rng.uniform(lo, hi)
        if kind == "permutation":
            items = list(d)
            rng.shuffle(items)
            return tuple(items)
        if self.k is None:
            return tuple(x for x in d if rng.random() < 0.5)
        picked = rng.sample(range(len(d)), self.k)
        if not self.ordered:
            picked.sort()
        return tuple(d[i] for i in picked)

    def describe(self) -> str:
        kind, d = self.kind, self.domain
        if kind == "choice":
            return "choice(" + ", ".join(_fmt(x) for x in d) + ")"
        if kind == "int":
            step = f", step={d.step}" if d.step != 1 else ""
            return f"int_range({d.start}, {d.stop - d.step}{step}{', log=true' if self.log else ''})"
        if kind == "float":
            return f"float_range({d[0]}, {d[1]}{', log=true' if self.log else ''})"
        if kind == "bool":
            return "boolean()"
        items = ", ".join(_fmt(x) for x in d)
        if kind == "permutation":
            return f"permutation([{items}])"
        extra = "" if self.k is None else f", k={self.k}"
        return f"subset([{items}]{extra}{', ordered=true' if self.ordered else ''})"

    def to_dict(self) -> dict:
        dom = list(self.domain) if self.kind != "int" else [self.domain.start, self.domain.stop - 1, self.domain.step]
        out = {"path": self.path, "kind": self.kind, "domain": dom, "hints": sorted(self.hints)}
        if self.kind == "subset":
            out.update(k=self.k, ordered=self.ordered)
        if self.log:
            out["log"] = True
        if self.condition:
            out["condition"] = [g.to_dict() for g in self.condition]
        return out


def checked_value(choice: "Choice", values):
    """The value ``values`` give ``choice``; InvalidArchitecture when missing or out of its domain."""
    from nasl.ir.errors import InvalidArchitecture
    if choice.path not in values:
        raise InvalidArchitecture(f"the architecture gives no value for '{choice.path}'", choice.span,
                                  hint=f"expected {choice.describe()}", path=choice.path)
    v = values[choice.path]
    if not choice.contains(v):
        raise InvalidArchitecture(f"'{choice.path}' = {_show(v)} is not in {choice.describe()}", choice.span,
                                  path=choice.path)
    return tuple(v) if isinstance(v, list) else v


def _show(v) -> str:
    import json
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return repr(v)


def _same(a, b) -> bool:
    # 1 == True in Python; a choice between 1 and true must keep them apart.
    return a == b and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                           and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _fmt(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return x
    return repr(x)


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
        return {"path": self.path, "values": sorted((_fmt(v) for v in self.values))}


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

    __slots__ = ("guard", "_block", "_thunk", "_forcing", "_error", "site", "key")

    def __init__(self, guard: Guard | None, block: Block | None = None, thunk: Callable[[], Block] | None = None,
                 site: str = "", key=None):
        self.guard = guard          # None: always present with its parent (a lazily built extension)
        self._block = block
        self._thunk = thunk
        self._forcing = False
        self._error = None          # the error that building the block raised; raised again on each use
        self.site = site
        self.key = key              # equal keys promise equally shaped blocks (for counting)

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
            if t is Choice:
                values[item.path] = answer(item, values)
            elif t is Group:
                if item.guard is None or item.guard.holds(values):
                    self._walk(item.block, answer, values)

    def active_choices(self, values) -> Iterator[Choice]:
        """The choice points that are active under ``values`` (a full assignment)."""
        return self._active(values, Choice)

    def active_constraints(self, values) -> Iterator[Constraint]:
        """The constraints that apply under ``values``."""
        return self._active(values, Constraint)

    def _active(self, values, kind) -> Iterator:
        stack = [iter(self.root.items)]
        while stack:
            for item in stack[-1]:
                t = type(item)
                if t is kind:
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
                if t is Choice:
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
        return [i for i in self.root.items if type(i) is Choice]

    def to_list(self) -> list[dict]:
        return [c.to_dict() for c in self.all_choices()]
