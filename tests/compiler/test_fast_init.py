"""Copies of Conv and Linear layers drawn without reset_parameters() (nasl/compiler/fast_init.py)."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nasl.compiler import fast_init
from nasl.compiler.clone import ModuleFactory, _copy_plan, cloneable


def _copies(factory, builder, n=3, seed=5):
    torch.manual_seed(seed)
    return [factory.build(builder, "op", {}, [(4, 8, 8)]) for _ in range(n)]


def _equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("layer,bound", [
    (lambda: nn.Conv2d(6, 8, 3), 1 / math.sqrt(54)),      # a=sqrt(5): bound = 1/sqrt(fan_in)
    (lambda: nn.Conv2d(6, 8, 3, groups=2, bias=False), 1 / math.sqrt(27)),
    (lambda: nn.Linear(10, 4), 1 / math.sqrt(10)),
    (lambda: nn.Conv1d(3, 5, 7), 1 / math.sqrt(21)),
])
def test_bounds_are_torchs_and_copies_draw_the_constructors_values(layer, bound):
    m = layer()
    b = fast_init.bounds(m)
    assert b is not None and len(b) == (2 if m.bias is not None else 1)
    assert all(x == pytest.approx(bound, rel=1e-12) for x in b)
    fast = _copies(ModuleFactory(True), lambda p, ins: (nn.Sequential(layer(), nn.ReLU(), layer()), None))
    slow = _copies(ModuleFactory(False), lambda p, ins: (nn.Sequential(layer(), nn.ReLU(), layer()), None))
    assert all(_equal(a, b) for a, b in zip(fast, slow))
    assert _copy_plan(fast[0])[5][0][1][4] == b                 # the copies did draw directly
    assert not torch.equal(fast[1][0].weight, fast[2][0].weight)
    assert all(p.requires_grad and type(p) is nn.Parameter for p in fast[2].parameters())


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_layers_it_does_not_know_are_reset():
    assert fast_init.bounds(nn.BatchNorm2d(4)) is None
    assert fast_init.bounds(nn.Conv2d(0, 4, 1)) is None                      # zero-size: no draw at all
    assert fast_init.bounds(nn.Conv2d(4, 4, 3).to(memory_format=torch.channels_last)) is None

    class Mine(nn.Conv2d):
        pass
    assert fast_init.bounds(Mine(4, 4, 1)) is None


def test_a_torch_whose_draws_differ_is_found_and_reset(monkeypatch):
    """The first use of a class compares the formula with reset_parameters(); a mismatch turns it off."""
    monkeypatch.setattr(fast_init, "_verified", {})
    monkeypatch.setattr(fast_init, "_A", 0.0)                   # as if torch changed its gain
    assert fast_init.bounds(nn.Conv2d(4, 4, 3)) is None
    assert fast_init._verified == {nn.Conv2d: False}
    fast = _copies(ModuleFactory(True), lambda p, ins: (nn.Conv2d(4, 4, 3), None))
    slow = _copies(ModuleFactory(False), lambda p, ins: (nn.Conv2d(4, 4, 3), None))
    assert all(_equal(a, b) for a, b in zip(fast, slow))


@cloneable
class _Reset(nn.Module):
    """A compiler-style block with its own reset_parameters() around a conv."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.empty(4))
        self.reset_parameters()             # before the conv is built: the pre-order copies reset in
        self.conv = nn.Conv2d(4, 4, 1)

    def reset_parameters(self):
        nn.init.normal_(self.scale)


def test_a_tree_with_its_own_resets_keeps_the_constructors_order():
    """Drawing the conv as it is copied would put its draw before the block's reset: the whole tree resets."""
    fast = _copies(ModuleFactory(True), lambda p, ins: (nn.Sequential(_Reset(), nn.Linear(4, 2)), None))
    slow = _copies(ModuleFactory(False), lambda p, ins: (nn.Sequential(_Reset(), nn.Linear(4, 2)), None))
    assert all(_equal(a, b) for a, b in zip(fast, slow))
    plan = _copy_plan(fast[0])
    assert plan[5][0][1][4] is True and plan[5][0][1][5][0][1][4] is True and plan[5][1][1][4] is True
