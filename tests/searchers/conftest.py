"""Fixtures of the NAS-Bench-201 quality tests: the table is read once per run."""
from __future__ import annotations

import pytest

import nasl
from tests.searchers.nb201_table import ROOT, load_table


@pytest.fixture(scope="session")
def table():
    """``{architecture string: CIFAR-10 test accuracy}``."""
    return load_table()


@pytest.fixture(scope="session")
def spec():
    return nasl.load(ROOT / "examples" / "nas_bench_201.nas").spec
