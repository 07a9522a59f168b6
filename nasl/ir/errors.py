"""User-facing errors and their rendering.

Every error a user can cause is a :class:`NaslError`. It carries the
:class:`Span` of the source text at fault, so it renders in the gcc/rustc
style ``file:line:col: error: message`` with the offending line and a caret
under the span. Bugs in nasl itself are :class:`InternalError`, kept apart so
that the CLI can say "internal error, please report" instead of blaming the
user's file.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Span:
    """A region of source text; lines and columns count from 1."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class NaslError(Exception):
    """An error in the user's space, architecture or request.

    ``span`` points at the source; ``source`` is the text it indexes, used to
    draw the caret. ``hint`` is an extra line such as "did you mean ...".
    """

    kind = "error"

    def __init__(self, message: str, span: Span | None = None, *, hint: str | None = None,
                 source: str | None = None, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.source = source
        self.path = path

    def with_source(self, source: str | None) -> "NaslError":
        if self.source is None:
            self.source = source
        return self

    def at(self, span: Span | None) -> "NaslError":
        """Locate an error raised where its place in the source was not known."""
        if self.span is None:
            self.span = span
        return self

    def render(self) -> str:
        """The diagnostic as the CLI prints it."""
        head = f"{self.span}: {self.kind}: {self.message}" if self.span else f"{self.kind}: {self.message}"
        lines = [head]
        if self.span and self.source is not None:
            lines.extend(_caret(self.source, self.span))
        if self.hint:
            lines.append(f"  = hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class NaslSyntaxError(NaslError):
    """The text does not parse."""


class NaslNameError(NaslError):
    """A name that is not defined: a variable, an op, a definition."""


class NaslTypeError(NaslError):
    """A value of the wrong kind, or a call with the wrong arguments."""


class NaslCycleError(NaslError):
    """Definitions that call each other without a base case."""


class EmptySpaceError(NaslError):
    """A choice with no alternatives, or a space with no architecture."""


class UnsatisfiableError(NaslError):
    """Constraints that no architecture satisfies."""


class ConstraintViolation(NaslError):
    """An architecture that breaks a ``require`` or ``forbid``."""


class InvalidArchitecture(NaslError):
    """An architecture that does not fit the space: a wrong path or value."""


class MissingDependency(NaslError, ImportError):
    """An optional package or tool that a feature needs is not installed (see :mod:`nasl.ir.optional`).

    Also an ``ImportError``, so ``except ImportError`` in user code still catches it.
    """


class NaslErrors(NaslError):
    """Several errors found in one pass; renders all of them."""

    def __init__(self, errors: Sequence[NaslError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, first.span, hint=first.hint, source=first.source)

    def with_source(self, source: str | None) -> "NaslErrors":
        for e in self.errors:
            e.with_source(source)
        return self

    def render(self) -> str:
        n = len(self.errors)
        body = "\n".join(e.render() for e in self.errors)
        return body + (f"\n{n} errors" if n > 1 else "")


class InternalError(Exception):
    """A bug in nasl, not in the user's input."""


def _caret(source: str, span: Span) -> list[str]:
    src_lines = source_lines(source)
    if not 1 <= span.line <= len(src_lines):
        return []
    text = src_lines[span.line - 1].expandtabs(1)
    width = (span.end_col - span.col) if span.end_line == span.line else len(text) - span.col + 1
    width = max(1, width)
    gutter = f"{span.line:>4} | "
    return [gutter + text, " " * (len(gutter) + span.col - 1) + "^" * width]


def source_lines(source: str) -> list[str]:
    """The lines of ``source`` as spans number them: split at '\\n' only, not at form feeds or '\\r'."""
    return [line[:-1] if line.endswith("\r") else line for line in source.split("\n")]


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, if one is close enough."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
