"""Every ```nas example in docs/language.md compiles, runs forward, and costs what it builds.

(tests/dsl/test_docs.py loads and realizes them; this runs them through the compiler, so an
op documented with a wrong shape or parameter fails here.)
"""
from __future__ import annotations

import pytest
import torch

import nasl
from tests.dsl.test_docs import BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_compiles_and_runs(index):
    space = nasl.loads(BLOCKS[index], f"language.md#{index}")
    arch = space.sample(index)
    model = nasl.compile(space, arch)
    assert sum(p.numel() for p in model.parameters()) == nasl.cost(space, arch).params
    torch.manual_seed(0)
    out = model(*[torch.randn(2, *s) for s in model.input_shapes.values()])
    outs = out if isinstance(out, tuple) else (out,)
    assert [tuple(o.shape[1:]) for o in outs] == list(model.output_shapes.values())
    assert all(torch.isfinite(o).all() for o in outs)
