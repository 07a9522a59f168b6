"""Choice points as sequences of discrete decisions, for searchers that learn a policy.

A controller (REINFORCE), a Q-table (MetaQNN) or a search tree (MCTS) picks
one of a few *arms* at each step. :class:`Decisions` turns every choice of
a :class:`~nasl.ir.decision_tree.ChoiceSpec` into such steps, walking the spec
top-down so that only active choices are decided:

- a choice, bool, or small int range, subset or permutation: one step, one
  arm per value;
- a large int range, or a float range: one step over ``bins`` contiguous
  bins (log-spaced where the range is log); the value inside the chosen bin
  is drawn uniformly, so every value stays reachable;
- a large subset of any size: one in/out step per item;
- a large subset of ``k`` items, or a large permutation: one step per pick,
  the items already picked masked out.

A step with a single allowed arm is forced and not recorded. Each step has
a stable ``key`` (the choice's path, a digest of its domain, and the index
of the step within the choice), so learned statistics survive resumption.
"""
from __future__ import annotations

import bisect
import zlib
from typing import Callable, NamedTuple

from nasl.ir.decision_tree import CHOICE_TYPES, Choice, ChoiceSpec, Group


class Step(NamedTuple):
    """One decision: which one (``key``), how many arms, which are allowed (None: all), and the pick."""

    key: str
    arms: int
    allowed: tuple | None
    action: int


Pick = Callable[[str, int, "tuple | None"], int]    # (key, arms, allowed) -> action


def uniform_pick(rng) -> Pick:
    """A policy that picks uniformly among the allowed arms."""
    r = rng.random

    def pick(key, arms, allowed):
        if allowed is None:
            return int(r() * arms)
        return allowed[int(r() * len(allowed))]
    return pick


class Plan:
    """How one :class:`Choice` is decided: its steps, and the way back from a value to them."""

    __slots__ = ("choice", "mode", "prefix", "values", "index", "edges", "items")

    def __init__(self, c: Choice, max_arms: int, bins: int):
        self.choice = c
        digest = zlib.crc32(c.describe().encode()) & 0xFFFF
        self.prefix = f"{c.path}:{digest:04x}#"
        self.values = self.index = self.edges = self.items = None
        self.mode = c.decision_mode(max_arms)       # the choice's kind says how it is decided
        if self.mode == "values":
            self.values = tuple(c.values())
            self.index = {_vkey(v): i for i, v in enumerate(self.values)}
        elif self.mode == "bins":
            self.edges = c.bin_edges(bins)
        else:
            self.items = tuple(c.domain)

    def decide(self, pick: Pick, rng, steps: list):
        """Answer the choice, calling ``pick`` for each step that is not forced; append the steps."""
        mode = self.mode
        if mode == "values":
            n = len(self.values)
            a = _step(pick, steps, self.prefix + "0", n, None)
            return self.values[a]
        if mode == "bins":
            e = self.edges
            b = _step(pick, steps, self.prefix + "0", len(e) - 1, None)
            return self.choice.in_bin(e, b, rng)
        items = self.items
        n = len(items)
        if mode == "include":
            return tuple(x for i, x in enumerate(items) if _step(pick, steps, f"{self.prefix}{i}", 2, None))
        chosen = []
        for j in range(self._picks()):
            a = _step(pick, steps, f"{self.prefix}{j}", n, self._allowed(chosen))
            chosen.append(a)
        return tuple(items[i] for i in chosen)

    def _picks(self) -> int:
        return self.choice.pick_count()

    def _allowed(self, chosen: list) -> tuple:
        """Arms open to the next pick: the items not chosen; for an unordered subset, in
        increasing order only, so that each subset has one sequence of picks."""
        n, c = len(self.items), self.choice
        if c.increasing_picks:
            start = chosen[-1] + 1 if chosen else 0
            return tuple(range(start, n - (c.k - len(chosen)) + 1))
        taken = set(chosen)
        return tuple(i for i in range(n) if i not in taken)

    def encode(self, value, steps: list) -> None:
        """Append the steps that give ``value`` (a value of this choice)."""
        mode = self.mode
        if mode == "values":
            a = self.index.get(_vkey(value))
            if a is None:
                raise ValueError(f"'{self.choice.path}' = {value!r} is not in {self.choice.describe()}")
            _record(steps, self.prefix + "0", len(self.values), None, a)
        elif mode == "bins":
            e, c = self.edges, self.choice
            pos = c.bin_position(value)
            b = min(max(bisect.bisect_right(e, pos) - 1, 0), len(e) - 2)
            _record(steps, self.prefix + "0", len(e) - 1, None, b)
        elif mode == "include":
            inside = set(value)
            for i, x in enumerate(self.items):
                _record(steps, f"{self.prefix}{i}", 2, None, int(x in inside))
        else:
            where = {x: i for i, x in enumerate(self.items)}
            chosen = []
            for j, x in enumerate(value):
                a = where[x]
                _record(steps, f"{self.prefix}{j}", len(self.items), self._allowed(chosen), a)
                chosen.append(a)


