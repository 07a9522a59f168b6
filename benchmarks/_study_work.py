"""A CPU-bound training trial for the study benchmarks (importable by worker processes).

``train_trial`` compiles the trial's architecture (NAS-Bench-201 with the
``C`` and ``N`` the study passes) and trains it for ``STEPS`` SGD steps on a
fixed random batch of 32x32 images, on one torch thread, so a trial costs
the same in the parent and in a worker and two workers need two cores.
"""
from __future__ import annotations

STEPS = 12
BATCH = 32


def train_trial(request) -> dict:
    import torch
    torch.set_num_threads(1)
    from nasl.compiler import compile as compile_arch
    torch.manual_seed(request.seed)
    model = compile_arch(request.load_space(), request.arch)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (BATCH,), generator=g)
    loss = None
    for _ in range(STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return {"loss": loss.item()}


train_trial.directions = {"loss": "min"}
