"""The train evaluator (issue 6, evaluators): deterministic, budgeted, per-epoch curves, failures, weights."""
from __future__ import annotations

import math
import os
import pickle

import pytest
import torch

from nasl.study.digits import load_digits_split
from nasl.study.training import TrainEvaluator, weights_path
from tests.study.helpers_train import TINY, request

FAST = {"epochs": 2, "batch_size": 128, "threads": 1}


def _without_times(metrics):
    drop = {"train_seconds", "seconds"}
    out = {k: v for k, v in metrics.items() if k not in drop and k != "curve"}
    out["curve"] = [{k: v for k, v in row.items() if k not in drop} for row in metrics["curve"]]
    return out


def test_metrics_and_curve():
    ev = TrainEvaluator(**FAST)
    assert ev.directions == {"val_accuracy": "max"} and list(ev.directions)[0] == "val_accuracy"
    m = ev(request())
    assert set(m) >= {"val_accuracy", "val_loss", "train_loss", "params", "train_seconds", "curve"}
    assert [row["epoch"] for row in m["curve"]] == [1, 2]
    assert set(m["curve"][0]) == {"epoch", "train_loss", "val_loss", "val_accuracy", "seconds"}
    assert m["val_accuracy"] == m["curve"][-1]["val_accuracy"]
    assert m["val_accuracy"] * 360 == pytest.approx(round(m["val_accuracy"] * 360))   # a share of 360 images
    assert m["params"] == 8 * 9 + 2 * 8 + 8 * 64 * 10 + 10    # conv (no bias), bn, linear
    assert m["steps"] == 2 * 9 and m["epochs"] == 2                  # 1077 images in batches of 128
    assert m["curve"][0]["seconds"] < m["curve"][1]["seconds"] == m["train_seconds"]
    assert m["val_accuracy"] > 0.85                                  # it learns in 2 epochs


def test_deterministic_under_the_seed():
    ev = TrainEvaluator(**FAST)
    a, b, c = ev(request(seed=5)), ev(request(seed=5)), ev(request(seed=6))
    assert _without_times(a) == _without_times(b)
    assert _without_times(a) != _without_times(c)


def test_budget_overrides_epochs_and_is_a_prefix():
    ev = TrainEvaluator(**{**FAST, "epochs": 3})
    full = ev(request())
    short = ev(request(budget=2))
    assert len(full["curve"]) == 3 and len(short["curve"]) == 2
    # the schedule is laid over the evaluator's epochs, so a shorter budget replays the same start
    assert _without_times(short)["curve"] == _without_times(full)["curve"][:2]


def test_fractional_budget_trains_part_of_an_epoch():
    ev = TrainEvaluator(**FAST)
    m = ev(request(budget=1.5))
    assert [row["epoch"] for row in m["curve"]] == [1, 1.5]
    assert m["steps"] == 9 + 4 and m["epochs"] == 1.5                # half of 9 steps, rounded to even
    assert [row["epoch"] for row in ev(request(budget=0.25))["curve"]] == [0.25]


@pytest.mark.parametrize("budget", [0, -1, float("nan"), "2"])
def test_bad_budget(budget):
    with pytest.raises(ValueError, match="positive number of epochs"):
        TrainEvaluator(**FAST)(request(budget=budget))


def test_nan_data_fails_with_a_reason():
    x_tr, y_tr, x_va, y_va = load_digits_split()
    x_tr = x_tr.clone()
    x_tr[5, 0, 3, 3] = float("nan")
    ev = TrainEvaluator((x_tr, y_tr, x_va, y_va), **FAST)
    with pytest.raises(FloatingPointError, match=r"training diverged: the loss is nan at epoch 1.*NaN"):
        ev(request())


def test_huge_learning_rate_fails_with_a_reason():
    ev = TrainEvaluator(optimizer="sgd", lr=1e30, schedule="constant", **FAST)
    with pytest.raises(FloatingPointError, match="training diverged.*lr=1e"):
        ev(request())


def test_weights_are_saved_atomically(tmp_path):
    ev = TrainEvaluator(**FAST)
    m = ev(request(trial_id=7, artifact_dir=tmp_path / "art"))
    path = weights_path(tmp_path / "art", 7)
    assert path == os.path.join(str(tmp_path / "art"), "trial_7.pt")
    assert sorted(os.listdir(tmp_path / "art")) == ["trial_7.pt"]          # no temporary file left
    state = torch.load(path, weights_only=True)
    assert sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k) == m["params"]
    assert all(v.device.type == "cpu" for v in state.values())


def test_tensors_set_the_class_count_and_input_shape():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(60, 1, 6, 6, generator=g)
    y = torch.arange(60) % 3
    ev = TrainEvaluator((x[:48], y[:48], x[48:], y[48:]), epochs=1, batch_size=16)
    assert ev.num_classes == 3 and ev.input_shape == (1, 6, 6)
    m = ev(request())                               # the space's `param classes` becomes 3
    assert m["params"] == 8 * 9 + 2 * 8 + 8 * 36 * 3 + 3


def test_datasets_train_like_tensors():
    x_tr, y_tr, x_va, y_va = load_digits_split()
    sets = (torch.utils.data.TensorDataset(x_tr, y_tr), torch.utils.data.TensorDataset(x_va, y_va))
    ev = TrainEvaluator(sets, num_classes=10, **FAST)
    a, b = ev(request(seed=3)), ev(request(seed=3))
    assert _without_times(a) == _without_times(b) and len(a["curve"]) == 2
    assert a["steps"] == 24 and a["val_accuracy"] > 0.85