def _step(pick, steps, key, arms, allowed) -> int:
    if arms == 1 or (allowed is not None and len(allowed) == 1):
        return 0 if allowed is None else allowed[0]
    a = pick(key, arms, allowed)
    steps.append(Step(key, arms, allowed, a))
    return a


def _record(steps, key, arms, allowed, action) -> None:
    if arms > 1 and (allowed is None or len(allowed) > 1):
        steps.append(Step(key, arms, allowed, action))


def _vkey(v):
    # keeps True apart from 1, as Choice.contains does
    return (type(v) is bool, v)


class Decisions:
    """The decision steps of a spec, per choice (see the module docstring).

    Parameters
    ----------
    spec : ChoiceSpec
    max_arms : int
        A finite choice with at most this many values is one step with one arm per value.
    bins : int
        Bins for a float range, or for an int range with more than ``max_arms`` values.
    """

    def __init__(self, spec: ChoiceSpec, max_arms: int = 32, bins: int = 8):
        if max_arms < 2 or bins < 1:
            raise ValueError(f"max_arms must be at least 2 and bins at least 1 (got {max_arms}, {bins})")
        self.spec = spec
        self.max_arms = max_arms
        self.bins = bins
        self._plans: dict[Choice, Plan] = {}
        self._flat: list | None | bool = False      # False: not worked out yet

    def flat(self) -> list | None:
        """``[(path, step key, values)]`` in walk order when every choice is always active and decided by
        one step over its values (no groups: NAS-Bench-201's cells), else None.

        A searcher that redraws whole architectures (de-duplication's retries) can then sample without
        walking the spec: the same picks, in the same order, as :meth:`sample`.
        """
        if self._flat is False:
            out = []
            for item in self.spec.root.items:
                if type(item) is Group:
                    out = None
                    break
                if type(item) in CHOICE_TYPES:
                    p = self.plan(item)
                    if p.mode != "values":
                        out = None
                        break
                    out.append((item.path, p.prefix + "0", p.values))
            self._flat = out
        return self._flat

    def plan(self, c: Choice) -> Plan:
        p = self._plans.get(c)
        if p is None:
            p = self._plans[c] = Plan(c, self.max_arms, self.bins)
        return p

    def sample(self, pick: Pick, rng) -> tuple[dict, list[Step]]:
        """Walk the spec, letting ``pick`` make each decision; the values and the steps taken."""
        steps: list[Step] = []
        plan = self.plan

        def answer(c, values):
            return plan(c).decide(pick, rng, steps)
        return self.spec.walk(answer), steps

    def encode(self, arch) -> list[Step]:
        """The steps that lead to ``arch``; ValueError if it does not fit the spec."""
        steps: list[Step] = []
        plan = self.plan

        def answer(c, values):
            try:
                v = arch[c.path]
            except KeyError:
                raise ValueError(f"the architecture gives no value for the active choice '{c.path}'") from None
            plan(c).encode(v, steps)
            return v
        self.spec.walk(answer)
        return steps
