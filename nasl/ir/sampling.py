"""Uniform sampling over the valid architectures of a space.

On a tree-shaped spec each choice is drawn with probability proportional to
the number of completions under each value, which makes every architecture
equally likely. Constraints are then met by rejection, which keeps the
distribution uniform over the valid ones. Where conditions cross blocks, the
weights come from exact conditional counts instead.
"""
from __future__ import annotations

import bisect
import math
import random as _random

from nasl.ir.choice_kind import CHOICE_TYPES
from nasl.ir.decision_tree import INACTIVE, Block, Choice, ChoiceSpec, Constraint, Group, Guard
from nasl.ir.counting import (EMPTY_COUNT, NotStructural, assignments_of, block_product, conditioning_choices,
                               choice_weights)
from nasl.ir.draw_program import Programs, fold
from nasl.ir.errors import InternalError


class TreeSampler:
    """Draws from a tree-shaped spec; compiles each block into a plan once.

    A plan depends on the block and on the values of the enclosing choices it
    is conditioned on (see :func:`nasl.ir.counting.block_size`); for most
    spaces there are none, and each block has one plan.
    """

    def __init__(self, spec: ChoiceSpec, memo: dict):
        self.spec = spec
        self.memo = memo
        self._plans: dict = {}
        self._free: dict = {}       # id(block) -> plan, for blocks drawn with nothing fixed
        self.programs = Programs(self)      # the fast path (nasl.ir.draw_program)

    def plan(self, block: Block, fixed: dict = EMPTY_COUNT) -> list:
        key = (id(block), tuple(sorted(fixed.items(), key=repr))) if fixed else id(block)
        p = self._plans.get(key)
        if p is not None:
            return p
        here, gated = {}, {}
        for item in block.items:
            if type(item) in CHOICE_TYPES and item.path not in fixed:
                here[item.path] = item
            elif type(item) is Group and item.guard is not None and item.guard.path not in fixed:
                if item.guard.path not in here:
                    raise NotStructural(item.guard.path)
                gated.setdefault(item.guard.path, []).append(item)
        steps = []
        for item in block.items:
            t = type(item)
            if t in CHOICE_TYPES:
                if item.path in fixed:
                    continue
                groups = gated.get(item.path)
                if groups:
                    weighted, total = choice_weights(item, groups, self.memo, fixed)
                    if weighted is None or total == math.inf:
                        # no finite weights (a float range under some values): draw the value itself
                        steps.append((0, item.path, item))
                        continue
                    vals, cum, acc = [], [], 0
                    for v, w in weighted:
                        if w:
                            acc += w
                            vals.append(v)
                            cum.append(acc)
                    steps.append((1, item.path, (vals, cum, acc)))
                else:
                    # one uniform index into the kind's list of values where it has a short one
                    table = item.uniform_table()
                    steps.append((0, item.path, item) if table is None else (2, item.path, table))
            elif t is Group:
                g = item.guard
                if g is not None and g.path in fixed:
                    if g.holds(fixed):
                        steps.append((5, None, item))
                elif g is None:
                    steps.append((5, None, item))
                elif type(g) is Guard:
                    # Guard.holds inlined: the draw tests one value against a set
                    steps.append((3, (g.path, g.values), item))
                else:
                    steps.append((6, g, item))
            elif t is Constraint:
                steps.append((4, None, item))
        steps = fold(steps)
        self._plans[key] = steps
        return steps

    def draw(self, rng: _random.Random) -> tuple[dict, list]:
        values: dict = {}
        constraints: list = []
        if not self.programs.draw(self.spec.root, rng, values, constraints):
            self._draw(self.spec.root, rng, values, constraints, EMPTY_COUNT)
        return values, constraints

    def _draw(self, block, rng, values, constraints, fixed):
        steps = None if fixed else self._free.get(id(block))
        if steps is None:
            cond = [c for c in conditioning_choices(block, self.memo) if c.path not in fixed]
            if cond:
                fixed = self._condition(block, cond, rng, fixed)
                for c in cond:
                    values[c.path] = fixed[c.path]
            steps = self.plan(block, fixed)
            if not fixed:
                self._free[id(block)] = steps      # a block conditioned on nothing: its plan, directly
        r = rng.random
        for kind, key, x in steps:
            if kind == 2:
                values[key] = x[int(r() * len(x))]
            elif kind == 8:
                vals, cum, total, groups = x
                i = bisect.bisect_right(cum, rng._randbelow(total))    # randrange(total), without its checks
                values[key] = vals[i]
                for g in groups[i]:
                    self._enter(g, rng, values, constraints, fixed)
            elif kind == 7:
                table, groups = x
                i = int(r() * len(table))
                values[key] = table[i]
                for g in groups[i]:
                    self._enter(g, rng, values, constraints, fixed)
            elif kind == 5:
                self._enter(x, rng, values, constraints, fixed)
            elif kind == 3:
                v = values.get(key[0], INACTIVE)
                if (tuple(v) if type(v) is list else v) in key[1]:
                    self._draw(x.block, rng, values, constraints, fixed)
            elif kind == 6:
                if key.holds(values):
                    self._draw(x.block, rng, values, constraints, fixed)
            elif kind == 1:
                vals, cum, total = x
                # randrange is exact for the huge integer weights of deep trees
                values[key] = vals[bisect.bisect_right(cum, rng._randbelow(total))]
            elif kind == 0:
                values[key] = x.sample(rng)
            else:
                constraints.append(x)

    def _enter(self, g, rng, values, constraints, fixed):
        """Draw a group that is present: from its template where it is a moved copy (``Group.origin``)."""
        o = g.origin
        moved = o.moved() if o is not None else None
        if moved is None:
            self._draw(g.block, rng, values, constraints, fixed)
        else:
            self._draw_moved(moved[0], rng, values, {}, moved[1], moved[2])

    def _draw_moved(self, block, rng, values, loc, a, b, fixed=EMPTY_COUNT):
        """:meth:`_draw` on the block of another site with equal arguments, whose paths start with ``a``.

        A lazily built block with a template (see ``Group.origin``) is drawn
        from the template's own block and plan, each value stored under the
        path it has here (``b`` for ``a``): the same draws as on a copy,
        without building the copy or planning it. ``loc`` holds the
        template's paths, which the guards inside it read. Templates hold no
        constraints.
        """
        la = len(a)
        steps = None if fixed else self._free.get(id(block))
        if steps is None:
            cond = [c for c in conditioning_choices(block, self.memo) if c.path not in fixed]
            if cond:
                fixed = self._condition(block, cond, rng, fixed)
                for c in cond:
                    loc[c.path] = values[b + c.path[la:]] = fixed[c.path]
            steps = self.plan(block, fixed)
            if not fixed:
                self._free[id(block)] = steps
        r = rng.random
        for kind, key, x in steps:
            if kind == 2:
                loc[key] = values[b + key[la:]] = x[int(r() * len(x))]
            elif kind == 8 or kind == 7:
                if kind == 8:
                    vals, cum, total, groups = x
                    i = bisect.bisect_right(cum, rng._randbelow(total))
                else:
                    (vals, groups), i = x, int(r() * len(x[0]))
                loc[key] = values[b + key[la:]] = vals[i]
                for g in groups[i]:
                    self._enter_moved(g, rng, values, loc, a, b, la, fixed)
            elif kind == 5:
                self._enter_moved(x, rng, values, loc, a, b, la, fixed)
            elif kind == 3:
                v = loc.get(key[0], INACTIVE)
                if (tuple(v) if type(v) is list else v) in key[1]:
                    self._draw_moved(x.block, rng, values, loc, a, b, fixed)
            elif kind == 6:
                if key.holds(loc):
                    self._draw_moved(x.block, rng, values, loc, a, b, fixed)
            elif kind == 1:
                vals, cum, total = x
                loc[key] = values[b + key[la:]] = vals[bisect.bisect_right(cum, rng._randbelow(total))]
            elif kind == 0:
                loc[key] = values[b + key[la:]] = x.sample(rng)
            else:
                raise InternalError(f"a constraint in the moved block of '{b}'")

    def _enter_moved(self, g, rng, values, loc, a, b, la, fixed):
        o = g.origin
        moved = o.moved() if o is not None else None
        if moved is None:
            self._draw_moved(g.block, rng, values, loc, a, b, fixed)
        else:       # its paths start with g.site here, with b for a
            self._draw_moved(moved[0], rng, values, {}, moved[1], b + moved[2][la:])

    def _condition(self, block, cond, rng, fixed) -> dict:
        """Draw the conditioning choices jointly, weighted by their completions."""
        options, cum, acc = [], [], 0
        for a in assignments_of(cond):
            sub = dict(fixed)
            sub.update(a)
            w = block_product(block, self.memo, sub)
            if w:
                acc += w
                options.append(sub)
                cum.append(acc)
        return options[bisect.bisect_right(cum, rng.randrange(acc))]


