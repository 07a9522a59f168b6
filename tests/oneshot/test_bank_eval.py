"""BatchNorm recalibration, SupernetEvaluator, weight inheritance and supernet checkpoints."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import nasl
from nasl.ir.errors import NaslError
from nasl.oneshot.bn import recalibrate
from nasl.oneshot.evaluator import SupernetEvaluator
from nasl.morph import inherit
from nasl.oneshot.saving import load_supernet
from tests.oneshot.helpers_bank import DIGITS, pool, trained_bank


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def digits():
    return nasl.load(DIGITS)


@pytest.fixture(scope="module")
def trained(digits):
    return trained_bank(digits)


@pytest.fixture(scope="module")
def data():
    from nasl.study.digits import load_digits_split
    x, y, xv, yv = load_digits_split()
    return (x, y), (xv, yv)


# ---------------------------------------------------------------------- BatchNorm recalibration
def test_recalibration_is_the_cumulative_average_over_the_batches():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3, momentum=0.3)
    model = nn.Sequential(conv, bn)
    bn.running_mean.fill_(5.0)                       # stale statistics from training
    batches = [torch.randn(8, 2, 5, 5) * (i + 1) + i for i in range(4)]
    assert recalibrate(model, iter(batches), max_batches=3) == 3
    with torch.no_grad():
        outs = [conv(b) for b in batches[:3]]
    means = torch.stack([o.mean((0, 2, 3)) for o in outs])
    varis = torch.stack([o.var((0, 2, 3), unbiased=True) for o in outs])
    assert torch.allclose(bn.running_mean, means.mean(0), atol=1e-5)     # not an exponential average
    assert torch.allclose(bn.running_var, varis.mean(0), atol=1e-4)
    assert bn.momentum == 0.3 and not model.training and int(bn.num_batches_tracked) == 3
    # (inputs, labels) pairs work too, and no gradient is kept
    recalibrate(model, [(b, None) for b in batches])
    assert conv.weight.grad is None


def test_recalibration_leaves_a_model_without_batchnorm_alone():
    model = nn.Sequential(nn.Linear(3, 2)).train()
    before = [p.clone() for p in model.parameters()]
    assert recalibrate(model, [torch.randn(4, 3)]) == 0
    assert not model.training and all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


# ---------------------------------------------------------------------- SupernetEvaluator
def test_scores_do_not_depend_on_order_and_leave_the_supernet_alone(digits, trained, data):
    ev = SupernetEvaluator(trained, *data, calib_batches=3)
    archs = pool(digits)[:4]
    state = {k: v.clone() for k, v in trained.state_dict().items()}
    first = [ev(a)["val_accuracy"] for a in archs]
    second = [ev(a)["val_accuracy"] for a in reversed(archs)][::-1]
    assert first == second
    assert all(torch.equal(v, trained.state_dict()[k]) for k, v in state.items())
    # in place (the bank's own modules, no subnet compile): the same scores
    fast = SupernetEvaluator(trained, *data, calib_batches=3, inplace=True)
    assert [fast(a)["val_accuracy"] for a in archs] == pytest.approx(first, abs=1e-9)
    assert ev.directions == {"val_accuracy": "max"}


def test_trained_weights_score_above_untrained_ones(digits, trained, data):
    archs = pool(digits)
    good = SupernetEvaluator(trained, *data)
    fresh = SupernetEvaluator(nasl.compile_supernet(digits, "bank").eval(), *data)
    trained_acc = sum(good(a)["val_accuracy"] for a in archs) / len(archs)
    fresh_acc = sum(fresh(a)["val_accuracy"] for a in archs) / len(archs)
    assert trained_acc > fresh_acc + 0.1, (trained_acc, fresh_acc)


def test_recalibration_matters_after_shared_training(digits, trained, data):
    # the bank's running statistics are averaged over the pool; recalibrated ones fit each subnet
    archs = pool(digits)
    stale = SupernetEvaluator(trained, *data, calib_batches=0)
    recal = SupernetEvaluator(trained, *data, calib_batches=8)
    loss = lambda ev: sum(ev(a)["val_loss"] for a in archs) / len(archs)     # noqa: E731
    assert loss(recal) < loss(stale)


def test_cost_metrics_are_nasl_cost(digits, trained, data):
    ev = SupernetEvaluator(trained, *data, cost=("params", "flops"))
    a = pool(digits)[0]
    m = ev(a)
    c = nasl.cost(digits, a)
    assert (m["params"], m["flops"]) == (c.params, c.flops)
    assert m["params"] == sum(p.numel() for p in nasl.compile(digits, a).parameters())
    assert ev.directions == {"val_accuracy": "max", "params": "min", "flops": "min"}
    with pytest.raises(NaslError, match="unknown cost metric 'latency'"):
        SupernetEvaluator(trained, *data, cost=("latency",))
    with pytest.raises(NaslError, match="calib_batches"):
        SupernetEvaluator(trained, *data, calib_batches=-1)


# ---------------------------------------------------------------------- inheritance
def test_a_child_inherits_every_unchanged_node(digits):
    torch.manual_seed(0)
    parent = digits.sample(0)
    edge = next(p for p in parent if "edge" in p and parent[p] == "nor_conv_3x3")
    child = parent.replace({edge: "nor_conv_1x1"})
    parent_sd = nasl.compile(digits, parent).state_dict()
    fresh = nasl.compile(digits, child).state_dict()
    m = inherit(digits, parent, parent_sd, child, into=fresh)
    got = m.state_dict
    assert list(got) == list(fresh)
    node = edge.replace("cell.", "cell_0.").replace("[", "_").replace("->", "_").replace("]", "")
    changed = [k for k in got if k.startswith(node + ".")]
    assert changed                                   # the mutated edge's conv: the child's fresh weights
    for k, v in got.items():
        if k in changed:
            assert torch.equal(v, fresh[k])
        else:
            assert torch.equal(v, parent_sd[k]) and v.data_ptr() != parent_sd[k].data_ptr()
    assert 0.5 < m.inherited < 1.0
    assert inherit(digits, parent, parent_sd, parent).inherited == 1.0
    # another width: nothing fits, everything is fresh
    wide = parent.replace({"width": {8: 16, 16: 24, 24: 8}[parent["width"]]})
    assert inherit(digits, parent, parent_sd, wide).inherited == 0.0
    model = nasl.compile(digits, child)
    model.load_state_dict(got)                       # a loadable state_dict


def test_inherit_on_nas_bench_101():
    space = nasl.load("examples/nas_bench_101.nas", C=8)
    a, b = space.sample(0, n=2)
    sd = nasl.compile(space, a, (3, 8, 8)).state_dict()
    got = inherit(space, a, sd, b, input_shape=(3, 8, 8))
    nasl.compile(space, b, (3, 8, 8)).load_state_dict(got.state_dict)
    assert got.inherited > 0          # the stem at least


# ---------------------------------------------------------------------- checkpoints
def test_a_checkpoint_round_trips(digits, trained, tmp_path):
    path = trained.save(tmp_path / "sn.pt")
    back = load_supernet(path, digits)
    assert back.mode == "bank" and not back.training
    assert set(back.state_dict()) == set(trained.state_dict())
    # every value is a tensor, the bank's architectures too (uint8 JSON, as its extra state)
    assert all(torch.equal(v, trained.state_dict()[k]) for k, v in back.state_dict().items())
    # a plain load_state_dict into a fresh bank rebuilds the modules first (a training loop's checkpoint)
    fresh = nasl.compile_supernet(digits, "bank")
    fresh.load_state_dict(trained.state_dict())
    assert set(fresh.bank) == set(trained.bank)
    x = torch.randn(5, 1, 8, 8)
    for a in pool(digits):
        assert torch.equal(back(x, a), trained(x, a))


def test_bad_checkpoints_are_one_line_errors_and_nothing_is_overwritten(digits, trained, tmp_path):
    path = trained.save(tmp_path / "sn.pt")
    raw = path and open(path, "rb").read()
    other = nasl.load(DIGITS, classes=5)
    cases = [(lambda: load_supernet(path, other), "another space"),
             (lambda: load_supernet(path, digits, mode="spos"), "is a 'bank' supernet, not 'spos'"),
             (lambda: load_supernet(tmp_path / "missing.pt", digits), "no supernet checkpoint")]
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(raw[: len(raw) // 2])
    cases.append((lambda: load_supernet(corrupt, digits), "cannot be read"))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    cases.append((lambda: load_supernet(junk, digits), "cannot be read"))
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(2)}, plain)
    cases.append((lambda: load_supernet(plain, digits), "not a nasl supernet checkpoint"))
    data = torch.load(path, weights_only=True)
    torch.save(dict(data, mode="no-such-mode"), tmp_path / "mode.pt")
    cases.append((lambda: load_supernet(tmp_path / "mode.pt", digits), "mode 'no-such-mode'"))
    torch.save(dict(data, state={k: v for k, v in list(data["state"].items())[1:]}), tmp_path / "cut.pt")
    cases.append((lambda: load_supernet(tmp_path / "cut.pt", digits), "does not fit"))
    for call, message in cases:
        with pytest.raises(NaslError, match=message) as e:
            call()
        assert "\n" not in str(e.value).strip(), str(e.value)
    assert open(path, "rb").read() == raw
    with pytest.raises(NaslError, match="cannot write"):
        trained.save(tmp_path / "junk.pt" / "sn.pt")          # a file where a folder should be


def test_in_place_scoring_leaves_the_supernet_in_its_mode(digits, data):
    sn = nasl.compile_supernet(digits, "bank")
    a, b = pool(digits)[:2]
    sn(torch.randn(4, 1, 8, 8), a)                   # a's network, in train mode
    SupernetEvaluator(sn, *data, inplace=True)(b)    # recalibrates b's modules, some of them a's too
    assert sn.training and all(m.training for m in sn.modules())
    assert sn.module_for(a).training
