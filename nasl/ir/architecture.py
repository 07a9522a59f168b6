"""An architecture: one answer for every active choice of a space."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Iterator

from nasl.ir.reading import load_json


def _norm(v):
    # JSON has lists where subsets and permutations use tuples.
    if isinstance(v, list):
        return tuple(_norm(x) for x in v)
    return v


def _path_key(path: str):
    # Natural order, so that edge[10] sorts after edge[9].
    out, num = [], ""
    for ch in path:
        if ch.isdigit():
            num += ch
            continue
        if num:
            out.append((0, int(num), ""))
            num = ""
        out.append((1, 0, ch))
    if num:
        out.append((0, int(num), ""))
    return out


class Architecture(Mapping):
    """An immutable mapping ``{path: value}`` over the active choices.

    Equality and :attr:`id` ignore the order of the entries; the canonical
    order (:meth:`items` of :meth:`canonical`) sorts paths naturally. Values
    are JSON scalars, or tuples for subsets and permutations.
    """

    __slots__ = ("_d", "_id", "_hash", "_json")

    def __init__(self, values: Mapping[str, Any] | None = None, **kw):
        d = {str(k): _norm(v) for k, v in dict(values or {}, **kw).items()}
        self._d = d
        self._id = self._hash = self._json = None

    @classmethod
    def _trusted(cls, d: dict) -> "Architecture":
        """Wrap a dict the caller built and will not touch again (fast path)."""
        a = cls.__new__(cls)
        a._d, a._id, a._hash, a._json = d, None, None, None
        return a

    def __getitem__(self, path: str):
        return self._d[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __eq__(self, other) -> bool:
        if isinstance(other, Architecture):
            return self._d == other._d
        if isinstance(other, Mapping):
            return self._d == {k: _norm(v) for k, v in other.items()}
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._d.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"Architecture({self.to_json()})"

    def canonical(self) -> dict:
        """The entries in canonical (natural path) order."""
        return {k: self._d[k] for k in sorted(self._d, key=_path_key)}

    def to_json(self) -> str:
        # Cached: a study writes, hashes and snapshots the same architecture several times per
        # trial, and the natural sort of its paths is most of what the JSON costs.
        if self._json is None:
            self._json = json.dumps(self.canonical(), separators=(",", ":"))
        return self._json

    @classmethod
    def from_json(cls, text: str) -> "Architecture":
        from nasl.ir.errors import InvalidArchitecture
        try:
            data = load_json(text, "the architecture", InvalidArchitecture)
        except json.JSONDecodeError as e:
            raise InvalidArchitecture(f"an architecture is a JSON object {{path: value}}; this is not JSON: "
                                      f"{e.msg} at line {e.lineno} column {e.colno}") from None
        if not isinstance(data, dict):
            raise InvalidArchitecture("an architecture is a JSON object {path: value}")
        return cls(data)

    @property
    def id(self) -> str:
        """A short content hash, stable across runs and machines."""
        if self._id is None:
            self._id = hashlib.sha1(self.to_json().encode()).hexdigest()[:12]
        return self._id

    def replace(self, changes: Mapping[str, Any]) -> "Architecture":
        """A copy with some paths set to new values (no validation)."""
        d = dict(self._d)
        d.update({k: _norm(v) for k, v in changes.items()})
        return Architecture._trusted(d)
