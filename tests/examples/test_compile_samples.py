"""Every space of this set compiles for 5 sampled architectures and trains a step on its default input.

Widths, depths and layer counts are scaled down by space parameters to keep the test fast;
the structure (cells, nodes, op lists, rules) is the default one.
"""
from __future__ import annotations

import pytest
import torch

import nasl
from nasl.compiler import compile
from nasl.formats.darts import NASNET_FORMAT
from tests.conftest import example

# (file, parameters, every parameter is used): in NASNet-style cells a node may read
# neither cell input, and then the previous cells' layers do not reach the output
SPACES = [
    ("darts.nas", dict(C=4, layers=3), True),
    ("darts.nas", dict(C=4, layers=3, auxiliary=True, **NASNET_FORMAT), False),
    ("nasnet.nas", dict(C=4, N=1), False),
    ("enas_micro.nas", dict(C=4, L=3), True),      # unread cell inputs join the loose ends
    ("genetic_cnn.nas", dict(widths=[4, 6, 8], hidden=16), True),
    ("metaqnn.nas", dict(max_layers=5), True),
    ("zoph_le.nas", dict(N=6, strides=[1, 2, 3]), True),
]


@pytest.mark.parametrize("name,params,all_used", SPACES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SPACES)])
def test_five_samples_compile_and_backpropagate(name, params, all_used):
    space = nasl.load(example(name), **params)
    seen = set()
    for seed in range(5):
        arch = space.sample(seed=seed)
        seen.add(arch.id)
        model = compile(space, arch)
        out = model(torch.randn(2, 3, 32, 32))
        outs = out if isinstance(out, tuple) else (out,)
        assert all(o.shape == (2, 10) for o in outs)
        sum(o.square().mean() for o in outs).backward()
        grads = [p.grad is not None for p in model.parameters()]
        assert all(grads) if all_used else any(grads)
    assert len(seen) == 5
