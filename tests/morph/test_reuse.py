"""Issue 17's reuse: input_shape= on every transformation, a lineage child built once, Net2Wider noise."""
from __future__ import annotations

import os

import torch

import nasl
from nasl.morph import net2deeper, net2wider
from nasl.morph.chain import apply_chain
from nasl.morph.graphs import Built

DIGITS = os.path.join(os.path.dirname(__file__), "..", "..", "nasl", "spaces", "digits.nas")


SKIP = {"cell.edge[0->1]": "nor_conv_3x3", "cell.edge[0->2]": "nor_conv_1x1", "cell.edge[1->2]": "nor_conv_3x3",
        "cell.edge[0->3]": "skip_connect", "cell.edge[1->3]": "nor_conv_3x3", "cell.edge[2->3]": "nor_conv_1x1",
        "width": 16, "depth": 2}                  # a skip path, so a new cell can be the identity


def _parent(space):
    arch = space.validate(SKIP)
    torch.manual_seed(0)
    return arch, nasl.compile(space, arch).state_dict()


def _out(space, arch, state, x, shape=None):
    m = nasl.compile(space, arch, input_shape=shape)
    m.load_state_dict(state)
    return m.eval()(x)


def test_input_shape_reaches_every_transformation():
    space = nasl.load(DIGITS)
    arch = space.validate(SKIP)
    big = (1, 12, 12)                               # not the declared 8x8
    state = nasl.compile(space, arch, input_shape=big).state_dict()
    x = torch.randn(3, *big)
    for fn, path in ((net2wider, "width"), (net2deeper, "depth")):
        m = fn(space, arch, state, path, input_shape=big)
        assert m.preserving
        assert torch.allclose(_out(space, arch, state, x, big), _out(space, m.arch, m.state_dict, x, big), atol=1e-5)


def test_built_child_is_used_and_checked():
    space = nasl.load(DIGITS)
    arch, state = _parent(space)
    wide = space.validate({**arch, "width": 24})
    model = nasl.compile(space, wide)
    into = model.state_dict()
    m = apply_chain(space, arch, state, "net2wider width", target=wide, built=Built(wide, space.realize(wide), into))
    assert m.arch == wide and set(m.state_dict) == set(into)
    deep = space.validate({**arch, "depth": 3})
    import pytest
    from nasl.ir.errors import NaslError
    with pytest.raises(NaslError, match="not the expected"):
        apply_chain(space, arch, state, "net2wider width", built=Built(deep, space.realize(deep), into))


def test_net2wider_noise_is_bounded_and_zero_preserves():
    space = nasl.load(DIGITS)
    arch, state = _parent(space)
    x = torch.randn(8, 1, 8, 8)
    ref = _out(space, arch, state, x)
    exact = apply_chain(space, arch, state, "net2wider width", noise=0.0)
    noisy = apply_chain(space, arch, state, "net2wider width", noise=0.05, seed=3)
    assert exact.preserving and not noisy.preserving
    assert torch.allclose(ref, _out(space, exact.arch, exact.state_dict, x), atol=1e-5)
    gap = (ref - _out(space, noisy.arch, noisy.state_dict, x)).abs().max().item()
    assert 1e-6 < gap < 0.5 * ref.abs().max().item()        # moved off the parent, but only a little


def test_morph_noise_reaches_a_lineage_trial(tmp_path):
    """TrainEvaluator(morph_noise=) -> apply_lineage -> Net2Wider's noise; 0 preserves the parent."""
    from nasl.study.lineage import weights_path
    from nasl.study.protocol import TrialRequest
    from nasl.study.training import TrainEvaluator
    space = nasl.load(DIGITS)
    arch, state = _parent(space)
    torch.save(state, weights_path(str(tmp_path), 0))
    wide = space.validate({**arch, "width": 24})
    with open(DIGITS) as f:
        source = f.read()
    req = TrialRequest(trial_id=1, number=1, arch=dict(wide), budget=None, seed=0, space_source=source,
                       space_file=DIGITS, artifact_dir=str(tmp_path),
                       lineage={"parent": 0, "parent_id": 0, "parent_arch": dict(arch),
                                "transformation": "net2wider width"})
    x = torch.randn(8, 1, 8, 8)
    ref = _out(space, arch, state, x)
    gaps = []
    for noise in (0.0, 0.05):
        _, model = TrainEvaluator("digits", morph_noise=noise).build(req)
        gaps.append((ref - model.eval()(x)).abs().max().item())
    assert gaps[0] < 1e-5 and 1e-6 < gaps[1] < 0.5 * ref.abs().max().item()
