"""Rank quality of the bank (issue 12): after SPOS on digits, inherited-weight accuracy ranks architectures as
stand-alone training does (Kendall tau >= 0.3 over 20 fixed architectures)."""
from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

import nasl
from nasl.oneshot.evaluator import SupernetEvaluator
from tests.oneshot.helpers_bank import DIGITS


def kendall_tau_b(a, b) -> float:
    """Kendall's tau-b (ties in either list count as neither concordant nor discordant)."""
    conc = disc = ties_a = ties_b = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            da, db = a[i] - a[j], b[i] - b[j]
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif (da > 0) == (db > 0):
                conc += 1
            else:
                disc += 1
    denom = ((conc + disc + ties_a) * (conc + disc + ties_b)) ** 0.5
    return (conc - disc) / denom if denom else 0.0


def test_kendall_tau_b_matches_known_values():
    assert kendall_tau_b([1, 2, 3], [1, 2, 3]) == 1.0
    assert kendall_tau_b([1, 2, 3], [3, 2, 1]) == -1.0
    assert kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(2 / 3)
    assert kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / (3 * 2) ** 0.5)     # scipy: 0.8165


@pytest.mark.slow
def test_spos_on_the_bank_ranks_architectures_like_training_them(capsys):
    from nasl.study.digits import load_digits_split
    from nasl.study.protocol import TrialRequest
    from nasl.study.training import TrainEvaluator
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        space = nasl.load(DIGITS)
        x, y, xv, yv = load_digits_split()
        torch.manual_seed(0)
        sn = nasl.compile_supernet(space, "bank", cache=8)
        sn.populate(100)
        opt = torch.optim.Adam(sn.weights(), lr=0.01)
        rng, g = random.Random(0), torch.Generator().manual_seed(0)
        for _ in range(STEPS):                       # SPOS: one uniform architecture per step
            idx = torch.randint(0, len(x), (64,), generator=g)
            loss = F.cross_entropy(sn(x[idx], sn.sample_arch(rng)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sn.add_new_weights(opt)
        archs = space.sample(random.Random(42), n=20)
        ev = SupernetEvaluator(sn.eval(), (x, y), (xv, yv), calib_batches=8)
        inherited = [ev(a)["val_accuracy"] for a in archs]
        source = open(DIGITS).read()
        # stand-alone training on the images the bank trained on: the two-way split, no test fifth held out
        train = TrainEvaluator(epochs=EPOCHS, test_fraction=0)
        alone = [train(TrialRequest(i, i, dict(a), None, 0, source, "digits.nas"))["val_accuracy"]
                 for i, a in enumerate(archs)]
    finally:
        torch.set_num_threads(old)
    tau = kendall_tau_b(inherited, alone)
    with capsys.disabled():
        print(f"\nbank SPOS ({STEPS} steps) vs stand-alone ({EPOCHS} epochs), 20 architectures: Kendall tau {tau:.3f}")
    assert tau >= 0.3


STEPS, EPOCHS = 300, 2
