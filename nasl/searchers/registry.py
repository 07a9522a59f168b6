"""Searchers by name, like timm's ``register_model`` / ``list_models``.

Examples
--------
>>> from nasl.searchers import list_searchers
>>> "random" in list_searchers()
True
>>> list_searchers("reg*")
['regularized_evolution']
"""
from __future__ import annotations

import difflib
import fnmatch

from nasl.searchers.base import Searcher

_REGISTRY: dict[str, type] = {}


def register_searcher(name: str):
    """Class decorator: make a :class:`Searcher` subclass available as ``create(name, ...)``."""
    def deco(cls):
        if not (isinstance(cls, type) and issubclass(cls, Searcher)):
            raise TypeError(f"@register_searcher('{name}') decorates a Searcher subclass, not {cls!r}")
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"a searcher named '{name}' is already registered ({_REGISTRY[name].__qualname__})")
        cls.name = name
        _REGISTRY[name] = cls
        return cls
    return deco


def list_searchers(pattern: str = "*") -> list[str]:
    """The registered names that match the glob ``pattern``, sorted."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def get_searcher(name: str) -> type:
    """The class registered as ``name``; KeyError with a suggestion otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(list_searchers())}"
        raise KeyError(f"no searcher named '{name}'{hint}") from None


def create(name: str, spec, seed: int | None = None, **options) -> Searcher:
    """A new searcher ``name`` over ``spec`` (a ChoiceSpec, or a Space through its ``.spec``).

    ``options`` go to the searcher's constructor (e.g. ``population_size``);
    an option it does not take is a ValueError that lists the ones it does.
    """
    cls = get_searcher(name)
    accepted = _options_of(cls)
    unknown = [k for k in options if k not in accepted]
    if unknown:
        close = difflib.get_close_matches(unknown[0], accepted, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"its options: {', '.join(sorted(accepted)) or 'none'}"
        raise ValueError(f"searcher '{name}' has no option '{unknown[0]}'; {hint}")
    return cls(spec, seed=seed, **options)


def _options_of(cls) -> set:
    """Keyword options of a searcher's constructor and of its bases."""
    import inspect
    out = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.name not in ("self", "spec", "seed") and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
                out.add(p.name)
    return out
