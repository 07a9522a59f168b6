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

from nasl.ir.choices import Block, Choice, ChoiceSpec, Constraint, Group
from nasl.ir.counting import (_EMPTY, NotStructural, _assignments, _block_product, _conditioning,
                               choice_weights)


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

    def plan(self, block: Block, fixed: dict = _EMPTY) -> list:
        key = (id(block), tuple(sorted(fixed.items(), key=repr))) if fixed else id(block)
        p = self._plans.get(key)
        if p is not None:
            return p
        here, gated = {}, {}
        for item in block.items:
            if type(item) is Choice and item.path not in fixed:
                here[item.path] = item
            elif type(item) is Group and item.guard is not None and item.guard.path not in fixed:
                if item.guard.path not in here:
                    raise NotStructural(item.guard.path)
                gated.setdefault(item.guard.path, []).append(item)
        steps = []
        for item in block.items:
            t = type(item)
            if t is Choice:
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
                elif item.kind in ("choice", "bool", "int"):
                    steps.append((2, item.path, item.domain))
                elif item.kind in ("subset", "permutation") and item.cardinality() <= 4096:
                    # a small subset space: one uniform index into its list of values
                    steps.append((2, item.path, tuple(item.values())))
                else:
                    steps.append((0, item.path, item))
            elif t is Group:
                if item.guard is not None and item.guard.path in fixed:
                    if item.guard.holds(fixed):
                        steps.append((3, None, item))
                else:
                    steps.append((3, item.guard, item))
            elif t is Constraint:
                steps.append((4, None, item))
        self._plans[key] = steps
        return steps

    def draw(self, rng: _random.Random) -> tuple[dict, list]:
        values: dict = {}
        constraints: list = []
        self._draw(self.spec.root, rng, values, constraints, _EMPTY)
        return values, constraints

    def _draw(self, block, rng, values, constraints, fixed):
        cond = [c for c in _conditioning(block, self.memo) if c.path not in fixed]
        if cond:
            fixed = self._condition(block, cond, rng, fixed)
            for c in cond:
                values[c.path] = fixed[c.path]
        r = rng.random
        for kind, key, x in self.plan(block, fixed):
            if kind == 2:
                values[key] = x[int(r() * len(x))]
            elif kind == 3:
                if key is None or key.holds(values):
                    self._draw(x.block, rng, values, constraints, fixed)
            elif kind == 1:
                vals, cum, total = x
                # randrange is exact for the huge integer weights of deep trees
                values[key] = vals[bisect.bisect_right(cum, rng.randrange(total))]
            elif kind == 0:
                values[key] = x.sample(rng)
            else:
                constraints.append(x)

    def _condition(self, block, cond, rng, fixed) -> dict:
        """Draw the conditioning choices jointly, weighted by their completions."""
        options, cum, acc = [], [], 0
        for a in _assignments(cond):
            sub = dict(fixed)
            sub.update(a)
            w = _block_product(block, self.memo, sub)
            if w:
                acc += w
                options.append(sub)
                cum.append(acc)
        return options[bisect.bisect_right(cum, rng.randrange(acc))]


def conditional_draw(spec: ChoiceSpec, rng: _random.Random) -> dict:
    """Exact uniform draw by conditional counting (for specs that are not trees)."""
    from nasl.ir.counting import iter_valid
    # Small non-tree spaces only: a reservoir over the valid assignments.
    chosen, n = None, 0
    for values in iter_valid(spec):
        n += 1
        if rng.randrange(n) == 0:
            chosen = values
    return chosen


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
