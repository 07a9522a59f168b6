"""nasl's own architecture format: the JSON object ``{path: value}``.

It is the format of ``nasl sample`` and ``--arch``; a preset whose format
is ``arch`` holds such an object.
"""
from __future__ import annotations

from typing import Mapping

from nasl.ir.architecture import Architecture
from nasl.ir.errors import InvalidArchitecture
from nasl.ir.space import Space


def from_value(space: Space, value) -> Architecture:
    """``value`` (a decoded JSON object) validated against ``space``."""
    if not isinstance(value, Mapping):
        raise InvalidArchitecture(f"an architecture is a JSON object {{path: value}}, not {type(value).__name__}")
    return space.validate(Architecture(value))


def to_value(space: Space, arch: Mapping) -> dict:
    """The canonical JSON object of an architecture."""
    return space.validate(arch).canonical()
