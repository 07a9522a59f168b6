"""examples/metaqnn.nas (Baker et al., ICLR 2017): the layer rules, counted two ways."""
from __future__ import annotations

from functools import lru_cache

import pytest

import nasl
from tests.conftest import example

POOLS = ((5, 3), (3, 2), (2, 2))


def metaqnn_count(max_layers: int, fc_max_size: int = 8) -> int:
    """Networks the MetaQNN rules allow, by a dynamic program over the agent's states
    (kind of the last layer, representation size, depth, fc layers in a row, last fc width),
    written from the rules and independent of the .nas file."""
    @lru_cache(None)
    def count(kind, r, d, n_fc, w):
        total = 1                                   # terminate here (softmax)
        if d >= max_layers or kind == "gap":
            return total
        image = kind in ("start", "conv", "pool")
        if image:
            total += sum(4 * count("conv", r, d + 1, 0, 0) for f in (1, 3, 5) if f < r)
            total += 1                              # global average pooling, then softmax
        if kind == "conv":
            total += sum(count("pool", (r - f) // s + 1, d + 1, 0, 0) for f, s in POOLS if f < r)
        if (image and r <= fc_max_size) or (kind == "fc" and n_fc < 2):
            total += sum(count("fc", r, d + 1, n_fc + 1 if kind == "fc" else 1, n)
                         for n in (512, 256, 128) if kind != "fc" or n <= w)
        return total
    return count("start", 32, 0, 0, 0)


@pytest.mark.parametrize("max_layers,size", [(1, 14), (3, 2_978), (6, 9_024_434), (12, 66_846_530_410_802)])
def test_size_matches_the_rules(max_layers, size):
    assert metaqnn_count(max_layers) == size
    assert nasl.load(example("metaqnn.nas"), max_layers=max_layers).size() == size


def test_official_cifar_settings():
    space = nasl.load(example("metaqnn.nas"), max_layers=18, fc_max_size=4)
    assert space.size() == metaqnn_count(18, 4) == 350_688_185_105_644_444_130


def test_small_space_enumerates_to_its_size():
    space = nasl.load(example("metaqnn.nas"), max_layers=2)
    assert len(set(space.enumerate())) == space.size() == metaqnn_count(2) == 206


def _layers(arch):
    return [v for k, v in sorted(arch.items(), key=lambda kv: len(kv[0])) if k.endswith("layer")]


def test_pool_never_starts_or_follows_a_pool_and_fc_waits_for_small_maps():
    space = nasl.load(example("metaqnn.nas"), max_layers=3)
    first = space.spec["net.layer"]
    assert "pool_2x2" not in first.domain and "fc_512" not in first.domain
    for arch in space.enumerate():
        seq = _layers(arch)
        for a, b in zip(seq, seq[1:]):
            assert not (a.startswith("pool") and b.startswith("pool"))
            assert not (a.startswith("fc") and not (b.startswith("fc") or b == "softmax"))
        # 32x32 shrinks to 8 or less only after two pools, which take four layers (conv, pool, conv, pool)
        assert not any(t.startswith("fc") for t in seq)


def test_representation_size_gates_fc_and_filter_sizes():
    space = nasl.load(example("metaqnn.nas"), max_layers=6)
    prefix = "net.conv.pool_5x3.conv.pool_3x2"                          # 32 -> 10 -> 4
    arch = {"net.layer": "conv", "net.kernel": 3, "net.filters": 64,
            "net.conv.layer": "pool_5x3",
            "net.conv.pool_5x3.layer": "conv", "net.conv.pool_5x3.kernel": 5, "net.conv.pool_5x3.filters": 64,
            "net.conv.pool_5x3.conv.layer": "pool_3x2",
            f"{prefix}.layer": "fc_256",                                     # allowed: 4 <= 8
            f"{prefix}.fc_256.layer": "fc_128",                              # non-increasing
            f"{prefix}.fc_256.fc_128.layer": "softmax"}
    arch = space.validate(arch)
    assert tuple(space.spec[f"{prefix}.fc_256.layer"].domain) == ("softmax", "fc_256", "fc_128")
    assert tuple(space.spec[f"{prefix}.fc_256.fc_128.layer"].domain) == ("softmax",)     # 2 fc in a row
    with pytest.raises(nasl.InvalidArchitecture, match="is not in choice"):
        space.validate({**arch, f"{prefix}.fc_256.layer": "fc_512"})
    # after the 3x2 pool the map is 4x4: a 5x5 conv no longer fits, and no 5x3 pool
    assert tuple(space.spec[f"{prefix}.kernel"].domain) == (1, 3)
    assert tuple(space.spec[f"{prefix}.layer"].domain) == ("softmax", "conv", "gap", "fc_512", "fc_256",
                                                           "fc_128")
    g = space.realize(arch)
    assert [d["op"] for _, d in g.ops()] == ["conv", "relu", "max_pool", "conv", "relu", "max_pool", "flatten",
                                             "linear", "relu", "flatten", "linear", "relu", "flatten", "linear"]
