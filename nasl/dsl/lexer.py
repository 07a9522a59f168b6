"""The descent parser's lexer: lark's terminals of ``nasl.lark``, one regular expression per line.

Tokens are five parallel lists (kind, text, line, column, end column); a kind is NAME, NUMBER,
STRING, or the text of a keyword or punctuation mark, and the list ends with ``$END``. Lines and
columns count as lark's do (lines by ``'\\n'`` only, columns from 1). Anything lark's lexer might
read otherwise raises :class:`Fallback`, as the parser does (see :mod:`nasl.dsl.descent`).
"""
from __future__ import annotations

import ast as pyast
import re
import warnings

from nasl.dsl.keywords import KEYWORDS_AFTER


class Fallback(Exception):
    """This text needs the lark parser (an error to report, or a form this parser leaves to it)."""


# Lark's terminals, ASCII only (lark's \d also takes other scripts' digits: those go to lark).
# Alternatives are tried in order, so two-character operators come before their prefixes.
_TOKEN = re.compile(r"""
    [ \t\f\r]+ | \#[^\n]*
  | (?P<NAME>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<NUMBER>(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<STRING>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<OP>//|>>|->|==|!=|<=|>=|[-+*/%<>=()\[\]{},;:?])
  | (?P<BAD>.)""", re.VERBOSE)
# what only the full unquoting handles: escapes, control characters, lone surrogates
_PLAIN_STRING = re.compile("[\x00-\x08\x0a-\x1f\\\\\ud800-\udfff]")


def lex(text: str):
    # Lark's contextual lexer reads a keyword as a name where the parser cannot take the
    # keyword (`node = 1` in a network body, `edge=` in node fields). Which keywords the
    # parser may take depends on its LALR state; KEYWORDS_AFTER holds, per kind of the
    # previous token, every keyword some state entered on that token takes. A keyword
    # outside that set is surely a name to lark; one inside is kept a keyword, and where
    # lark would have read a name this parser then fails to take it and falls back.
    kinds, values, lines, cols, ends = [], [], [], [], []
    prev = "^"
    for lineno, line in enumerate(text.split("\n"), 1):   # lark counts lines by '\n' only
        for m in _TOKEN.finditer(line):
            group = m.lastgroup
            if group is None:
                continue
            value = m.group()
            if group == "NAME":
                prev = value if value in KEYWORDS_AFTER[prev] else "NAME"
                kinds.append(prev)
            elif group == "OP":
                kinds.append(value)
                prev = value
            elif group == "BAD":
                raise Fallback
            else:
                kinds.append(group)
                prev = group
            start = m.start()
            values.append(value)
            lines.append(lineno)
            cols.append(start + 1)
            ends.append(start + 1 + len(value))
    kinds.append("$END")
    return kinds, values, lines, cols, ends


def string_literal(text: str) -> str:
    """:func:`string_value`, without ``literal_eval`` for the common string with nothing to unescape."""
    if _PLAIN_STRING.search(text) is None:
        return text[1:-1]
    return string_value(text)


def string_value(text: str) -> str:
    """The value of a STRING token's text; ``ValueError(message, hint)`` when it is invalid."""
    bad = next((ch for ch in text if ord(ch) < 32 and ch != "\t"), None)
    if bad is not None:
        raise ValueError(f"invalid string literal: it contains the control character U+{ord(bad):04X}",
                         "write it as an escape, e.g. '\\r'")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # "\d" stays a backslash and a 'd', as in Python
            return pyast.literal_eval(text)
    except (SyntaxError, ValueError) as err:
        reason = re.sub(r"^\(unicode error\) '\w+' codec can't decode bytes? in position [\d-]+: ", "",
                        getattr(err, "msg", None) or str(err))
        raise ValueError(f"invalid string literal: {reason}", "write a backslash as '\\\\'") from None
