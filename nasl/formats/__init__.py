"""Interop with the formats of the literature.

Each format is a module ``nasl.formats.<name>`` with ``from_value(space,
value) -> Architecture``, where ``value`` is what JSON decoding gives:

- ``nb201``: a NAS-Bench-201 string ``"|nor_conv_3x3~0|+|...|"``;
- ``nb101``: a NAS-Bench-101 spec ``{"matrix": [[...]], "ops": [...]}``;
- ``darts``: a DARTS genotype ``{"normal": [[op, input], ...], "normal_concat": [...], ...}``;
- ``genetic``: a Genetic CNN bit string ``"1-01-001"``;
- ``arch``: nasl's own ``{path: value}`` object.

Modules are imported on first use, so ``import nasl.formats`` stays cheap:

>>> import nasl
>>> from nasl import formats
>>> space = nasl.load("examples/nas_bench_201.nas")
>>> arch = formats.from_value(space, "nb201", "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
>>> arch["cell.edge[2->3]"]
'skip_connect'
"""
from __future__ import annotations

import importlib

from nasl.ir.errors import NaslError, did_you_mean

FORMATS = ("nb201", "nb101", "darts", "genetic", "arch")


def get_format(name: str):
    """The module of format ``name``; a clear error for names that are not formats."""
    if name not in FORMATS:
        hint = did_you_mean(str(name), FORMATS)
        raise NaslError(f"unknown architecture format '{name}'; the formats are {', '.join(FORMATS)}", hint=hint)
    try:
        module = importlib.import_module(f"nasl.formats.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"nasl.formats.{name}":
            raise
        raise NaslError(f"the architecture format '{name}' is not available in this installation") from None
    if not hasattr(module, "from_value"):
        raise NaslError(f"the architecture format '{name}' cannot read values yet (no from_value)")
    return module


def from_value(space, name: str, value):
    """The architecture of ``space`` that ``value`` (in format ``name``) describes, validated."""
    return get_format(name).from_value(space, value)


def __getattr__(name):
    # `nasl.formats.nb201` works without importing the submodule first, as it used to
    if name in FORMATS:
        return importlib.import_module(f"nasl.formats.{name}")
    raise AttributeError(f"module 'nasl.formats' has no attribute {name!r}")


__all__ = ["FORMATS", "get_format", "from_value"]
