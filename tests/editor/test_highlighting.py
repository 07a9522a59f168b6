"""The Pygments lexer (and its entry point) and the TextMate grammar know the grammar's keywords."""
from __future__ import annotations

import importlib
import importlib.metadata
import json
import re
import tomllib

import pygments.lexers
import pygments.plugin
import pytest
from pygments.token import Error, Keyword, Name, Operator

from nasl.dsl.builtins import BUILTIN_NAMES
from nasl.dsl.naming import CHOICE_FORMS
from nasl.editor import pygments_lexer as L
from tests.conftest import EXAMPLES, ROOT

GRAMMAR_KEYWORDS = set(re.findall(r'"([a-z_]+)"', (ROOT / "nasl/grammars/nasl.lark").read_text()))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
TEXTMATE = ROOT / "editors" / "nasl.tmLanguage.json"


def test_the_word_lists_match_the_grammar_and_the_builtins():
    assert set(L.KEYWORDS) | set(L.CONSTANTS) == GRAMMAR_KEYWORDS
    assert set(L.CHOICE_FORMS) == set(CHOICE_FORMS) and set(L.BUILTINS) == set(BUILTIN_NAMES)


def test_the_entry_point_names_the_lexer(monkeypatch):
    value = PYPROJECT["project"]["entry-points"]["pygments.lexers"]["nasl"]
    module, _, attr = value.partition(":")
    assert getattr(importlib.import_module(module), attr) is L.NaslLexer
    # pygments finds plugins through importlib.metadata: offer it the declared entry point, as an install does
    ep = importlib.metadata.EntryPoint(name="nasl", value=value, group="pygments.lexers")
    monkeypatch.setattr(pygments.plugin, "iter_entry_points", lambda group: [ep] if group == ep.group else [])
    assert isinstance(pygments.lexers.get_lexer_by_name("nasl"), L.NaslLexer)
    assert isinstance(pygments.lexers.get_lexer_for_filename("x.nas"), L.NaslLexer)
    assert "pygments>=2.12" in PYPROJECT["project"]["optional-dependencies"]["editor"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.nas")), ids=lambda p: p.name)
def test_examples_lex_without_errors_and_round_trip(path):
    text = path.read_text()
    toks = list(L.NaslLexer().get_tokens(text))
    assert "".join(v for _, v in toks) == text
    assert not [v for t, v in toks if t in Error]


def test_token_kinds():
    toks = [(t, v) for t, v in L.NaslLexer().get_tokens('def f(c) = choice(conv(c), identity) >> relu  # x\n')
            if v.strip()]
    assert toks[:3] == [(Keyword.Declaration, "def"), (Name.Function, "f"), (pygments.token.Punctuation, "(")]
    assert (Name.Builtin, "choice") in toks and (Operator, ">>") in toks
    assert toks[-1] == (pygments.token.Comment.Single, "# x")


def test_rich_highlights_with_the_lexer():
    from rich.console import Console
    from rich.syntax import Syntax
    console = Console(record=True, width=80, color_system="truecolor", force_terminal=True)
    console.print(Syntax("network { return x >> relu }", lexer=L.NaslLexer()))
    out = console.export_text(styles=True)
    style = dict((word, esc) for esc, word in re.findall(r"(\x1b\[[0-9;]*m)(network|x|relu)\x1b", out))
    assert set(style) == {"network", "x", "relu"} and style["network"] != style["x"] == style["relu"]


def test_the_textmate_grammar_parses_and_has_the_grammar_keywords():
    g = json.loads(TEXTMATE.read_text())
    assert g["scopeName"] == "source.nasl" and g["fileTypes"] == ["nas"]
    repo = g["repository"]
    found = set()
    for rule in repo["keyword"]["patterns"] + [repo["constant"]]:
        found |= set(re.fullmatch(r"\\b\((.*)\)\\b", rule["match"]).group(1).split("|"))
    assert found == GRAMMAR_KEYWORDS
    assert {p["include"][1:] for p in g["patterns"]} <= set(repo)
    for rule in _rules(repo):          # every pattern is a valid regular expression
        re.compile(rule)


def _rules(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("match", "begin", "end"):
                yield v
            else:
                yield from _rules(v)
    elif isinstance(node, list):
        for v in node:
            yield from _rules(v)
