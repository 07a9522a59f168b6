"""Binding call arguments to parameter names: the one rule ops, definitions and dags share.

``conv(16, k=3)``, ``cell(C, nodes=4)`` and a dag node's ``op=..., merge=...``
all map positional arguments onto the free names in order and keyword
arguments by name; an unknown name gets a did-you-mean hint, a name given
twice is refused. Each caller only says what it binds (an op, a definition,
a node's fields) through ``owner`` and ``noun``.
"""
from __future__ import annotations

from nasl.ir.errors import NaslTypeError, did_you_mean


def bind_arguments(owner: str, names, args=(), kwargs=None, *, base=None, span=None, noun: str = "parameter",
                   positional: bool = True) -> dict:
    """``base`` updated with ``args`` (onto the names not in it, in order) and ``kwargs``.

    ``owner`` is how a message names the callee (``'conv'``); ``noun`` what
    the names are (``parameter``, ``field``). Raises :class:`NaslTypeError`
    at ``span``.
    """
    names = tuple(names)
    out = dict(base or {})
    if args:
        free = [n for n in names if n not in out] if positional else []
        if len(args) > len(free):
            raise NaslTypeError(f"{owner} takes at most {len(names)} {noun}(s) "
                                f"({', '.join(names) or 'none'}), got {len(args) + len(out)}", span)
        out.update(zip(free, args))
    for k, v in (kwargs or {}).items():
        if k not in names:
            raise NaslTypeError(f"{owner} has no {noun} '{k}'", span,
                                hint=did_you_mean(k, names) or (f"its {noun}s are: {', '.join(names)}" if names
                                                                else f"{owner} takes no {noun}s"))
        if k in out:
            raise NaslTypeError(f"{owner} got {noun} '{k}' twice", span)
        out[k] = v
    return out
