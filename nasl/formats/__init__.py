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

from nasl.ir.errors import NaslError
from nasl.registry import Registry, UnknownName, caller_module

# format name -> the module (lazy "module" entries) with from_value(space, value) -> Architecture; a
# plug-in adds one through the entry-point group ``nasl.formats`` (register_format("name", "pkg.mod"))
ARCH_FORMATS = Registry("architecture format", "nasl.formats", plural="formats")


def register_format(name: str, module, *, doc: str = "", example=None, replace: bool = False):
    """Make ``module`` (a module object or its dotted name, imported on first use) the architecture format
    ``name``. The module has ``from_value(space, value) -> Architecture``; ``example`` is
    ``(path of a .nas file, value)``, which the contract test reads."""
    target = module if not isinstance(module, str) else module + ":"
    ARCH_FORMATS.register(name, target, replace=replace, doc=doc, example=example, origin=caller_module())


for _name, _doc, _example in (
        ("nb201", "a NAS-Bench-201 string |nor_conv_3x3~0|+|...|",
         ("examples/nas_bench_201.nas", "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")),
        ("nb101", "a NAS-Bench-101 spec {matrix, ops}", None),
        ("darts", "a DARTS genotype {normal, normal_concat, reduce, reduce_concat}", None),
        ("genetic", "a Genetic CNN bit string 1-01-001", None),
        ("arch", "nasl's own {path: value} object", None)):
    register_format(_name, f"nasl.formats.{_name}", doc=_doc, example=_example)
del _name, _doc, _example


def __getattr__(name):
    # FORMATS, the names of the formats, as it used to be (a tuple), now read from the registry
    if name == "FORMATS":
        return tuple(ARCH_FORMATS.keys())
    # `nasl.formats.nb201` works without importing the submodule first, as it used to
    if name in ARCH_FORMATS.builtin_names():
        return importlib.import_module(f"nasl.formats.{name}")
    raise AttributeError(f"module 'nasl.formats' has no attribute {name!r}")


def get_format(name: str):
    """The module of format ``name``; a clear error for names that are not formats."""
    try:
        entry = ARCH_FORMATS.entry(name)
    except UnknownName:
        from nasl.ir.errors import did_you_mean
        known = ARCH_FORMATS.keys()
        raise NaslError(f"unknown architecture format '{name}'; the formats are {', '.join(known)}",
                        hint=did_you_mean(str(name), known)) from None
    try:
        module = entry.obj
    except ModuleNotFoundError as e:
        if e.name != entry.module:
            raise
        raise NaslError(f"the architecture format '{name}' is not available in this installation") from None
    if not hasattr(module, "from_value"):
        raise NaslError(f"the architecture format '{name}' cannot read values yet (no from_value)")
    return module


def from_value(space, name: str, value):
    """The architecture of ``space`` that ``value`` (in format ``name``) describes, validated."""
    return get_format(name).from_value(space, value)


__all__ = ["ARCH_FORMATS", "FORMATS", "register_format", "get_format", "from_value"]
