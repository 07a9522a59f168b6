"""Shared pieces of the loop tests: the digits space, small data, a supernet of either kind."""
from __future__ import annotations

import functools
import os

import torch

import nasl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = os.path.join(ROOT, "nasl", "spaces", "digits.nas")


@functools.lru_cache(maxsize=None)
def space():
    return nasl.load(DIGITS)


def real_supernets() -> bool:
    """Whether ``nasl.compile_supernet`` knows the relaxed and sampled modes (T1's branch merged)."""
    from nasl.oneshot import MODES
    return "darts" in MODES and "spos" in MODES


def supernet(mode="darts", seed=0, fake=None, **options):
    """A supernet of digits.nas: the real one once it is there, else the test's fake (``fake=True`` forces it)."""
    torch.manual_seed(seed)
    if fake or (fake is None and not real_supernets()):
        from tests.oneshot.fake_supernet import FakeSupernet
        options.setdefault("max_depth", 1)          # one cell: fast
        return FakeSupernet(space(), mode, **options)
    return nasl.compile_supernet(space(), mode, **options)


def data(n_train=256, n_val=64, seed=0):
    """A small slice of the digits split (training, validation)."""
    from nasl.study.digits import load_digits_split
    xt, yt, xv, yv = load_digits_split(seed)
    return xt[:n_train], yt[:n_train], xv[:n_val], yv[:n_val]


def params_equal(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
