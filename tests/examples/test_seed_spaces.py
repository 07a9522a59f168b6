"""examples/auto_deeplab.nas, block_qnn.nas and dpp_net.nas: the seeds' last spaces, counted as their headers derive."""
from __future__ import annotations

import math
from functools import lru_cache

import nasl
from tests.conftest import example

RATES = [4, 8, 16, 32]


@lru_cache(maxsize=None)
def trellis_paths(steps: int, level: int = 0) -> int:
    """Paths of `steps` moves of at most one level on RATES, from `level` (test-side dynamic program)."""
    if steps == 0:
        return 1
    return sum(trellis_paths(steps - 1, m) for m in (level - 1, level, level + 1) if 0 <= m < len(RATES))


def darts_like_cell(blocks: int, ops: int) -> int:
    return math.prod(math.comb(b + 1, 2) * ops ** 2 for b in range(1, blocks + 1))


def test_auto_deeplab_size():
    assert trellis_paths(12) == 75_025
    assert darts_like_cell(5, 8) == 2_700 * 8 ** 10 == 2_899_102_924_800
    assert nasl.load(example("auto_deeplab.nas")).size() == 75_025 * 2_899_102_924_800 == 217_505_196_933_120_000


def rate_path(arch: dict) -> list[int]:
    keys = sorted((k for k in arch if k.endswith(".rate")), key=len)
    return [arch[k] for k in keys]


def test_auto_deeplab_short_trellis_enumerates_to_the_walks():
    space = nasl.load(example("auto_deeplab.nas"), layers=3, B=1)
    assert space.size() == trellis_paths(3) * darts_like_cell(1, 8) == 13 * 64
    archs = list(space.enumerate())
    assert len(set(archs)) == 13 * 64
    paths = {tuple(rate_path(dict(a))) for a in archs}
    assert len(paths) == 13
    for p in paths:
        levels = [RATES.index(r) for r in (4,) + p]
        assert all(abs(b - a) <= 1 for a, b in zip(levels, levels[1:])), p


def test_auto_deeplab_segments_at_input_resolution_on_every_path():
    space = nasl.load(example("auto_deeplab.nas"), F=4, stem=8, aspp=8, image=64, layers=4, B=2)
    for arch in space.sample(1, n=4):
        model = nasl.compile(space, arch)
        assert list(model.output_shapes.values()) == [(19, 64, 64)], arch
