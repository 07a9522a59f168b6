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
    check_option_types(name, cls, options)
    return cls(spec, seed=seed, **options)


def check_option_types(name: str, cls, options) -> None:
    """Refuse an option whose value is not of its default's kind (a number where the default is a
    number, NaN excluded; a bool where it is a bool), so a string from a config file fails here, in
    one line, and not as a TypeError deep in the first ask. Ranges stay the searcher's own checks."""
    import math
    from numbers import Real
    params = option_parameters(cls)
    for key, value in options.items():
        p = params.get(key)
        if p is None or "None" in str(p.annotation):
            continue    # an optional number ("int | None"): the searcher checks it itself
        default = p.default
        if isinstance(default, bool):
            ok = isinstance(value, bool)
            want = "true or false"
        elif isinstance(default, Real):
            ok = isinstance(value, Real) and not isinstance(value, bool) and not math.isnan(value)
            want = "a number"
        else:
            continue
        if not ok:
            raise ValueError(f"option '{key}' is {want} (default {default!r}), not {value!r}")


def option_parameters(cls) -> dict:
    """``{option: inspect.Parameter}``: the keywords of a searcher's constructor, then its bases'
    (each once, the most derived one's)."""
    import inspect
    out: dict = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.name not in ("self", "spec", "seed") and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
                out.setdefault(p.name, p)
    return out


def options_of(cls) -> set:
    """Keyword options of a searcher's constructor and of its bases."""
    return set(option_parameters(cls))
