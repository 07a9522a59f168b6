"""A searcher passed as an object (``nasl.search(searcher=RegularizedEvolution(space, seed=1, ...))``).

A study records its searcher by name, options and seed, so that a resume
rebuilds it and replays the recorded trials into it. An object is therefore
read as that description: its registered name, its constructor options (read
back from its attributes of the same names) and its seed. The study then
builds its own searcher from the description, so a resume with or without the
object draws the same. An object whose options cannot be read back that way
is refused with the name-and-options form to use instead, rather than
recording a description that would resume differently.
"""
from __future__ import annotations

import json

from nasl.ir.errors import NaslError

_PLAIN = (type(None), bool, int, float, str)
_CALLABLES = ("encoder", "cost")     # given by name in searcher_options (nasl.study.searcher_inputs)


def is_searcher_object(searcher) -> bool:
    from nasl.searchers.base import Searcher
    return isinstance(searcher, Searcher)


def describe(searcher, searcher_options, seed) -> tuple[str, dict, int | None]:
    """``(name, options, seed)`` a study records for the searcher object ``searcher``."""
    from nasl.searchers.registry import options_of, get_searcher
    cls = type(searcher)
    name = getattr(cls, "name", "?")
    try:
        registered = get_searcher(name)
    except KeyError:
        registered = None
    if registered is not cls:
        raise NaslError(f"the searcher {cls.__qualname__} is not registered: a study records its searcher by "
                        f"name to resume it; decorate the class with @register_searcher('NAME'), or pass a "
                        f"name (searcher='regularized_evolution')")
    if searcher_options:
        raise NaslError("give the searcher's options in the object or in searcher_options, not both")
    if searcher.num_asked or searcher.num_told:
        raise NaslError(f"the searcher object has already been used ({searcher.num_asked} asks, "
                        f"{searcher.num_told} tells); pass a fresh one")
    for key in _CALLABLES:
        if getattr(searcher, key, None) is not None:
            raise NaslError(f"a study cannot record the searcher's {key} callable; pass "
                            f"searcher='{name}' with searcher_options={{'{key}': NAME}} (see docs/study.md)")
    options = {}
    for key in sorted(options_of(cls) - set(_CALLABLES)):
        if hasattr(searcher, key) and _recordable(getattr(searcher, key)):
            options[key] = json.loads(json.dumps(getattr(searcher, key)))
    if seed is not None and searcher.seed is not None and seed != searcher.seed:
        raise NaslError(f"the searcher object's seed {searcher.seed} differs from seed={seed}; give one")
    _check_rebuilds(cls, searcher, options, name)
    return name, options, seed if seed is not None else searcher.seed


def _recordable(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_recordable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _recordable(v) for k, v in value.items())
    return isinstance(value, _PLAIN) and not (isinstance(value, float) and value != value)


def _check_rebuilds(cls, searcher, options: dict, name: str) -> None:
    """A searcher built from the description must hold the same settings as the object."""
    try:
        fresh = cls(searcher.spec, seed=searcher.seed, **options)
    except (TypeError, ValueError) as e:
        raise NaslError(f"cannot record the searcher object ({e}); pass searcher='{name}' with "
                        f"searcher_options") from None
    for key, value in vars(searcher).items():
        if _recordable(value) and vars(fresh).get(key) != value:
            raise NaslError(f"cannot record the searcher object: its setting '{key}' ({value!r}) is not one "
                            f"of its constructor's options; pass searcher='{name}' with searcher_options={options}")
