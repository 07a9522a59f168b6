"""Named fixed architectures of a space, kept beside its file.

A space ``examples/darts.nas`` has its presets in ``examples/darts.presets.json``::

    {"DARTS_V2": {"format": "darts", "value": {...}, "doc": "Liu et al. 2019, genotypes.py"},
     "LSTM": {"format": "arch", "value": {...}, "params": {"depth": 5}, "doc": "..."}}

``format`` is one of :data:`nasl.formats.FORMATS` and ``value`` is what that
format's ``from_value`` reads. ``params`` (optional) are the space
parameters the preset needs, e.g. the recursion depth of an RNN grammar;
:func:`load_preset` loads the space with them (the caller's own parameters
win). ``doc`` cites where the architecture comes from.

>>> import nasl
>>> from nasl.formats.presets import get_preset, presets
>>> sorted(presets("examples/nas_bench_201.nas"))[:2]
['all_nor_conv_3x3', 'best_cifar100']
>>> space = nasl.load("examples/nas_bench_201.nas")
>>> get_preset(space, "examples/nas_bench_201.nas", "resnet")["cell.edge[0->3]"]
'skip_connect'
"""
from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field

from nasl.ir.architecture import Architecture
from nasl.ir.errors import InvalidArchitecture, NaslError
from nasl.ir.reading import MAX_JSON_BYTES, load_json, read_text

SUFFIX = ".presets.json"
_KEYS = {"format", "value", "doc", "params"}


@dataclass(frozen=True)
class Preset:
    """One named architecture: call it with the space to get the :class:`Architecture`."""

    name: str
    format: str
    value: object
    doc: str = ""
    params: dict = field(default_factory=dict)

    def __call__(self, space) -> Architecture:
        from nasl.formats import from_value
        try:
            return from_value(space, self.format, self.value)
        except NaslError as e:       # InvalidArchitecture or ConstraintViolation
            needs = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
            hint = f"the preset needs the space parameters {needs}" if needs else e.hint
            raise InvalidArchitecture(f"preset '{self.name}' is not an architecture of {space.name}: {e.message}",
                                      hint=hint) from None


def presets_path(space_file) -> str:
    """Where the presets of ``space_file`` live: ``<dir>/<stem>.presets.json``."""
    space_file = os.fspath(space_file)
    stem, _ = os.path.splitext(space_file)
    return stem + SUFFIX


def presets(space_file) -> dict[str, Preset]:
    """The presets beside ``space_file``, by name, in file order; ``{}`` when it has none."""
    path = presets_path(space_file)
    if not os.path.exists(path):
        return {}
    text = read_text(path, "the presets file", MAX_JSON_BYTES)
    try:
        data = load_json(text, f"the presets file '{path}'")
    except json.JSONDecodeError as e:
        raise NaslError(f"{path}:{e.lineno}:{e.colno}: error: not valid JSON: {e.msg}") from None
    if not isinstance(data, dict):
        raise NaslError(f"{path}: the presets file holds a JSON object {{name: preset}}")
    from nasl.formats import ARCH_FORMATS
    out = {}
    for name, entry in data.items():
        where = f"{path}: preset '{name}'"
        if not isinstance(entry, dict) or "format" not in entry or "value" not in entry:
            raise NaslError(f"{where} needs a \"format\" and a \"value\"")
        extra = set(entry) - _KEYS
        if extra:
            raise NaslError(f"{where} has unknown keys {sorted(extra)}; a preset has {sorted(_KEYS)}")
        if entry["format"] not in ARCH_FORMATS:
            raise NaslError(f"{where} has the unknown format '{entry['format']}'; the formats are "
                            f"{', '.join(ARCH_FORMATS.keys())}")
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise NaslError(f"{where}: \"params\" is an object {{name: value}}")
        out[name] = Preset(name, entry["format"], entry["value"], str(entry.get("doc", "")), dict(params))
    return out


def find_preset(space_file, name: str) -> Preset:
    """The preset ``name`` of ``space_file``; an error with close matches when there is none."""
    known = presets(space_file)
    if name in known:
        return known[name]
    if not known:
        raise NaslError(f"'{os.fspath(space_file)}' has no presets (they would be in '{presets_path(space_file)}')")
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    lower = [k for k in known if k.lower() == name.lower()]
    close = lower + [c for c in close if c not in lower]
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None
    raise NaslError(f"unknown preset '{name}' for '{os.fspath(space_file)}'; its presets are "
                    f"{', '.join(known)}", hint=hint)


def get_preset(space, space_file, name: str) -> Architecture:
    """The preset ``name`` of ``space_file`` as an architecture of ``space`` (validated)."""
    return find_preset(space_file, name)(space)


def load_preset(space_file, name: str, load, **params):
    """``(space, arch)``: the space loaded with the preset's parameters (``params`` override them).

    ``load`` is the loader, ``nasl.load``; it is passed in because formats may not import the front end.
    """
    preset = find_preset(space_file, name)
    space = load(space_file, **{**preset.params, **params})
    return space, preset(space)
