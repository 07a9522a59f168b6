"""The one-shot loops: the official settings, every mode's step, schedules."""
from __future__ import annotations

import pytest
import torch

import nasl
from nasl.ir.errors import NaslError
from nasl.oneshot.loops import DEFAULTS, make_trainer
from tests.conftest import ROOT
from tests.oneshot.loop_helpers import data, supernet

OPTS = dict(batch_size=32)


def test_official_darts_settings():
    sn = supernet("darts")
    t = make_trainer(sn, data(), epochs=4, options=OPTS)
    g = t.w_opt.param_groups[0]
    assert isinstance(t.w_opt, torch.optim.SGD)
    assert (g["lr"], g["momentum"], g["weight_decay"]) == (0.025, 0.9, 3e-4)
    a = t.a_opt.param_groups[0]
    assert isinstance(t.a_opt, torch.optim.Adam)
    assert (a["lr"], a["betas"], a["weight_decay"]) == (3e-4, (0.5, 0.999), 1e-3)
    assert DEFAULTS["grad_clip"] == 5.0 and DEFAULTS["train_portion"] == 0.5
    assert {id(p) for p in t.a_params} == {id(p) for p in sn.arch_parameters()}
    # cosine from 0.025 to 0.001 over the epochs
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(torch.optim.SGD([torch.zeros(1)], 0.025), 4.0, eta_min=0.001)
    lrs, expected = [], []
    for e in range(4):
        lrs.append(t.epoch_lr(e))
        expected.append(ref.get_last_lr()[0])
        ref.optimizer.step()
        ref.step()
    assert lrs == pytest.approx(expected) and lrs[0] == 0.025
    assert t.epoch_lr(4) == pytest.approx(0.001)
    # the two halves of the training data: weights and alpha never see the same image
    assert set(t.w_index.tolist()).isdisjoint(t.a_index.tolist())
    assert len(t.w_index) == len(t.a_index) == 128


@pytest.mark.parametrize("order", [1, 2])
def test_darts_epoch_moves_alpha_and_weights(order):
    sn = supernet("darts")
    before = {k: v.detach().clone() for k, v in sn.alpha.items()}
    t = make_trainer(sn, data(), epochs=2, options=dict(OPTS, order=order))
    rec = t.train_epoch()
    assert rec["epoch"] == 0 and set(rec["metrics"]) >= {"train_loss", "train_accuracy", "val_accuracy", "lr"}
    assert all(not torch.equal(before[k], p) for k, p in sn.alpha.items())
    sn.space.validate(__import__("nasl").Architecture.from_json(rec["arch"]))
    assert set(rec["probs"]) == set(sn.alpha)


def test_gdas_anneals_tau_linearly_from_10_to_01():
    sn = supernet("gdas")
    seen = []
    sn.set_temperature = lambda tau: seen.append(tau)
    t = make_trainer(sn, data(n_train=128), epochs=5, options=OPTS)
    t.run()
    assert seen == pytest.approx([10.0, 7.525, 5.05, 2.575, 0.1])
    assert [r["metrics"]["tau"] for r in t.history] == pytest.approx(seen)


def test_proxyless_cost_term_pushes_towards_cheap_ops():
    def conv3_prob(weight):
        sn = supernet("proxyless", seed=1)
        t = make_trainer(sn, data(n_train=128), epochs=2, options=dict(OPTS, cost_weight=weight, arch_lr=0.05))
        t.run()
        return sum(d["nor_conv_3x3"] for p, d in sn.probs().items() if p.startswith("cell.edge"))
    assert conv3_prob(5.0) < conv3_prob(0.0) - 0.05


@pytest.mark.parametrize("mode", ["spos", "oneshot", "ofa"])
def test_sampled_modes_train_and_report(mode):
    sn = supernet(mode)
    t = make_trainer(sn, data(n_train=128), epochs=2, options=dict(OPTS, eval_archs=3))
    calls = []
    real = sn.use
    sn.use = lambda arch: (calls.append(arch), real(arch))[1]
    t.run()
    assert len(t.history) == 2 and 0 <= t.history[-1]["metrics"]["val_accuracy"] <= 1
    steps = 2 * (128 // 32)
    if mode == "oneshot":
        assert t.history[-1]["metrics"]["drop_rate"] == pytest.approx(0.5)
    else:
        assert len(calls) >= steps


def test_ofa_phases_release_kernel_depth_then_width():
    sn = supernet("ofa", fake=True, max_depth=None)      # the loop's phases, on the fake's width and depth
    t = make_trainer(sn, data(n_train=64), epochs=4, options=dict(OPTS, eval_archs=1))
    assert t.kinds == {"width": "width", "depth": "depth"}
    assert [(t.__setattr__("epoch", e), t.phase())[1] for e in range(4)] == [0, 1, 2, 3]
    t.epoch = 0
    archs = [t.next_arch() for _ in range(20)]
    assert {a["width"] for a in archs} == {24} and {a["depth"] for a in archs} == {3}
    t.epoch = 2
    archs = [t.next_arch() for _ in range(40)]
    assert {a["width"] for a in archs} == {24} and len({a["depth"] for a in archs}) > 1
    t.epoch = 3
    assert len({t.next_arch()["width"] for _ in range(40)}) > 1


def test_enas_alternates_with_the_reinforce_controller():
    from nasl.searchers import create
    sn = supernet("enas")
    ctl = create("reinforce", sn.space.spec, seed=0, dedup=False, batch_size=5)
    t = make_trainer(sn, data(n_train=128), epochs=2, options=dict(OPTS, controller_steps=10, eval_archs=2),
                     controller=ctl)
    t.run()
    assert ctl.num_told == 20 and ctl.updates == 4
    assert not ctl.pending            # weight-step samples are not left pending
    assert 0 <= t.history[-1]["metrics"]["controller_reward"] <= 1


def test_bad_options_are_one_line_errors():
    sn = supernet("darts")
    with pytest.raises(NaslError, match="no option 'lr_max'"):
        make_trainer(sn, data(), epochs=1, options={"lr_max": 1})
    with pytest.raises(NaslError, match="order is 1"):
        make_trainer(sn, data(), epochs=1, options={"order": 3})
    with pytest.raises(NaslError, match="epochs must be"):
        make_trainer(sn, data(), epochs=0)
    with pytest.raises(NaslError, match="larger than the data"):
        make_trainer(sn, data(n_train=40), epochs=1, options={"batch_size": 32})
    with pytest.raises(NaslError, match="needs a controller"):
        make_trainer(supernet("enas"), data(), epochs=1)


def test_the_ofa_supernet_names_its_elastic_kinds_and_sorts_channels_once_at_the_width_phase():
    sn = supernet("ofa", fake=False)
    assert sn.elastic_kinds() == {"width": "width", "depth": "depth"}       # digits: a width and a depth choice
    mb = nasl.compile_supernet(nasl.load(ROOT / "examples/mobilenet.nas"), "ofa")
    kinds = mb.elastic_kinds()
    assert {v for k, v in kinds.items() if k.startswith("kernel")} == {"kernel"}
    assert {v for k, v in kinds.items() if k.startswith("expand")} == {"width"}
    t = make_trainer(sn, data(n_train=64), epochs=4, options=dict(OPTS, eval_archs=1))
    sorts = []
    sn.sort_channels = lambda: sorts.append(t.epoch) or 0
    t.run()
    assert sorts == [3]                 # the last quarter is the width phase; sorted as it starts, once
