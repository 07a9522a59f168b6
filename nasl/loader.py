"""The one way nasl imports user code: a dotted module name or a ``.py`` file, once per process.

``--ops MODULE``, a study's recorded op modules, ``python:MODULE:FUNC``
evaluators and ``data=module:function`` all come here. A ``.py`` file runs
once per process, however often and however spelled it is named (by its
real path): running it again would register its ops a second time, or make
a second class where pickle expects the first. A dotted name that is not
importable is looked for in the current folder too, as ``python -m`` would.

What a *file* (a study, a model bundle) asks to import is checked by
:mod:`nasl.study.trust` before it gets here; this module only imports.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType

from nasl.ir.errors import NaslError

_FILES: dict[str, ModuleType] = {}      # real path of a .py file -> its module


def is_path(name: str) -> bool:
    """Whether ``name`` is a file path (``x.py``, ``dir/x``) rather than a dotted module name."""
    return name.endswith(".py") or os.sep in name or (os.altsep is not None and os.altsep in name)


def import_user_module(name: str, what: str = "module") -> ModuleType:
    """Import ``name`` (a dotted name or a ``.py`` path) once per process; a one-line NaslError
    (``cannot import {what} 'name'`` / ``{what} 'name' failed``) when it cannot be imported or raises."""
    try:
        return _import_file(name) if is_path(name) else _import_by_name(name)
    except (ImportError, OSError, SyntaxError) as e:
        raise NaslError(f"cannot import {what} '{name}': {e}") from None
    except NaslError:
        raise
    except Exception as e:  # noqa: BLE001 - the user's module failed, not nasl
        raise NaslError(f"{what} '{name}' failed: {type(e).__name__}: {e}") from None


def load_object(module: str, attr: str, what: str = "object"):
    """``module.attr``, where module is a dotted name or a ``.py`` path (imported once)."""
    mod = import_user_module(module, f"{what} module")
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise NaslError(f"module '{module}' has no {what} '{attr}'") from None


def _import_file(path: str) -> ModuleType:
    real = os.path.realpath(path)
    module = _FILES.get(real)
    if module is not None:
        return module
    mod_name = os.path.splitext(os.path.basename(path))[0]
    known = sys.modules.get(mod_name)           # the same file imported by name already
    if known is not None and os.path.realpath(getattr(known, "__file__", "") or "") == real:
        _FILES[real] = known
        return known
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"no Python file at '{path}'")
    module = importlib.util.module_from_spec(spec)
    # in sys.modules (unless the name is taken), inspect finds the source of its classes
    # (the python export) and pickle finds them (process workers)
    added = sys.modules.setdefault(mod_name, module) is module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if added:
            del sys.modules[mod_name]
        raise
    _FILES[real] = module
    return module


def _import_by_name(name: str) -> ModuleType:
    """Import module ``name``; one in the current folder is found too, as ``python -m`` would.

    The ``nasl`` console script's ``sys.path`` starts at its own bin folder, not at
    the current one, so ``--ops my_ops`` beside the ``.nas`` file was not found. The
    folder goes at the end of ``sys.path`` (nothing installed is shadowed) and stays
    there, so workers and the python export find the module by name again.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        top = name.split(".")[0]
        here = os.getcwd()
        if e.name != top or here in sys.path or not (
                os.path.isfile(os.path.join(here, top + ".py")) or os.path.isdir(os.path.join(here, top))):
            raise
    sys.path.append(here)
    importlib.invalidate_caches()
    return importlib.import_module(name)


def import_ops(modules) -> None:
    """Import the modules that register user ops: the only code a space can bring in."""
    for name in modules:
        import_user_module(name, "op module")


__all__ = ["import_user_module", "import_ops", "load_object", "is_path"]
