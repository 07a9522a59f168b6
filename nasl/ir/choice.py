"""A choice point: one decision, its kind and its domain."""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations, combinations_with_replacement, permutations, product
from typing import Any, Iterator, Optional

from nasl.ir.errors import Span


@dataclass(frozen=True, eq=False)
class Choice:
    """One decision.

    ``domain`` depends on ``kind``:

    - ``choice``: the tuple of values (numbers, strings; op alternatives are labels);
    - ``int``: ``range`` of allowed integers (``log`` in hints for log-scale sampling);
    - ``float``: ``(low, high)``; continuous, so the space is infinite;
    - ``bool``: ``(False, True)``;
    - ``subset``: the items; ``k`` is the size (None for any size), ``ordered`` in options;
      ``replace`` lets an item be picked more than once (k-tuples, or sorted multisets
      when not ordered): a cell node whose two inputs are sampled independently;
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
    replace: bool = False
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
        if self.replace:
            return n ** self.k if self.ordered else math.comb(n + self.k - 1, self.k)
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
        if self.replace:
            return product(d, repeat=self.k) if self.ordered else combinations_with_replacement(d, self.k)
        if self.ordered:
            return permutations(d, self.k)
        return combinations(d, self.k)

    def contains(self, value) -> bool:
        kind, d = self.kind, self.domain
        if kind == "choice":
            return any(same_value(value, x) for x in d)
        if kind == "bool":
            return isinstance(value, bool)
        if kind == "int":
            return isinstance(value, int) and not isinstance(value, bool) and value in d
        if kind == "float":
            return isinstance(value, (int, float)) and not isinstance(value, bool) and d[0] <= value <= d[1]
        if not isinstance(value, (tuple, list)):
            return False
        value = tuple(value)
        if (len(set(value)) != len(value) and not self.replace) or not all(any(same_value(v, x) for x in d) for v in value):
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
        if self.replace:
            if self.ordered:
                return tuple(d[int(rng.random() * len(d))] for _ in range(self.k))
            # stars and bars: a uniform k-subset of n+k-1 slots is a uniform multiset
            slots = sorted(rng.sample(range(len(d) + self.k - 1), self.k))
            return tuple(d[x - i] for i, x in enumerate(slots))
        picked = rng.sample(range(len(d)), self.k)
        if not self.ordered:
            picked.sort()
        return tuple(d[i] for i in picked)

    def describe(self) -> str:
        kind, d = self.kind, self.domain
        if kind == "choice":
            return "choice(" + ", ".join(fmt_value(x) for x in d) + ")"
        if kind == "int":
            step = f", step={d.step}" if d.step != 1 else ""
            return f"int_range({d.start}, {d.stop - d.step}{step}{', log=true' if self.log else ''})"
        if kind == "float":
            return f"float_range({d[0]}, {d[1]}{', log=true' if self.log else ''})"
        if kind == "bool":
            return "boolean()"
        items = ", ".join(fmt_value(x) for x in d)
        if kind == "permutation":
            return f"permutation([{items}])"
        extra = "" if self.k is None else f", k={self.k}"
        return (f"subset([{items}]{extra}{', ordered=true' if self.ordered else ''}"
                f"{', replace=true' if self.replace else ''})")

    def to_dict(self) -> dict:
        dom = list(self.domain) if self.kind != "int" else [self.domain.start, self.domain.stop - 1, self.domain.step]
        out = {"path": self.path, "kind": self.kind, "domain": dom, "hints": sorted(self.hints)}
        if self.kind == "subset":
            out.update(k=self.k, ordered=self.ordered)
            if self.replace:
                out["replace"] = True
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


def same_value(a, b) -> bool:
    # 1 == True in Python; a choice between 1 and true must keep them apart.
    return a == b and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                           and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def fmt_value(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return x
    return repr(x)
