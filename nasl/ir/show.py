"""A readable rendering of a space's decision tree (``nasl show``)."""
from __future__ import annotations

from nasl.ir.decision_tree import Block, Choice, Constraint, Group
from nasl.ir.reading import int_text

MAX_LINES = 400


def render_tree(space, max_lines: int = MAX_LINES) -> str:
    lines = [f"space {space.name}"]
    if space.params:
        lines.append("params: " + ", ".join(f"{k}={v!r}" for k, v in space.params.items()))
    if space.structural and not space.graph_constraints:
        size = space.size()
        lines.append(f"size: {int_text(size, grouped=True)}" if isinstance(size, int) else f"size: {size}")
    else:
        # counting a constrained space enumerates it, which can take a while
        lines.append("size: constrained (run 'nasl count' for the exact number)")
    lines.append("choices:")
    budget = [max_lines]
    _block(space.spec.root, 1, lines, budget)
    if budget[0] < 0:
        lines.append(f"  ... ({-budget[0]} more lines not shown)")
    return "\n".join(lines)


def _block(block: Block, depth: int, lines, budget):
    pad = "  " * depth
    for item in block.items:
        if isinstance(item, Choice):
            _emit(lines, budget, f"{pad}{item.path}: {item.describe()}")
        elif isinstance(item, Group):
            if item.guard is None:
                _block(item.block, depth, lines, budget)
                continue
            vals = " | ".join(_fmt(v) for v in sorted(item.guard.values, key=repr))
            _emit(lines, budget, f"{pad}when {item.guard.path} is {vals}:")
            _block(item.block, depth + 1, lines, budget)
        elif isinstance(item, Constraint):
            _emit(lines, budget, f"{pad}{'forbid' if item.negate else 'require'}: {item.message}")
        if budget[0] <= 0:
            return


def _emit(lines, budget, text):
    budget[0] -= 1
    if budget[0] >= 0:
        lines.append(text)


def _fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
