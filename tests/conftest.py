"""Shared fixtures: the example spaces and the benchmark data bundled with the package."""
from __future__ import annotations

import pathlib

import pytest

import nasl
from nasl.data import NB201_TABLE

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NB201_CSV = pathlib.Path(NB201_TABLE)     # gzip: read it with nasl.data.open_text


@pytest.fixture
def isolated_ops():
    """Ops (signatures, builders, shape and cost rules) registered in the test are gone after it."""
    from contextlib import ExitStack
    from nasl.ir.oplib import OPS
    regs = [OPS]
    try:
        import torch  # noqa: F401 - the compiler registries need it
    except ImportError:         # no torch: the signatures alone
        pass
    else:
        from nasl.compiler.op_rules import BUILDERS, COST_RULES, SHAPE_RULES
        regs += [BUILDERS, SHAPE_RULES, COST_RULES]
    with ExitStack() as stack:
        for r in regs:
            stack.enter_context(r.isolated())
        yield


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
