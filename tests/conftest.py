"""Shared fixtures: the example spaces and the benchmark data bundled with the package."""
from __future__ import annotations

import pathlib

import pytest

import nasl
from nasl.data import NB201_TABLE

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NB201_CSV = pathlib.Path(NB201_TABLE)     # gzip: read it with nasl.data.open_text


def example(name: str) -> pathlib.Path:
    return EXAMPLES / name


@pytest.fixture(scope="session")
def nb201():
    return nasl.load(example("nas_bench_201.nas"))


@pytest.fixture(scope="session")
def darts():
    return nasl.load(example("darts.nas"))


def nb201_arch(arch_string: str) -> dict:
    """``|op~src|+|...|`` to ``{cell.edge[src->dst]: op}``."""
    from nasl.formats.nb201 import from_string
    return from_string(arch_string)
