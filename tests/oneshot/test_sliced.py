"""nasl/oneshot/sliced.py: compiled sliced forwards compute what functional_call on sliced state does."""
from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.func import functional_call  # noqa: E402

import nasl  # noqa: E402
import nasl.oneshot.supernet as S  # noqa: E402
from nasl.oneshot.sliced import SlicedOp, compile_sliced, slice_index  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return nasl.load("nasl/spaces/digits.nas")


def _narrow_archs(space, n, seed=0):
    """Architectures below the widest width, so that every width-elastic op is sliced."""
    rng, out = random.Random(seed), []
    while len(out) < n:
        a = space.sample(rng)
        if dict(a)["width"] < 24:
            out.append(a)
    return out


def _twins(space, monkeypatch):
    compiled = nasl.compile_supernet(space, "spos", seed=0).train()
    with monkeypatch.context() as m:
        m.setattr(S, "compile_sliced", lambda big, small: None)   # the functional_call path
        plain = nasl.compile_supernet(space, "spos", seed=0).train()
        plain.load_state_dict(compiled.state_dict())
        for a in _narrow_archs(space, 4):
            steps = plain._plan(plain._check(a))[2]           # plans built while the patch holds
            assert not any(isinstance(small, SlicedOp) for _, _, small, *_ in steps)
    return compiled, plain


def test_slice_index_is_a_prefix_and_a_centre_crop():
    assert slice_index((16, 8, 5, 5), (16, 8, 5, 5)) is None
    assert slice_index((16, 8, 5, 5), (4, 8, 3, 3), (2, 3)) == (slice(0, 4), slice(0, 8), slice(1, 4), slice(1, 4))
    with pytest.raises(ValueError, match="larger"):
        slice_index((4,), (8,))


def test_digits_elastic_ops_all_compile(digits):
    sn = nasl.compile_supernet(digits, "spos", seed=0)
    for a in _narrow_archs(digits, 5):
        steps = sn._plan(sn._check(a))[2]
        sliced = [small for _, s, small, *_ in steps if s is not None and small is not sn._impl[s]
                  and isinstance(sn._impl[s], nn.Module)]
        assert len(sliced) > 4 and all(isinstance(small, SlicedOp) for small in sliced)


def test_compiled_equals_functional_call_in_training(digits, monkeypatch):
    # outputs, gradients on the max tensors, BatchNorm running statistics and batch counts
    compiled, plain = _twins(digits, monkeypatch)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 1, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g)
    for a in _narrow_archs(digits, 4):
        for sn in (compiled, plain):
            sn.zero_grad(set_to_none=True)
            F.cross_entropy(sn(x, a), y).backward()
        for (k, p), q in zip(compiled.named_parameters(), plain.parameters()):
            assert (p.grad is None) == (q.grad is None), k
            if p.grad is not None:
                assert torch.allclose(p.grad, q.grad, atol=1e-6), k
        for (k, b), c in zip(compiled.named_buffers(), plain.buffers()):
            assert torch.allclose(b.float(), c.float(), atol=1e-6), k
    compiled.eval(), plain.eval()
    for a in _narrow_archs(digits, 4, seed=1):
        assert torch.allclose(compiled(x, a), plain(x, a), atol=1e-6)


def test_functional_call_on_the_supernet_sees_the_tensors_it_passes(digits):
    # DARTS' second order swaps the supernet's parameters with functional_call: the compiled plan must
    # read the swapped tensors, not ones it cached
    sn = nasl.compile_supernet(digits, "spos", seed=0).eval()
    a = _narrow_archs(digits, 1)[0]
    x = torch.randn(4, 1, 8, 8)
    before = sn(x, a)                                  # the plan is built and cached here
    params = {k: (2 * p).detach().requires_grad_() for k, p in sn.named_parameters()}
    swapped = functional_call(sn, params, (x,), {"arch": a})
    twin = nasl.compile_supernet(digits, "spos", seed=0).eval()
    twin.load_state_dict({**sn.state_dict(), **{k: v.detach() for k, v in params.items()}})
    assert torch.allclose(swapped, twin(x, a), atol=1e-5)
    assert not torch.allclose(swapped, before)
    swapped.sum().backward()
    assert sum(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in params.values()) > 4


def test_unknown_templates_are_left_to_functional_call():
    class Block(nn.Module):         # its own forward: nothing to compile
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)

        def forward(self, x):
            return x + self.conv(x)
    assert compile_sliced(Block(8), Block(4)) is None
    assert compile_sliced(nn.Conv2d(8, 8, 3, padding=1, padding_mode="reflect"),
                          nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect")) is None
    op = compile_sliced(nn.Sequential(nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1)),
                        nn.Sequential(nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1)))
    assert isinstance(op, SlicedOp) and op(torch.randn(1, 4, 5, 5)).shape == (1, 4, 5, 5)


@pytest.mark.parametrize("compiled", [True, False])
def test_inplace_recalibration_of_sliced_ops_equals_the_subnet_copy(digits, monkeypatch, compiled):
    # recalibration averages over its batches (momentum None on the max modules): a sliced op must
    # follow the max module's momentum, compiled or through functional_call
    from nasl.oneshot.evaluator import SupernetEvaluator
    if not compiled:
        monkeypatch.setattr(S, "compile_sliced", lambda big, small: None)
    torch.manual_seed(0)
    sn = nasl.compile_supernet(digits, "spos", seed=0)
    g = torch.Generator().manual_seed(1)
    train = (torch.randn(96, 1, 8, 8, generator=g), torch.randint(0, 10, (96,), generator=g))
    val = (torch.randn(40, 1, 8, 8, generator=g), torch.randint(0, 10, (40,), generator=g))
    copy = SupernetEvaluator(sn, train, val, calib_batches=3, batch_size=32)
    inplace = SupernetEvaluator(sn, train, val, calib_batches=3, batch_size=32, inplace=True)
    for a in _narrow_archs(digits, 3):
        assert inplace(a)["val_loss"] == pytest.approx(copy(a)["val_loss"], rel=1e-5)
