"""A small trained ``bank`` supernet of the digits space, shared by the bank and study tests."""
from __future__ import annotations

import random

import torch

import nasl

DIGITS = "nasl/spaces/digits.nas"


def pool(space, n: int = 8, seed: int = 0) -> list:
    return space.sample(random.Random(seed), n=n)


def trained_bank(space, steps: int = 30, seed: int = 0):
    """SPOS over a pool of 8 uniform architectures: enough for their scores to differ from chance."""
    from nasl.study.digits import load_digits_split
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            x, y, _, _ = load_digits_split()
            sn = nasl.compile_supernet(space, "bank", cache=16)
            archs = pool(space, seed=seed)
            for a in archs:
                sn.module_for(a)
            opt = torch.optim.Adam(sn.weights(), lr=0.01)
            rng = random.Random(seed)
            for _ in range(steps):
                idx = torch.randint(0, len(x), (64,))
                loss = torch.nn.functional.cross_entropy(sn(x[idx], rng.choice(archs)), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(old)
    return sn.eval()
