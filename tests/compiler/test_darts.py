"""DARTS_V2 on the evaluation skeleton (C=36, 20 layers), REFERENCE.md."""
from __future__ import annotations

import pytest
import torch

import nasl
from nasl.compiler import compile, count_params

from nasl.formats.darts import DARTS_V2
from nasl.formats.darts import from_genotype as genotype_arch


@pytest.fixture(scope="module")
def darts_v2():
    space = nasl.load("examples/darts.nas", C=36, layers=20)
    return compile(space, genotype_arch(DARTS_V2))


def test_darts_v2_has_the_official_parameter_count(darts_v2):
    assert count_params(darts_v2) == 3_349_342      # without the auxiliary head


def test_darts_v2_forward(darts_v2):
    assert darts_v2.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_reduction_cells_use_strided_ops_on_their_inputs(darts_v2):
    red = darts_v2.reduction_6
    assert red.node_2.edge_0.max_pool.stride == 2
    assert darts_v2.pre0_7.factorized_reduce.conv1.stride == (2, 2)