# sampling modes ---------------------------------------------------------------------------------
# "uniform-architecture" (the default, above) makes every valid architecture equally likely; in a
# space whose depth is a choice, nearly all of them are the deepest networks. "uniform-choice"
# answers each active choice uniformly, top-down, as a searcher that sees only the ChoiceSpec does:
# each depth is then equally likely, and the choices under it are drawn once it is known.
UNIFORM_ARCHITECTURE, UNIFORM_CHOICE = "uniform-architecture", "uniform-choice"
MODES = (UNIFORM_ARCHITECTURE, UNIFORM_CHOICE)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown sampling mode {mode!r} (modes: {', '.join(MODES)})")
    return mode


def draw_per_choice(spec: ChoiceSpec, rng: _random.Random) -> tuple[dict, list]:
    """One uniform-choice draw: ``(values, the constraints active under them)``."""
    values = spec.walk(lambda c, _values: c.sample(rng))
    return values, list(spec.active_constraints(values))


def exact_clusters(spec: ChoiceSpec) -> list:
    """The constraints over a few always-active choices that :mod:`nasl.ir.exact` counts and draws
    exactly (``require a == 777 and b == 333``), for samplers that see only the ChoiceSpec; [] when the
    spec has too many groups to survey."""
    from nasl.ir.exact import clusters
    try:
        return clusters(spec)
    except RecursionError:
        return []
