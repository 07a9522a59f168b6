"""One-shot runs learn (slow, on the bundled digits): DARTS finds a network that retrains well; ENAS's reward rises."""
from __future__ import annotations

import pytest
import torch

from tests.oneshot.loop_helpers import DIGITS, real_supernets
from tests.study.test_oneshot import modes  # noqa: F401 - the fixture: the fake supernet until the real one lands

pytestmark = pytest.mark.slow


def test_darts_first_order_on_digits_then_retrained_reaches_090(tmp_path):
    from nasl.study.oneshot_study import oneshot_search
    sn_options = {} if real_supernets() else {"max_depth": 1}
    r = oneshot_search(DIGITS, "darts", 10, tmp_path / "d.db", supernet_options=sn_options, progress=False)
    assert len(r.history) == 10
    # the derived architecture, retrained from scratch with the study's (digits) evaluator on the held-out test fifth
    summary = r.study.retrain(r.study.completed()[-1])
    print("derived", r.arch.to_json(), "retrained", summary["mean"])
    assert summary["mean"]["test_accuracy"] >= 0.90


def test_enas_controller_reward_rises(tmp_path):
    from nasl.study.oneshot_study import oneshot_search
    torch.set_num_threads(1)
    sn_options = {} if real_supernets() else {"max_depth": 1}
    r = oneshot_search(DIGITS, "enas", 6, tmp_path / "e.db", supernet_options=sn_options, progress=False,
                       options={"controller_steps": 20, "eval_archs": 2, "lr": 0.1, "batch_size": 32})
    rewards = [h["metrics"]["controller_reward"] for h in r.history]
    print("controller mean reward per epoch", [round(x, 3) for x in rewards])
    assert sum(rewards[-2:]) / 2 > sum(rewards[:2]) / 2 + 0.05
