"""Searchers by name, like timm's ``register_model`` / ``list_models``, on :class:`nasl.registry.Registry`.

A plug-in distribution adds searchers through the entry-point group
``nasl.searchers`` (its module uses ``@register_searcher``).

Examples
--------
>>> from nasl.searchers import list_searchers
>>> "random" in list_searchers()
True
>>> list_searchers("reg*")
['regularized_evolution']
"""
from __future__ import annotations

from nasl.registry import Registry
from nasl.searchers.base import Searcher


def _check(name, cls):
    if not (isinstance(cls, type) and issubclass(cls, Searcher)):
        raise TypeError(f"@register_searcher('{name}') decorates a Searcher subclass, not {cls!r}")


SEARCHERS = Registry("searcher", "nasl.searchers", check=_check)


def register_searcher(name: str, **meta):
    """Class decorator: make a :class:`Searcher` subclass available as ``create(name, ...)``.

    ``meta`` is kept on the registry entry (``example={option: value}``: the
    options the contract test, ``tests/test_registries.py``, creates it with).
    """
    def deco(cls):
        SEARCHERS.register(name, cls, **meta)
        cls.name = name
        return cls
    return deco


def list_searchers(pattern: str = "*") -> list[str]:
    """The registered names that match the glob ``pattern``, sorted."""
    return SEARCHERS.names(pattern)


def get_searcher(name: str) -> type:
    """The class registered as ``name``; :class:`~nasl.registry.UnknownName` (a KeyError) with a suggestion
    otherwise."""
    return SEARCHERS.get(name)


def create(name: str, spec, seed: int | None = None, **options) -> Searcher:
    """A new searcher ``name`` over ``spec`` (a ChoiceSpec, or a Space through its ``.spec``).

    ``options`` go to the searcher's constructor (e.g. ``population_size``);
    an option it does not take is a ValueError that lists the ones it does.
    """
    import difflib
    cls = get_searcher(name)
    accepted = options_of(cls)
    unknown = [k for k in options if k not in accepted]
    if unknown:
        close = difflib.get_close_matches(unknown[0], accepted, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"its options: {', '.join(sorted(accepted)) or 'none'}"
        raise ValueError(f"searcher '{name}' has no option '{unknown[0]}'; {hint}")
    return cls(spec, seed=seed, **options)


def options_of(cls) -> set:
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
