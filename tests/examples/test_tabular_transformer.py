"""The tabular MLP (FC-Net, Klein & Hutter 2019) and the AutoFormer-T Transformer space: sizes
derived in their headers, and parameter counts by hand."""
from __future__ import annotations

import nasl
from tests.conftest import example

MLP = example("tabular_mlp.nas")
VIT = example("transformer.nas")


def test_fcnet_size_is_the_benchmark_table():
    assert nasl.load(MLP).size() == 6 ** 2 * 3 ** 2 * 2 ** 2 * 6 * 2 * 4 == 62_208
    assert nasl.load(MLP, training=False).size() == 1_296


def test_fcnet_choices_carry_the_benchmark_names_and_keras_counts():
    space = nasl.load(MLP)
    assert [c.path for c in space.spec] == ["n_units_1", "activation_fn_1", "dropout_1", "n_units_2",
                                            "activation_fn_2", "dropout_2", "init_lr", "lr_schedule",
                                            "batch_size"]
    config = {"n_units_1": 512, "activation_fn_1": "tanh", "dropout_1": 0.0, "n_units_2": 512,
              "activation_fn_2": "relu", "dropout_2": 0.6, "init_lr": 0.1, "lr_schedule": "const",
              "batch_size": 8}
    # Dense(512) on 9 features, Dense(512), Dense(1), each with a bias
    assert nasl.cost(space, config).params == 9 * 512 + 512 + 512 * 512 + 512 + 512 + 1 == 268_289
    slice_space = nasl.load(MLP, features=385)
    small = dict(config, n_units_1=16, n_units_2=16)
    assert nasl.cost(slice_space, small).params == 385 * 16 + 16 + 16 * 16 + 16 + 16 + 1


def test_autoformer_tiny_size():
    space = nasl.load(VIT)
    assert space.size() == 3 * (4 ** 12 + 4 ** 13 + 4 ** 14) == 1_056_964_608
    # blocks beyond the chosen depth have no choices
    arch = space.sample(0)
    assert len(arch) == 2 + 2 * arch["depth"]


def vit_params(d, blocks, classes=1000, tokens=197, patch=16):
    total = 3 * patch * patch * d + d + d + tokens * d + 2 * d + d * classes + classes
    for heads, ratio in blocks:
        inner, m = 64 * heads, int(d * ratio)
        total += 4 * d + d * 3 * inner + 3 * inner + inner * d + d + d * m + m + m * d + d
    return total


def test_autoformer_counts_by_hand():
    space = nasl.load(VIT)
    arch = {"embed_dim": 192, "depth": 12, **{f"heads[{i}]": 3 for i in range(12)},
            **{f"mlp_ratio[{i}]": 3.5 for i in range(12)}}
    assert nasl.cost(space, arch).params == vit_params(192, [(3, 3.5)] * 12) == 5_273_896
    mixed = {"embed_dim": 216, "depth": 13, **{f"heads[{i}]": 3 + i % 2 for i in range(13)},
             **{f"mlp_ratio[{i}]": 4 if i % 3 else 3.5 for i in range(13)}}
    blocks = [(3 + i % 2, 4 if i % 3 else 3.5) for i in range(13)]
    assert nasl.cost(space, mixed).params == vit_params(216, blocks)


def test_transformer_flops_are_flop_counter_modes():
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    space = nasl.load(VIT, image=32, patch=8, dims=[24], depths=[2], head_dim=8, classes=10)
    for arch in space.sample(1, n=2):
        model = nasl.compile(space, arch).eval()
        with FlopCounterMode(display=False) as counter:
            model(torch.randn(1, 3, 32, 32))
        assert nasl.cost(space, arch).flops == counter.get_total_flops()
