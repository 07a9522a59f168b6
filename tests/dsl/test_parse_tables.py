"""The LALR tables shipped in the package match the grammar (they make a cold load fast)."""
from __future__ import annotations

import os
import shutil

import lark
import pytest

from nasl.dsl.parser import shipped_tables


def test_shipped_tables_are_current(tmp_path):
    src = shipped_tables()
    if not os.path.exists(src):
        pytest.skip(f"no tables shipped for lark {lark.__version__} on this Python; lark caches them itself")
    copy = tmp_path / "tables.cache"
    shutil.copy(src, copy)
    before = copy.read_bytes().split(b"\n", 1)[0]
    lark.Lark.open_from_package("nasl.grammars", "nasl.lark", parser="lalr", cache=str(copy),
                                propagate_positions=True, maybe_placeholders=True)
    after = copy.read_bytes().split(b"\n", 1)[0]
    # lark rewrites the file when the grammar or its options changed
    assert before == after, "regenerate the tables: rm the .cache file and run `nasl check examples/*.nas`"
