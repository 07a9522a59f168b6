"""User-facing errors and their rendering.

Every error a user can cause is a :class:`NaslError`. It carries the
:class:`Span` of the source text at fault, so it renders in the gcc/rustc
style ``file:line:col: error: message`` with the offending line and a caret
under the span. Bugs in nasl itself are :class:`InternalError`, kept apart so
that the CLI can say "internal error, please report" instead of blaming the
user's file.
"""
from __future__ import annotations

import functools
from collections import Counter
from itertools import chain
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

    @property
    def hint(self) -> str | None:
        # a hint may be given as a function (see lazy_did_you_mean): it runs when first read, so the
        # thousands of errors a huge file can produce cost nothing for hints that are never shown
        h = self._hint
        if callable(h):
            h = self._hint = h()
        return h

    @hint.setter
    def hint(self, value) -> None:
        self._hint = value

    def __reduce__(self):
        # a lazy hint is a closure: resolve it so that the error can cross a process boundary
        state = dict(self.__dict__)
        state["_hint"] = self.hint
        return (self.__class__, self.args, state)

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
            lines.extend(caret_lines(self.source, self.span))
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


class NotRelaxable(NaslError):
    """A choice a supernet mode cannot relax or share (give it a policy: ``fixed`` or ``sample``)."""


class MissingDependency(NaslError, ImportError):
    """An optional package or tool that a feature needs is not installed (see :mod:`nasl.ir.optional`).

    Also an ``ImportError``, so ``except ImportError`` in user code still catches it.
    """


class NaslErrors(NaslError):
    """Several errors found in one pass; renders all of them."""

    def __init__(self, errors: Sequence[NaslError]):
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, first.span, source=first.source)

    @property
    def hint(self) -> str | None:
        return self._hint if self._hint is not None else self.errors[0].hint     # read only when wanted

    @hint.setter
    def hint(self, value) -> None:
        self._hint = value

    def __reduce__(self):
        # rebuilt from its errors (each pickles its own hint); its args are only the first message
        return (self.__class__, (self.errors,), {k: v for k, v in self.__dict__.items() if k != "errors"})

    def with_source(self, source: str | None) -> "NaslErrors":
        for e in self.errors:
            e.with_source(source)
        return self

    def render(self) -> str:
        n = len(self.errors)
        body = "\n".join(e.render() for e in self.errors[:MAX_SHOWN])
        if n > MAX_SHOWN:
            body += f"\n... and {n - MAX_SHOWN:,} more errors"
        return body + (f"\n{n:,} errors" if n > 1 else "")


MAX_SHOWN = 100     # errors rendered in full; a generated file with 20,000 typos would bury the first


class InternalError(Exception):
    """A bug in nasl, not in the user's input."""


def caret_lines(source: str, span: Span) -> list[str]:
    src_lines = lines_of(source)
    if not 1 <= span.line <= len(src_lines):
        return []
    text = src_lines[span.line - 1].expandtabs(1)
    width = (span.end_col - span.col) if span.end_line == span.line else len(text) - span.col + 1
    width = max(1, width)
    gutter = f"{span.line:>4} | "
    return [gutter + text, " " * (len(gutter) + span.col - 1) + "^" * width]


@functools.lru_cache(maxsize=4)
def lines_of(source: str) -> tuple:
    """:func:`source_lines` as a tuple, split once per source: every diagnostic of a file draws its caret
    from the same source, and realize labels every op alternative of a choice with its text."""
    return tuple(source_lines(source))


def source_lines(source: str) -> list[str]:
    """The lines of ``source`` as spans number them: split at '\\n' only, not at form feeds or '\\r'."""
    return [line[:-1] if line.endswith("\r") else line for line in source.split("\n")]


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, if one is close enough."""
    import difflib      # imported when a name is unknown, not at start-up
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def lazy_did_you_mean(name: str, *groups: Iterable[str]):
    """:func:`did_you_mean` over several candidate collections, computed only if the error is shown
    (see ``NaslError.hint``). The collections are read then, so they must not change meanwhile.

    difflib compares the name with every candidate (~5 us each); a generated file with 20,000
    globals and as many typos would spend minutes on hints. A collection of more than
    :data:`_SHORTLIST_ABOVE` names is first narrowed to the few that share most character
    pairs with the name, through an index built once per collection."""
    def hint():
        pool: list = []
        for g in groups:
            pool.extend(g if len(g) <= _SHORTLIST_ABOVE else _shortlist(name, g))
        return did_you_mean(name, pool)
    return hint


_SHORTLIST_ABOVE = 1000
_indexes: dict = {}         # (id, len) of a big collection -> (it, its names, {pair: [name index]})


def _pairs(name: str) -> set:
    low = name.lower()
    return {low[i:i + 2] for i in range(len(low) - 1)} or {low}


def _shortlist(name: str, group, keep: int = 40) -> list:
    key = (id(group), len(group))
    entry = _indexes.get(key)
    if entry is None or entry[0] is not group:
        names = list(group)
        index: dict = {}
        for k, n in enumerate(names):
            for p in _pairs(n):
                index.setdefault(p, []).append(k)
        if len(_indexes) >= 4:
            _indexes.clear()
        entry = _indexes[key] = (group, names, index)
    _, names, index = entry
    shared = Counter(chain.from_iterable(index.get(p, ()) for p in _pairs(name)))
    size = len(name)        # among equally many shared pairs (common in generated names), the closest length
    import heapq
    best = heapq.nsmallest(keep, shared.items(), key=lambda kc: (-kc[1], abs(len(names[kc[0]]) - size)))
    return [names[k] for k, _ in best]
