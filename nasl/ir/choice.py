"""The built-in choice kinds: one class each (see :mod:`nasl.ir.choice_kind` for what a kind provides).

=================  ==============  ==========================================================
kind               class           domain
=================  ==============  ==========================================================
``choice``         OneOf           the tuple of values (numbers, strings; ops are labels)
``bool``           Flag            ``(False, True)``
``int``            IntRange        a ``range`` (``log`` for log-scale sampling)
``float``          FloatRange      ``(low, high)``; continuous, so the space is infinite
``subset``         Subset          the items; ``k`` the size (None: any), ``ordered``, and
                                   ``replace`` (an item may be picked more than once)
``permutation``    Permutation     the items
=================  ==============  ==========================================================
"""
from __future__ import annotations

import math
from itertools import combinations, combinations_with_replacement, permutations, product

from nasl.ir.choice_kind import CHOICE_KINDS, Choice, fmt_value, same_value  # noqa: F401  (re-exported)


class DomainValues(Choice):
    """A kind whose ``domain`` is itself the sequence of its values (a tuple, a range): its values,
    table and size are read off the domain, with no table to build."""

    def values(self):
        return iter(self.domain)

    def value_table(self):
        return self.domain

    def cardinality(self):
        return len(self.domain)

    def uniform_table(self):
        return self.domain


class OneOf(DomainValues, kind="choice"):
    """One value of a list: ``choice(a, b, c)``."""

    categorical = True

    def contains(self, value) -> bool:
        return any(same_value(value, x) for x in self.domain)

    def describe(self) -> str:
        return "choice(" + ", ".join(fmt_value(x) for x in self.domain) + ")"


class Flag(OneOf, kind="bool"):
    """``boolean()``: false or true."""

    def contains(self, value) -> bool:
        return isinstance(value, bool)

    def describe(self) -> str:
        return "boolean()"


