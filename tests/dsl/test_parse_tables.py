"""The LALR tables shipped in the package match the grammar (they make a cold load fast)."""
from __future__ import annotations

import os

from nasl.dsl.parser import lark_parser, parse, shipped_tables, tables_stamp


def test_shipped_tables_are_current():
    with open(shipped_tables(), "rb") as f:
        stamp = f.readline().strip()
    assert stamp == tables_stamp(), "the grammar changed: run `python -m nasl.grammars` to rebuild the tables"


def test_the_parser_works_from_the_tables():
    assert os.path.exists(shipped_tables())
    lark_parser.cache_clear()
    prog = parse("network { return x >> conv(8) }")
    assert len(prog.items) == 1


def test_the_descent_parsers_keyword_table_is_current():
    from nasl.dsl.parser import keyword_table
    from nasl.dsl.keywords import KEYWORDS_AFTER
    assert keyword_table(lark_parser()) == KEYWORDS_AFTER, "run `python -m nasl.grammars` to rebuild it"
