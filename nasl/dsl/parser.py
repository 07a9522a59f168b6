"""Text to AST: the LALR parser (the transformer is in :mod:`nasl.dsl.ast_builder`).

Lark's exceptions never escape: a parse failure becomes a
:class:`NaslSyntaxError` that points at the offending token, and a
``VisitError`` raised inside the transformer is unwrapped.
"""
from __future__ import annotations

import os
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from nasl.dsl import ast as A
from nasl.dsl.ast_builder import Builder as _Builder
from nasl.dsl.ast_builder import span_of as _span
from nasl.ir.errors import NaslError, NaslSyntaxError, Span
from nasl.ir.reading import strip_bom

_OPTIONS = dict(parser="lalr", propagate_positions=True, maybe_placeholders=True)


def shipped_tables() -> str:
    """The LALR tables the package ships, built ahead of time."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "grammars", "nasl.tables")


def tables_stamp() -> bytes:
    """What the shipped tables must have been built from: grammar, options, lark and Python."""
    import hashlib
    import sys

    import lark
    from importlib.resources import files
    grammar = files("nasl.grammars").joinpath("nasl.lark").read_bytes()
    key = grammar + repr(sorted(_OPTIONS.items())).encode() + lark.__version__.encode() + \
        repr(sys.version_info[:2]).encode()
    return hashlib.sha256(key).hexdigest().encode()


def build_tables(path: str | None = None) -> str:
    """Write the tables for this grammar, lark and Python (``python -m nasl.grammars``)."""
    path = path or shipped_tables()
    parser = Lark.open_from_package("nasl.grammars", "nasl.lark", **_OPTIONS)
    with open(path, "wb") as f:
        f.write(tables_stamp() + b"\n")
        parser.save(f)
    return path


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    # Building the LALR tables costs ~0.2 s, loading them ~10 ms. Use the
    # shipped ones when they were built from this very grammar, lark and
    # Python; otherwise build, and let lark cache them in the temp directory.
    try:
        with open(shipped_tables(), "rb") as f:
            if f.readline().strip() == tables_stamp():
                return Lark.load(f)
    except (OSError, EOFError, ValueError):
        pass
    return Lark.open_from_package("nasl.grammars", "nasl.lark", cache=True, **_OPTIONS)


def parse(text: str, file: str = "<string>") -> A.Program:
    """Parse ``text`` into an :class:`~nasl.dsl.ast.Program`."""
    parser = lark_parser()
    text = strip_bom(text)          # as Python skips one at the start of a source file
    try:
        tree = parser.parse(text)
    except UnexpectedInput as e:
        raise syntax_error(e, text, file, parser) from None
    try:
        items = _Builder(file).transform(tree)
    except VisitError as e:
        inner = e.orig_exc
        if isinstance(inner, NaslError):
            raise inner.with_source(text) from None
        if isinstance(inner, RecursionError):
            raise _too_deep(tree, text, file) from None
        raise
    except RecursionError:
        raise _too_deep(tree, text, file) from None
    return A.Program(tuple(items), file, text)


def _too_deep(tree, text: str, file: str) -> NaslSyntaxError:
    """The building recursion ran out of stack: point at the most deeply nested place."""
    deepest, depth, stack = tree, 0, [(tree, 0)]
    while stack:                       # iterative: the tree is too deep to recurse on
        t, d = stack.pop()
        if d > depth and not getattr(t.meta, "empty", True):
            deepest, depth = t, d
        stack.extend((c, d + 1) for c in t.children if isinstance(c, Tree))
    return NaslSyntaxError("the program is nested too deeply here", _span(file, deepest.meta),
                           hint="split it into several named steps", source=text)


def syntax_error(e: UnexpectedInput, text: str, file: str, parser: Lark) -> NaslSyntaxError:
    line, col = max(getattr(e, "line", 1) or 1, 1), max(getattr(e, "column", 1) or 1, 1)
    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else "?"
        msg = f"unexpected character {ch!r}"
        width = 1
    elif isinstance(e, UnexpectedEOF):
        line, col = _end_of(text)
        msg = "unexpected end of file"
        width = 1
    elif isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            # lark places $END on the last token: point just after it, not at trailing blank lines
            line, col = (tok.end_line, tok.end_column) if tok.end_line and tok.end_column else _end_of(text)
            msg, width = "unexpected end of file", 1
        else:
            msg, width = f"unexpected {_describe_token(tok)}", max(1, len(str(tok)))
    else:  # pragma: no cover - lark has no other subclasses today
        msg, width = "syntax error", 1
    terminals = getattr(e, "expected", None) or ()
    if getattr(e, "interactive_parser", None) is not None:
        # LALR's 'expected' is every lookahead of a merged state, e.g. ')' and 'for' inside a list;
        # accepts() tries each token from where the parser stopped and keeps those it can take
        terminals = e.interactive_parser.accepts() or terminals
    expected = sorted({_describe_terminal(t, parser) for t in terminals}, key=_hint_rank)
    hint = None
    if expected:
        shown = ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")
        hint = f"expected {shown}"
    span = Span(file, line, col, line, col + width)
    return NaslSyntaxError(msg, span, hint=hint, source=text)


def _end_of(text: str) -> tuple[int, int]:
    lines = text.split("\n")       # lark counts lines by '\n' only
    return len(lines), len(lines[-1]) + 1


_CLOSERS = ("')'", "']'", "'}'", "','", "':'", "'='", "'{'", "'('")


def _hint_rank(text: str):
    # Closing brackets and separators are what a user most often forgot.
    if text in _CLOSERS:
        return (0, _CLOSERS.index(text), text)
    return (1 if text[1:2].isalpha() or text.startswith("a ") else 2, 0, text)


def _describe_token(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type in ("NUMBER", "STRING"):
        return f"{tok.type.lower()} {tok}"
    return f"'{tok}'"


def _describe_terminal(name: str, parser: Lark) -> str:
    if name in ("NAME", "NUMBER", "STRING"):
        return {"NAME": "a name", "NUMBER": "a number", "STRING": "a string"}[name]
    if name == "$END":
        return "end of file"
    try:
        pattern = parser.get_terminal(name).pattern
        return f"'{pattern.value}'"
    except (KeyError, AttributeError):
        return name.lower()
