"""Every space in examples/ compiles for sampled architectures and trains a step on its default input.

Parametrized over the glob, so a new example is tested as soon as it exists.
Widths and depths are shrunk through the space's own params (only those it
declares), so the test stays fast; the input shapes are the defaults.
"""
from __future__ import annotations

import pytest
import torch

import nasl
from tests.conftest import EXAMPLES

# params that shrink any space that declares them
GENERIC = {"C": 4, "N": 1, "layers": 3, "L": 4, "F": 4, "hidden": 8, "depth": 2, "filters": 8}
# per-example overrides (by file stem)
SHRINK = {
    "nas_bench_101": {"C": 8},
    "auto_deeplab": {"F": 4, "stem": 8, "aspp": 8, "image": 64, "layers": 6},
    "block_qnn": {"max_layers": 6},
    "dpp_net": {"g": 4},
    "hierarchical_flat": {"nodes": 5},
    "mobilenet": {"stem": 8, "widths": [8, 8, 16, 16, 16], "final": 32, "feature": 32, "classes": 10},
    "path_level": {"max_depth": 2},
    "fbnet": {"stem": 8, "widths": [8, 8, 16, 16, 24, 24, 32], "final": 32, "classes": 10},
    "mnasnet": {"stem": 8, "base_widths": [8, 8, 16, 16, 24, 24, 32], "final": 32, "classes": 10},
    "proxylessnas": {"stem": 8, "first": 8, "widths": [8, 8, 16, 16, 16, 16], "feature": 32, "classes": 10},
    "transformer": {"image": 32, "patch": 8, "dims": [16, 24], "depths": [1, 2], "head_dim": 4, "classes": 10},
}
SAMPLES = 5


def shrunk(path):
    declared = nasl.load(path).params
    wanted = {**GENERIC, **SHRINK.get(path.stem, {})}
    return nasl.load(path, **{k: v for k, v in wanted.items() if k in declared})


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.nas")), ids=lambda p: p.stem)
def test_example_compiles_and_trains_a_step(path):
    space = shrunk(path)
    archs = space.sample(0, n=SAMPLES)
    assert len(archs) == SAMPLES
    torch.manual_seed(0)
    for arch in archs:
        model = nasl.compile(space, arch)
        inputs = [torch.randn(2, *shape, requires_grad=True) for shape in model.input_shapes.values()]
        outs = model(*inputs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        assert [tuple(o.shape[1:]) for o in outs] == list(model.output_shapes.values())
        assert all(torch.isfinite(o).all() for o in outs), arch
        loss = sum(o.sum() for o in outs)
        if not loss.requires_grad:        # e.g. a cell that passes its input on unchanged
            continue
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None] + \
                [i.grad for i in inputs if i.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads), arch