class IntRange(DomainValues, kind="int"):
    """``int_range(lo, hi, step)``: an int; many values are a number to searchers, not a list."""

    def contains(self, value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value in self.domain

    def describe(self) -> str:
        d = self.domain
        step = f", step={d.step}" if d.step != 1 else ""
        return f"int_range({d.start}, {d.stop - d.step}{step}{', log=true' if self.log else ''})"

    def encoding(self, max_onehot):
        if len(self.domain) <= max_onehot:
            return ("onehot", tuple(self.domain))
        return ("scalar", float(self.domain.start), float(self.domain[-1]), bool(self.log) and self.domain.start > 0)

    def decision_mode(self, max_arms):
        return "values" if len(self.domain) <= max_arms else "bins"

    def numeric_range(self):
        r = self.domain
        return ("int", (r.start, r[-1], r.step, bool(self.log) and r.step == 1 and r.start > 0))

    def bin_edges(self, bins: int) -> list:
        """Index boundaries of ``bins`` contiguous bins (log-spaced values if log)."""
        d = self.domain
        n = len(d)
        if self.log and d[0] > 0:
            lo, hi = math.log(d[0]), math.log(d[-1] + d.step)
            cuts = [math.exp(lo + (hi - lo) * b / bins) for b in range(bins + 1)]
            return sorted({min(n, max(0, math.ceil((x - d[0]) / d.step))) for x in cuts} | {0, n})
        return sorted({n * b // bins for b in range(bins + 1)})

    def in_bin(self, edges, b: int, rng):
        """A uniform value of bin ``b``."""
        return self.domain[edges[b] + int(rng.random() * (edges[b + 1] - edges[b]))]

    def bin_position(self, value):
        """Where ``value`` falls on the axis of :meth:`bin_edges`."""
        return self.domain.index(value)

    def domain_json(self):
        return [self.domain.start, self.domain.stop - 1, self.domain.step]


class FloatRange(Choice, kind="float"):
    """``float_range(lo, hi)``: a real number; continuous, so the space is infinite."""

    finite = False

    def values(self):
        raise ValueError(f"'{self.path}' is a float range and has no finite list of values")

    def cardinality(self):
        return math.inf

    def contains(self, value) -> bool:
        d = self.domain
        return isinstance(value, (int, float)) and not isinstance(value, bool) and d[0] <= value <= d[1]

    def uniform_table(self):
        return None

    def sample(self, rng):
        lo, hi = self.domain
        if self.log:
            return math.exp(rng.uniform(math.log(lo), math.log(hi)))
        return rng.uniform(lo, hi)

    def first(self):
        return self.domain[0]

    def grid(self, points: int) -> tuple:
        """``points`` evenly spaced values (log-spaced if log)."""
        lo, hi = self.domain
        if points == 1:
            return (math.sqrt(lo * hi) if self.log else (lo + hi) / 2,)
        if self.log:
            a, b = math.log(lo), math.log(hi)
            return tuple(math.exp(a + (b - a) * i / (points - 1)) for i in range(points))
        return tuple(lo + (hi - lo) * i / (points - 1) for i in range(points))

    def describe(self) -> str:
        d = self.domain
        return f"float_range({d[0]}, {d[1]}{', log=true' if self.log else ''})"

    def encoding(self, max_onehot):
        lo, hi = self.domain
        return ("scalar", float(lo), float(hi), bool(self.log) and lo > 0)

    def decision_mode(self, max_arms):
        return "bins"

    def numeric_range(self):
        lo, hi = self.domain
        return ("float", (float(lo), float(hi), bool(self.log)))

    def bin_edges(self, bins: int) -> list:
        lo, hi = self.domain
        if self.log:
            a, b = math.log(lo), math.log(hi)
            return [math.exp(a + (b - a) * i / bins) for i in range(bins + 1)]
        return [lo + (hi - lo) * i / bins for i in range(bins + 1)]

    def in_bin(self, edges, b: int, rng):
        lo, hi = edges[b], edges[b + 1]
        if self.log:
            return math.exp(rng.uniform(math.log(lo), math.log(hi)))
        return rng.uniform(lo, hi)

    def bin_position(self, value):
        return value


class _Items(Choice):
    """What subsets and permutations share: a tuple of items, answered item by item."""

    keyed = True

    def contains(self, value) -> bool:
        d = self.domain
        if not isinstance(value, (tuple, list)):
            return False
        value = tuple(value)
        if (len(set(value)) != len(value) and not self.replace) or not all(any(same_value(v, x) for x in d)
                                                                            for v in value):
            return False
        return self._fits(value)

    def encoding(self, max_onehot):
        return ("items", tuple(self.domain), self.ordered, False)

    def decision_mode(self, max_arms):
        return "values" if self.cardinality() <= max_arms else "picks"

    def from_keys(self, keys):
        """The value that random keys in [0, 1) give (one key per item)."""
        order = sorted(range(len(self.domain)), key=lambda i: (keys[i], i))
        return self._from_order(order, keys)

    def to_keys(self, positions: dict) -> list:
        """Random keys for a value, from ``{item index: its position in the value}``."""
        n = len(self.domain)
        return [(positions[i] + 0.5) / (n + 1) if i in positions else 1.0 for i in range(n)]


class Subset(_Items, kind="subset"):
    """``subset(items, k=..., ordered=..., replace=...)``."""

    def values(self):
        d = self.domain
        if self.k is None:
            return (tuple(c) for r in range(len(d) + 1) for c in combinations(d, r))
        if self.replace:
            return product(d, repeat=self.k) if self.ordered else combinations_with_replacement(d, self.k)
        if self.ordered:
            return permutations(d, self.k)
        return combinations(d, self.k)

    def cardinality(self):
        n = len(self.domain)
        if self.k is None:
            return 2 ** n
        if self.replace:
            return n ** self.k if self.ordered else math.comb(n + self.k - 1, self.k)
        return math.perm(n, self.k) if self.ordered else math.comb(n, self.k)

    def _fits(self, value) -> bool:
        if self.k is not None and len(value) != self.k:
            return False
        if not self.ordered:
            order = {x: i for i, x in enumerate(self.domain)}
            return list(value) == sorted(value, key=order.__getitem__)
        return True

    def sample(self, rng):
        d = self.domain
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
        items = ", ".join(fmt_value(x) for x in self.domain)
        extra = "" if self.k is None else f", k={self.k}"
        return (f"subset([{items}]{extra}{', ordered=true' if self.ordered else ''}"
                f"{', replace=true' if self.replace else ''})")

    def decision_mode(self, max_arms):
        if self.cardinality() <= max_arms:
            return "values"
        return "include" if self.k is None else "picks"

    def pick_count(self) -> int:
        return self.k

    @property
    def increasing_picks(self) -> bool:
        """Picks in increasing item order only (an unordered subset: one sequence of picks each)."""
        return not self.ordered

    def _from_order(self, order, keys):
        items = self.domain
        if self.k is None:
            return tuple(items[i] for i in range(len(items)) if keys[i] < 0.5)
        picked = order[:self.k]
        return tuple(items[i] for i in (picked if self.ordered else sorted(picked)))

    def to_keys(self, positions: dict) -> list:
        if self.k is None:
            return [0.25 if i in positions else 0.75 for i in range(len(self.domain))]
        return super().to_keys(positions)

    def options_json(self) -> dict:
        out = {"k": self.k, "ordered": self.ordered}
        if self.replace:
            out["replace"] = True
        return out


class Permutation(_Items, kind="permutation"):
    """``permutation(items)``: every item once, in an order."""

    increasing_picks = False

    def values(self):
        return permutations(self.domain)

    def cardinality(self):
        return math.factorial(len(self.domain))

    def _fits(self, value) -> bool:
        return len(value) == len(self.domain)

    def sample(self, rng):
        items = list(self.domain)
        rng.shuffle(items)
        return tuple(items)

    def describe(self) -> str:
        return "permutation([" + ", ".join(fmt_value(x) for x in self.domain) + "])"

    def encoding(self, max_onehot):
        return ("items", tuple(self.domain), True, True)

    def pick_count(self) -> int:
        return len(self.domain)

    def _from_order(self, order, keys):
        return tuple(self.domain[i] for i in order)


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
