"""Shared helpers: a parent with non-trivial weights (perturbed, BN stats from two train batches)
and eval-mode outputs to compare."""
import pytest
import torch

import nasl

CHAIN = """
input x: [3, 8, 8]
network {
    width = choice(8, 16)
    h = x >> conv(width, k=3) >> bn >> relu
    depth = choice(1, 2, 3)
    repeat depth { h = h >> conv(width, k=3) >> bn >> relu }
    return h >> global_avg_pool >> linear(choice(10, 20) as hidden) >> relu >> linear(5)
}
"""

AFTER_RELU = """
input x: [3, 8, 8]
network {
    h = x >> conv(8, k=3) >> bn >> relu
    y = h >> choice(identity, (bn >> relu >> conv(8, k=1)) as conv_1x1) as edge
    return y >> global_avg_pool >> linear(4)
}
"""


def trained(space, arch, x, seed=0):
    torch.manual_seed(seed)
    m = nasl.compile(space, arch)
    m.train()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.2 * torch.randn_like(p))
        m(x)
        m(x)
    return {k: v.clone() for k, v in m.state_dict().items()}


def output(space, arch, state, x):
    m = nasl.compile(space, arch)
    m.load_state_dict(state)
    m.eval()
    with torch.no_grad():
        return m(x)


def max_diff(space, parent, state, morph, x):
    return (output(space, parent, state, x) - output(space, morph.arch, morph.state_dict, x)).abs().max().item()


@pytest.fixture(scope="session")
def digits():
    return nasl.load("nasl/spaces/digits.nas")


@pytest.fixture(scope="session")
def chain():
    return nasl.loads(CHAIN)


@pytest.fixture(scope="session")
def mobile():
    return nasl.load("examples/mobilenet.nas", classes=10, widths=[16, 24, 32, 48, 64], final=96, feature=64)


@pytest.fixture(scope="session")
def path_level():
    return nasl.load("examples/path_level.nas", N=1, alpha=12, max_depth=2)
