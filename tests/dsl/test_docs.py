"""Every ```nas example in docs/language.md loads, samples and realizes."""
from __future__ import annotations

import pathlib
import re

import pytest

import nasl

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "language.md"
BLOCKS = re.findall(r"```nas\n(.*?)```", DOC.read_text(), re.S)


def test_the_reference_has_examples():
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example_runs(index):
    space = nasl.loads(BLOCKS[index], f"language.md#{index}")
    arch = space.sample(index)
    space.validate(arch)
    graph = space.realize(arch)
    assert graph.graph["outputs"]


PY_BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S) if "builder=" in b]


def test_the_builder_protocol_example_runs(monkeypatch, isolated_ops):
    """The reference's register_op example with builder, shape and cost rule runs as written."""
    pytest.importorskip("torch")
    assert PY_BLOCKS
    for block in PY_BLOCKS:
        exec(compile(block, "language.md", "exec"), {})
