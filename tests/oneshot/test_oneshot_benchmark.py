"""benchmarks/oneshot_darts.py: its search step is DARTS's, and it runs with or without a nasl darts mode."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import oneshot_darts as bench  # noqa: E402
from tests.oneshot.reference_darts import Network  # noqa: E402

import nasl.oneshot  # noqa: E402

TINY = ["--C", "4", "--layers", "3", "--sizes", "8", "--batch", "2", "--warmup", "1", "--steps", "1",
        "--repeats", "2", "--no-memory"]


@pytest.fixture(autouse=True)
def one_thread():
    # two threads on the shared 2-core machine make these small convolutions 10-50x slower;
    # main() sets one thread too
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fake_supernet(space, mode, **options):
    """Stands in for a nasl darts mode: the reference network at the benchmark's tiny size."""
    assert options == {"affine": False}
    return Network(4, 10, 3)


@pytest.fixture
def no_space(monkeypatch):
    # loading examples/darts.nas takes seconds on the shared machine; neither fake mode reads the space
    monkeypatch.setattr(bench, "load_space", lambda args: None)


def test_runs_without_a_nasl_darts_mode(monkeypatch, capsys, no_space):
    monkeypatch.setattr(nasl.oneshot, "MODES", {})
    assert bench.main(TINY) == 0
    out = capsys.readouterr().out
    assert "nasl: not available (error: unknown supernet mode 'darts'" in out
    assert out.rstrip().endswith("nasl: not available")
    row = next(line for line in out.splitlines() if line.startswith("| 3x8x8"))
    # nasl time, ratio, CPU time, CPU ratio; both memories (--no-memory) and their ratio
    assert row.count("n/a") == 7


def test_times_a_nasl_supernet_beside_the_hand_written_one(monkeypatch, capsys, no_space):
    monkeypatch.setattr(nasl.oneshot, "MODES", {"darts": f"{__name__}:fake_supernet"})
    assert bench.main(TINY) == 0
    out = capsys.readouterr().out
    assert "not available" not in out
    assert "hand: 72,854 weights, 224 arch parameters" in out and "nasl: 72,854 weights" in out
    row = next(line for line in out.splitlines() if line.startswith("| 3x8x8")).split("|")
    assert float(row[4]) > 0 and float(row[7]) > 0        # wall and CPU ratios


def _tiny(dtype=torch.float64):
    torch.manual_seed(0)
    net = Network(4, 10, 3).to(dtype)
    g = torch.Generator().manual_seed(1)
    data = [(torch.randn(4, 3, 8, 8, generator=g, dtype=dtype), torch.randint(0, 10, (4,), generator=g))
            for _ in range(2)]
    return net, data


def test_second_order_gradient_is_the_unrolled_hypergradient():
    # exact: d/dalpha L_val(w - lr (dL_train/dw + wd w), alpha), through the weight gradient
    net, (train, valid) = _tiny()
    s = bench.Stepper(net, second_order=True)
    # the official r = 0.01 / |v| is a coarse finite difference (ReLU and max-pool kinks: here it is
    # off by about the size of the term); in float64 a small r makes it exact, which tests the algebra
    s.fd_r = 1e-6
    g = torch.autograd.grad(s.loss(*train), s.w, create_graph=True)
    unrolled = [p - s.lr * (gp + s.wd * p) for p, gp in zip(s.w, g)]
    exact = torch.autograd.grad(s.loss(*valid, weights=unrolled), s.a)
    s.arch_grads(train, valid)
    for a, e in zip(s.a, exact):
        assert torch.allclose(a.grad, e, rtol=1e-6, atol=1e-8 * e.abs().max().item())
    # and the second-order term is not negligible here, so the check has teeth
    first = torch.autograd.grad(s.loss(*valid), s.a)
    assert max((f - e).abs().max().item() for f, e in zip(first, exact)) > 1e-3 * max(e.abs().max().item() for e in exact)


def test_a_step_updates_weights_and_alphas_with_the_official_optimisers():
    net, (train, valid) = _tiny(torch.float32)
    s = bench.Stepper(net)
    assert s.wopt.defaults["lr"] == 0.025 and s.wopt.defaults["momentum"] == 0.9
    assert s.wopt.defaults["weight_decay"] == 3e-4
    assert s.aopt.defaults["lr"] == 3e-4 and s.aopt.defaults["betas"] == (0.5, 0.999)
    assert s.aopt.defaults["weight_decay"] == 1e-3
    before_w, before_a = [p.detach().clone() for p in s.w], [a.detach().clone() for a in s.a]
    s.step(train, valid)
    assert all(not torch.equal(a, b) for a, b in zip(s.a, before_a))
    assert sum(not torch.equal(p, b) for p, b in zip(s.w, before_w)) > len(s.w) // 2
    pc = bench.Stepper(Network(4, 10, 3, partial=4), pcdarts=True)
    assert pc.wopt.defaults["lr"] == 0.1 and pc.aopt.defaults["lr"] == 6e-4


@pytest.mark.slow
def test_memory_is_measured_in_a_fresh_process():
    args = bench.argparse.Namespace(batch=2, warmup=1, C=4, layers=3, second_order=False, pcdarts=False)
    m = bench.memory("hand", 8, args)
    assert "error" not in m, m
    assert m["peak"] > 0 and m["built"] >= 0


def test_cuda_without_a_device_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench.main(["--device", "cuda"]) == 2
    assert capsys.readouterr().out == "error: --device cuda, but torch sees no CUDA device\n"