def test_a_space_without_a_classifier_is_refused():
    source = "input x: [1, 8, 8]\nnetwork { return x >> conv(choice(4, 8) as width, k=3) }"
    with pytest.raises(ValueError, match=r"must output 10 class scores.*\[4, 8, 8\].*linear"):
        TrainEvaluator(**FAST)(request(source=source, arch={"width": 4}))


def test_pickles_and_leaves_the_process_as_it_was():
    ev = pickle.loads(pickle.dumps(TrainEvaluator(**FAST)))
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(123)
    want = torch.rand(3)
    torch.manual_seed(123)
    ev(request())
    assert torch.equal(torch.rand(3), want)                  # the caller's RNG stream is untouched
    assert torch.get_num_threads() == threads and torch.are_deterministic_algorithms_enabled() == det
    assert "TrainEvaluator(data='digits', epochs=2" in repr(ev)


@pytest.mark.parametrize("kw, message", [
    ({"data": "mnist"}, "unknown data set 'mnist'"),
    ({"data": (torch.zeros(3),)}, "data must be 'digits'"),
    ({"data": (torch.zeros(4, 2), torch.zeros(4), torch.zeros(2, 2), torch.zeros(2))}, "integer class indices"),
    ({"data": (torch.zeros(4, 2), torch.zeros(3, dtype=torch.long), torch.zeros(2, 2),
               torch.zeros(2, dtype=torch.long))}, r"X \[N, ...\] and y \[N\]"),
    ({"optimizer": "nosuchopt"}, "unknown optimizer"),
    ({"schedule": "step"}, "unknown schedule"),
    ({"epochs": 0}, "epochs must be a positive number"),
    ({"batch_size": 0}, "batch_size must be a positive int"),
    ({"lr": -1.0}, "lr must be a positive number"),
    ({"threads": 0}, "threads must be a positive int"),
    ({"num_classes": 1}, "num_classes must be an int >= 2"),
])
def test_bad_options(kw, message):
    with pytest.raises(ValueError, match=message):
        TrainEvaluator(**kw)


def test_a_bad_device_name_is_refused_early():
    with pytest.raises(RuntimeError):
        TrainEvaluator(device="gpu0")


def test_default_device_is_cuda_when_available():
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert TrainEvaluator().device_for().type == want
    assert TrainEvaluator(device="cpu").device_for().type == "cpu"
    assert TrainEvaluator().threads == 1 and TrainEvaluator(threads=None).threads is None
    assert math.isclose(TrainEvaluator().lr, 0.01) and math.isclose(TrainEvaluator(optimizer="sgd").lr, 0.1)


def test_free_device_memory_collects_a_dropped_compiled_model():
    """A compiled model is cyclic garbage (fx's graph points back at it): dropping it frees nothing."""
    import weakref

    import nasl
    from nasl.study.training import free_device_memory
    space = nasl.loads(TINY)
    model = nasl.compile(space, space.sample(seed=0))
    ref = weakref.ref(model)
    del model
    assert ref() is not None
    free_device_memory(torch.device("cpu"))      # the CPU waits for Python's next full collection
    assert ref() is not None
    free_device_memory(torch.device("cuda"))     # collects (and empties CUDA's cache: a no-op here)
    assert ref() is None


def test_a_trial_drops_its_model_before_freeing_device_memory(monkeypatch):
    import gc
    import weakref

    from nasl.study import training
    built, seen = [], []
    original_build = TrainEvaluator.build

    def build(self, req):
        space, model = original_build(self, req)
        built.append(weakref.ref(model))
        return space, model

    def spy(device):
        gc.collect()
        seen.append((device.type, built[0]() is None))
    monkeypatch.setattr(TrainEvaluator, "build", build)
    monkeypatch.setattr(training, "free_device_memory", spy)
    TrainEvaluator(**FAST)(request())
    assert seen == [("cpu", True)]               # nothing held the model any more


LR_SPACE = TINY.replace("network {", "network {\n    lr = choice(0.05, 1e30)\n    weight_decay = choice(0.0, 0.5)")


def test_a_space_choice_named_lr_sets_the_learning_rate(monkeypatch):
    """A searched ``lr`` (as PBT explores, and ``nasl train --best`` retrains) reaches the optimizer."""
    from nasl.study import optimizers, training
    seen = []
    real = optimizers.make
    monkeypatch.setattr(training.optimizers, "make", lambda name, params, lr, wd: seen.append((lr, wd)) or
                        real(name, params, lr, wd))
    ev = TrainEvaluator(optimizer="sgd", lr=0.1, schedule="constant", **FAST)
    with pytest.raises(FloatingPointError, match="training diverged.*lr=1e"):
        ev(request({"width": 8, "lr": 1e30, "weight_decay": 0.0}, source=LR_SPACE))
    m = ev(request({"width": 8, "lr": 0.05, "weight_decay": 0.5}, source=LR_SPACE))
    assert seen[-1] == (0.05, 0.5) and m["val_accuracy"] > 0
    seen.clear()
    ev(request())                                     # no such choice: the evaluator's own
    assert seen[-1] == (0.1, ev.weight_decay)
