"""The recursive-descent fast path builds exactly the AST the lark path builds, spans included.

:func:`nasl.dsl.parser.parse` tries :mod:`nasl.dsl.descent` first and falls
back to lark on :class:`Fallback`. So the descent parser may refuse anything,
but whatever it accepts must equal lark's tree node for node. These tests
compare the two on every ``.nas`` file of the repository, on hand-picked
corners of the grammar, on the fuzzer's random programs and on thousands of
mutants (which mostly do not parse: then the descent parser must refuse too).
"""
from __future__ import annotations

import dataclasses
import random

import pytest

from nasl.dsl import ast as A
from nasl.dsl.descent import Fallback, parse_items
from nasl.dsl.parser import parse, parse_with_lark
from nasl.ir.errors import NaslError
from tests.conftest import ROOT
from tests.dsl.test_fuzz import SOURCES, mutate, random_program

NAS_FILES = sorted(p for p in ROOT.rglob("*.nas") if ".git" not in p.parts)


def diff(a, b, where="program") -> str | None:
    """Where two ASTs differ (type, field or span), or None."""
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, A.Node):
        for f in dataclasses.fields(a):
            d = diff(getattr(a, f.name), getattr(b, f.name), f"{where}.{type(a).__name__}.{f.name}")
            if d:
                return d
        return None
    if isinstance(a, (tuple, list)):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{where}: {a!r} vs {b!r}"


def descent_or_none(text: str, file: str = "t.nas"):
    try:
        return parse_items(text, file)
    except Fallback:
        return None


def lark_or_none(text: str, file: str = "t.nas"):
    try:
        return list(parse_with_lark(text, file).items)
    except NaslError:
        return None


def same(text: str, file: str = "t.nas") -> bool:
    """True when descent took it (and agrees with lark), False when it fell back on a valid program."""
    fast, slow = descent_or_none(text, file), lark_or_none(text, file)
    if fast is None:
        return False
    assert slow is not None, f"descent accepted what lark rejects:\n{text}"
    d = diff(fast, slow)
    assert d is None, f"{d}\n--- source ---\n{text}"
    return True


@pytest.mark.parametrize("path", NAS_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_nas_file_of_the_repository(path):
    text = path.read_text(encoding="utf-8")
    took = same(text, path.name)
    if lark_or_none(text, path.name) is not None and text.isascii() and "\\" not in text:
        assert took, "a plain well-formed file should not need lark"


CORNERS = [
    "",
    ";;",
    "let a = (1)",
    "let a = ((1)) + (2)",
    "let a = (b)(c)[(d)]",
    "let a = (1,)",
    "let a = (1, 2,)",
    "let a = [1, [2, 3,], []]",
    "let a = -b * c - -d // e % f / g",
    "let a = not b and not not c or d == e",
    "let a = b ? c : d ? e : f",
    "let a = (b ? c : d) as e",
    "let a = b in c and d >= e >> f",
    "let a = x >> f >> (g >> h)",
    "let a = f(b, c=1, d=(2),)",
    "let a = f()()[0]",
    "let a = 'it\"s' + \"it's\" + 'tab\there'",
    "let a = 1.5e3 + .5 + 5. + 7E-2 + 12",
    "def f = 3\ndef g(a, b=2,) = a\ndef h()(x) { return x, x; }",
    "input x: [3, 32, 32]\nparam C = [16, 32]\ngenotype g = [(1, 2)]",
    "require a else 'msg'\nforbid b",
    "network {\n  a, b = 1, 2\n  for i, j in zip(a, b) { h = i }\n  repeat n as k { h = h }\n"
    "  repeat (n) { ; }\n  if a { b = 1 } elif c { b = 2 } elif d {} else { b = 3 }\n"
    "  if a {}\n  require x else \"m\"\n  forbid y\n  return h\n}",
    "def c(k) = dag(nodes=4, prune=true) {\n  edge i -> j where i > 0: choice(conv(k), zero) as op\n"
    "  node j where j > 1: merge=\"sum\", keep = 2\n  require edges() <= 3 else 'few'\n  forbid uses(x); ;\n}",
    "let a = dag() {}(x)",
    "let a = b  # a comment\n# another\x0c page\nlet c = d\r\n",
    "let a = b\n\n\t  let c = (\n  d\n)",
    # keywords that lark's contextual lexer takes for names where the keyword cannot come
    "def in(for, as=2)(edge) { node = edge >> param; elif, where = in, as\n return node }",
    "let a = f(edge=1, node=x, if=in) as where\nlet b = [let, def] >> network",
    "network { node = x\n for i, else in y { repeat 2 as or { } } }",
    "def f(c)(h) { edge = h; return edge }",
    "let a = b == not",
    "def c = dag(nodes=2) { edge in -> out: choice(a, b) as def\n node j: edge=1, for=2 }",
]


@pytest.mark.parametrize("text", CORNERS)
def test_corners_of_the_grammar(text):
    assert same(text)


REFUSED = [
    "let a = b < c < d",              # comparisons do not chain
    "let a = - not b",                # `not` is not a unary operand
    "let a = b == not c",
    "let a = ()",
    "let a = [,]",
    "let a = f(b=1, c)",              # builder errors: lark reports them
    "let a = f(b=1, b=2)",
    "let a = dag(4) {}",
    "let a = 'bad \\q escape' + '\\x4'",
    "let a = 1" + "0" * 5000,
    "let a = b == not c",             # after '==' lark lexes `not` as a name: then `c` is unexpected
    "network { if = 1 }",
    "let a = \u00e9",
    "let a = b\nlet",
    "let a = " + "[" * 500 + "]" * 500,
]


@pytest.mark.parametrize("text", REFUSED, ids=range(len(REFUSED)))
def test_refused_forms_go_to_lark_with_the_same_outcome(text):
    assert descent_or_none(text) is None
    try:
        fast = parse(text, "t.nas")
    except NaslError as e:
        with pytest.raises(NaslError) as slow:
            parse_with_lark(text, "t.nas")
        assert e.render() == slow.value.render()
    else:
        assert diff(list(fast.items), list(parse_with_lark(text, "t.nas").items)) is None


def test_random_programs_agree():
    rng = random.Random(7)
    programs = [random_program(rng) for _ in range(300)]
    valid = [p for p in programs if lark_or_none(p) is not None]
    assert len(valid) > 200 and all(same(p) for p in valid)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_mutants_agree_or_fall_back(name):
    rng = random.Random(f"descent:{name}")
    for _ in range(120):
        same(mutate(rng, SOURCES[name]))
