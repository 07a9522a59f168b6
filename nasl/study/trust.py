"""What a data file may make nasl import: only what the user names again.

A model bundle (``.pt``) records the op modules of its space, and a study
file records them too (its ``ops`` column), with its evaluator spec, which
may be ``python:MODULE:FUNC``. Importing a module runs it, so a file that a
colleague shares could run any Python. ``torch.load(weights_only=True)``
guards the weights, not this.

Every path that imports a module named by a file goes through
:func:`allowed_modules`: a recorded module is imported only when this call
names it again (``ops=`` / ``--ops``, or ``--ops`` naming an evaluator's
module), or when the caller passes ``trust=True`` (``--trust``). Otherwise
the error lists every module the file asks for, so the user can judge them.
"""
from __future__ import annotations

import os
import shlex

from nasl.ir.errors import NaslError
from nasl.loader import is_path as _is_path     # one rule for what names a file


def module_key(name: str) -> str:
    """What two spellings of one module share: the real path of a ``.py`` file, else the dotted name."""
    return os.path.realpath(name) if _is_path(name) else name


def evaluator_module(spec) -> str | None:
    """The module that a ``python:MODULE:FUNC`` spec imports; None for the other specs."""
    if not isinstance(spec, str):
        return None
    kind, _, rest = spec.strip().partition(":")
    if kind != "python" or ":" not in rest:
        return None
    return rest.rpartition(":")[0]


def _shown(name: str) -> str:
    return repr(name)          # an evaluator spec is not checked by _names: repr keeps it on the line


def _names(value, what: str, source: str) -> list[str]:
    # a file is data: check its shape rather than trust it
    if value is None:
        return []
    # a newline or a control character is in no module name, and would break the one-line error
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v and v.isprintable() for v in value):
        raise NaslError(f"{source} is damaged: its {what} is not a list of module names")
    return list(value)


def allowed_modules(source: str, recorded_ops=(), *, evaluator_spec=None, ops=None, trust: bool = False) -> list[str]:
    """The op modules to import for a file; NaslError if it asks for one the user did not name.

    Parameters
    ----------
    source : str
        How the error names the file, e.g. ``"the model bundle 'm.pt'"``.
    recorded_ops : list of str
        The op modules the file records.
    evaluator_spec : str, optional
        The evaluator spec the file records and that would be rebuilt from it
        (None when the user passed an evaluator); a ``python:`` spec's module
        must be approved too.
    ops : list of str, optional
        The modules this call names (``ops=`` / ``--ops``); they are approved,
        and imported too.
    trust : bool
        Approve whatever the file names.

    Returns the recorded modules followed by the named ones not recorded,
    each once.
    """
    recorded = _names(recorded_ops, "list of op modules", source)
    given = _names(list(ops or ()), "ops", "the ops argument")
    approved = {module_key(m) for m in given}
    wanted = [m for m in recorded if module_key(m) not in approved]
    ev_module = evaluator_module(evaluator_spec)
    ev_refused = ev_module is not None and module_key(ev_module) not in approved
    if not trust and (wanted or ev_refused):
        asks = []
        if wanted:
            asks.append("op module" + ("s " if len(wanted) > 1 else " ") + ", ".join(_shown(m) for m in wanted))
        if ev_refused:
            asks.append(f"the evaluator {_shown(evaluator_spec)} (module {_shown(ev_module)})")
        # the names come from the file: quoted, so that a pasted suggestion cannot run a shell command
        again = []
        if wanted:
            again.append(" ".join(f"--ops {shlex.quote(m)}" for m in wanted) + " (ops=[...] in Python)")
        if ev_refused and evaluator_spec.isprintable():
            again.append(f"--evaluator {shlex.quote(evaluator_spec)} (evaluator=...)")
        them = "them" if len(wanted) + ev_refused > 1 else "it"
        raise NaslError(f"{source} asks to import {' and '.join(asks)}; importing runs its code, so nasl does "
                        f"not do it for a file alone. If you trust {them}, "
                        + (f"name {them} again: {'; '.join(again)}; or " if again else "")
                        + "pass --trust (trust=True)")
    out, seen = [], set()
    for m in recorded + given:
        if module_key(m) not in seen:
            seen.add(module_key(m))
            out.append(m)
    return out


__all__ = ["allowed_modules", "module_key", "evaluator_module"]
