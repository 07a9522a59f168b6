"""Uniform sampling over the valid architectures of a space.

On a tree-shaped spec each choice is drawn with probability proportional to
the number of completions under each value, which makes every architecture
equally likely. Constraints are then met by rejection, which keeps the
distribution uniform over the valid ones. Where conditions cross blocks, the
weights come from exact conditional counts instead.
"""
from __future__ import annotations

import bisect
import random as _random

from nasl.ir.choices import Block, Choice, ChoiceSpec, Constraint, Group
from nasl.ir.counting import NotStructural, choice_weights, group_size


class TreeSampler:
    """Draws from a tree-shaped spec; compiles each block into a plan once."""

    def __init__(self, spec: ChoiceSpec, memo: dict):
        self.spec = spec
        self.memo = memo
        self._plans: dict[int, list] = {}

    def plan(self, block: Block) -> list:
        p = self._plans.get(id(block))
        if p is not None:
            return p
        here, gated = {}, {}
        for item in block.items:
            if type(item) is Choice:
                here[item.path] = item
            elif type(item) is Group and item.guard is not None:
                if item.guard.path not in here:
                    raise NotStructural(item.guard.path)
                gated.setdefault(item.guard.path, []).append(item)
        steps = []
        for item in block.items:
            t = type(item)
            if t is Choice:
                groups = gated.get(item.path)
                if groups:
                    weighted, total = choice_weights(item, groups, self.memo)
                    if weighted is None:
                        steps.append((0, item.path, item))
                        continue
                    vals = [v for v, w in weighted if w]
                    cum, acc = [], 0
                    for _, w in weighted:
                        if w:
                            acc += w
                            cum.append(acc)
                    steps.append((1, item.path, (vals, cum, acc)))
                elif item.kind in ("choice", "bool", "int"):
                    steps.append((2, item.path, item.domain))
                else:
                    steps.append((0, item.path, item))
            elif t is Group:
                steps.append((3, item.guard, item))
            elif t is Constraint:
                steps.append((4, None, item))
        self._plans[id(block)] = steps
        return steps

    def draw(self, rng: _random.Random) -> tuple[dict, list]:
        values: dict = {}
        constraints: list = []
        self._draw(self.spec.root, rng, values, constraints)
        return values, constraints

    def _draw(self, block, rng, values, constraints):
        r = rng.random
        for kind, key, x in self.plan(block):
            if kind == 2:
                values[key] = x[int(r() * len(x))]
            elif kind == 3:
                if key is None or key.holds(values):
                    self._draw(x.block, rng, values, constraints)
            elif kind == 1:
                vals, cum, total = x
                # randrange is exact for the huge integer weights of deep trees
                values[key] = vals[bisect.bisect_right(cum, rng.randrange(total))]
            elif kind == 0:
                values[key] = x.sample(rng)
            else:
                constraints.append(x)


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
