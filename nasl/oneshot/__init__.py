"""Weight sharing: supernets compiled from the same ``Space`` (design: ONESHOT.md, docs/oneshot.md).

``compile_supernet(space, mode=...)`` dispatches on :data:`MODES`, which maps a
mode name to the ``"module:function"`` that builds it. Each mode lives in its
own module and adds one line here; the module is imported only when asked for.
"""
from __future__ import annotations

from nasl.ir.errors import NaslError, did_you_mean

# mode -> "module:function(space, mode, **options) -> nn.Module"; filled in as modes land
MODES: dict[str, str] = {
    "bank": "nasl.oneshot.bank:build",
}


def compile_supernet(space, mode: str = "darts", **options):
    """A weight-sharing supernet of ``space`` for ``mode`` (an ``nn.Module``; see docs/oneshot.md)."""
    target = MODES.get(mode) if isinstance(mode, str) else None
    if target is None:
        known = sorted(MODES)
        raise NaslError(f"unknown supernet mode {mode!r}; the modes are: {', '.join(known) or 'none yet'}",
                        hint=did_you_mean(str(mode), known))
    from importlib import import_module
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)(space, mode, **options)


__all__ = ["compile_supernet", "MODES"]
