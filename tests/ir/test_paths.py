"""Splitting paths and node ids at the dots outside brackets (nasl.ir.paths)."""
from __future__ import annotations

import random

from nasl.ir.paths import scope_of, split_path


def _walk(path: str) -> list:
    """The definition: a character walk that tracks the bracket depth."""
    out, depth, cur = [], 0, ""
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        if ch == "." and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


def test_node_ids_split_at_their_dots():
    assert split_path("cell[0][2].edge[0->1].relu_conv_bn") == ["cell[0][2]", "edge[0->1]", "relu_conv_bn"]
    assert split_path("stage[1].cell.edge[0->2].op") == ["stage[1]", "cell", "edge[0->2]", "op"]
    assert split_path("x[a.b].c") == ["x[a.b]", "c"] and split_path("conv") == ["conv"]
    assert scope_of("cell[0][2].edge[0->1].conv") == "cell[0][2]" and scope_of("conv") is None
    assert scope_of("x[a.b].c") == "x[a.b]" and scope_of("x[a.b]") is None


def test_the_fast_split_agrees_with_the_walk_on_random_strings():
    rng = random.Random(0)
    for _ in range(20_000):
        s = "".join(rng.choice("ab.[]") for _ in range(rng.randint(0, 12)))
        segs = _walk(s)
        assert split_path(s) == segs, s
        assert scope_of(s) == (segs[0] if len(segs) > 1 else None), s
