"""One registry for every extension point: ops, searchers, evaluators, executors, exporters, formats.

A :class:`Registry` maps names to objects, as timm's ``register_model`` and
Optuna's samplers do, with what each extension point used to write for
itself:

- ``register(name, obj)`` (or ``@registry.register(name)``) refuses a name
  that already holds a different object, unless ``replace=True``;
- ``register(name, "module:attr")`` is a *lazy* entry: the module is
  imported the first time the entry is got, so listing names stays cheap
  and ``import nasl`` stays torch-free;
- each entry carries metadata (``doc``, ``example``, ...): help text and
  the examples that ``tests/test_registries.py`` runs every entry through;
- ``get(name)`` of an unknown name is a one-line :class:`UnknownName`
  (a ``NaslError`` and a ``KeyError``) with a did-you-mean hint.

Plug-ins (:mod:`nasl.plugins`): the first time a registry of an entry-point
group is read, the modules that installed distributions declare in that
group are imported, and their registrations apply.

This module imports nothing of nasl but its errors and :mod:`nasl.plugins`,
and no third-party package: every layer may use it.
"""
from __future__ import annotations

import fnmatch
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from nasl import plugins
from nasl.ir.errors import NaslError, did_you_mean
from nasl.plugins import GROUPS, PluginWarning, failed_plugins, load_plugins  # noqa: F401 - re-exported


class UnknownName(NaslError, KeyError):
    """A name no registry entry has (a ``KeyError`` too, for code that caught the old registries' error)."""

    __str__ = NaslError.__str__


class NameClash(NaslError, ValueError):
    """A name registered again with a different object."""


class Entry:
    """One registration: ``name``, the object (or its ``"module:attr"`` before first use), metadata."""

    __slots__ = ("name", "_obj", "target", "meta")

    def __init__(self, name: str, obj: Any = None, target: str | None = None, meta: dict | None = None):
        self.name, self._obj, self.target, self.meta = name, obj, target, dict(meta or {})

    @property
    def loaded(self) -> bool:
        return self.target is None

    @property
    def obj(self) -> Any:
        if self.target is not None:
            self._obj, self.target = _resolve(self.target, self.name), None
        return self._obj

    @property
    def module(self) -> str:
        """Where the entry comes from (the module that registered it, its ``origin``, else the object's
        module), without importing a lazy one."""
        if self.meta.get("origin"):
            return self.meta["origin"]
        if self.target is not None:
            return self.target.partition(":")[0]
        return getattr(self._obj, "__module__", None) or ""

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {self.target or self._obj!r})"


def caller_module(depth: int = 2) -> str:
    """The module ``depth`` frames up (1: the caller of the function that calls this): what a ``register_*``
    helper whose objects are instances of nasl's own classes (``OpSig``) records as their ``origin``."""
    import sys
    try:
        return sys._getframe(depth).f_globals.get("__name__", "") or ""
    except ValueError:
        return ""


def _resolve(target: str, name: str):
    from importlib import import_module
    module, _, attr = target.partition(":")
    obj = import_module(module)
    for part in attr.split(".") if attr else ():
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise NaslError(f"the entry '{name}' points at '{target}', which has no '{part}'") from None
    return obj


class Registry:
    """Named objects of one kind (``kind`` words the errors: "op", "searcher", ...).

    ``group`` is the entry-point group whose plug-ins load before the first
    read, after the modules ``builtins``, which register nasl's own entries
    (so no module has to import them all for them to be there).
    ``check(name, obj)`` validates an object as it is registered (it raises
    ``TypeError`` with a reason). ``same(old, new)`` says whether a
    second registration is the same one (default: the same object), so a
    module imported twice is no clash.
    """

    def __init__(self, kind: str, group: str | None = None, *, check: Callable | None = None,
                 same: Callable | None = None, plural: str | None = None, builtins: tuple = ()):
        if group is not None and group not in GROUPS:
            raise ValueError(f"unknown entry-point group {group!r}; the groups are {', '.join(GROUPS)}")
        self.kind, self.group, self.plural = kind, group, plural or kind + "s"
        self._check, self._same = check, same or (lambda old, new: old is new)
        self._entries: dict[str, Entry] = {}
        self._builtins = tuple(builtins)        # modules that register nasl's own entries, imported on first read

    # writing ------------------------------------------------------------------

    def register(self, name: str, obj: Any = None, *, replace: bool = False, **meta):
        """Register ``obj`` (an object, or a ``"module:attr"`` string for a lazy entry) as ``name``.

        Without ``obj`` this is a decorator. Returns ``obj``. ``meta`` is
        kept on the entry (``doc``, ``example``, ...).
        """
        if obj is None:
            def deco(o):
                self.register(name, o, replace=replace, **meta)
                return o
            return deco
        if not isinstance(name, str) or not name:
            raise TypeError(f"a {self.kind} name is a non-empty string, not {name!r}")
        lazy = isinstance(obj, str)
        if not lazy and self._check is not None:
            self._check(name, obj)
        old = self._entries.get(name)
        if old is not None and not replace and not self._is_same(old, obj):
            article = "an" if self.kind[:1] in "aeiou" else "a"
            raise NameClash(f"{article} {self.kind} named '{name}' is already registered differently (from "
                            f"{old.module or '?'}); pass replace=True to override it")
        entry = Entry(name, None if lazy else obj, obj if lazy else None, meta)
        if old is not None and not replace:
            entry.meta = {**old.meta, **entry.meta}
        self._entries[name] = entry
        return obj

    def _is_same(self, old: Entry, obj) -> bool:
        if isinstance(obj, str):
            return old.target == obj or (old.loaded and old.module == obj.partition(":")[0])
        if not old.loaded:
            # the module a lazy entry points at registers its object itself as it is imported
            return old.module == getattr(obj, "__module__", None)
        return self._same(old.obj, obj)

    def annotate(self, name: str, **meta) -> None:
        """Add metadata to an entry already registered (no plug-in is loaded for it)."""
        if name not in self._entries:
            raise self.unknown(name)
        self._entries[name].meta.update(meta)

    def __setitem__(self, name: str, obj) -> None:
        """``registry[name] = obj``: register, replacing (what a plain dict of modes did)."""
        self.register(name, obj, replace=True)

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    # reading ------------------------------------------------------------------

    def _read(self) -> dict[str, Entry]:
        if self._builtins:
            from importlib import import_module
            modules, self._builtins = self._builtins, ()     # first: an importing module may read us
            try:
                for module in modules:
                    import_module(module)
            except BaseException:       # torch missing, say: the error again at the next read, not an empty registry
                self._builtins = modules
                raise
        # checked here, not by a call of load_plugins: this runs on every lookup (an op's, per layer elaborated)
        if self.group is not None and self.group not in plugins.loaded_groups:
            load_plugins(self.group)
        return self._entries

    def get(self, name: str):
        """The object registered as ``name`` (a lazy entry is imported now); :class:`UnknownName` else."""
        entry = self._read().get(name) if isinstance(name, str) else None
        if entry is None:
            raise self.unknown(name)
        return entry.obj

    __getitem__ = get

    def find(self, name: str, default=None):
        """The object registered as ``name``, or ``default``."""
        entry = self._read().get(name) if isinstance(name, str) else None
        return default if entry is None else entry.obj

    def entry(self, name: str) -> Entry:
        entry = self._read().get(name) if isinstance(name, str) else None
        if entry is None:
            raise self.unknown(name)
        return entry

    def unknown(self, name) -> UnknownName:
        """The error for an unknown ``name``, on one line: the closest known name, or the known names."""
        known = self.names()
        close = did_you_mean(name, known) if isinstance(name, str) else None
        if close:
            tail = f"; {close}"
        elif len(known) <= 30:
            tail = f"; known: {', '.join(known) or 'none'}"
        else:
            tail = f"; nasl list {self.plural} lists them"
        shown = f"'{name}'" if isinstance(name, str) else repr(name)
        return UnknownName(f"no {self.kind} named {shown}{tail}")

    def names(self, pattern: str = "*") -> list[str]:
        """The registered names matching the glob ``pattern``, sorted."""
        return sorted(n for n in self._read() if fnmatch.fnmatchcase(n, pattern))

    def builtin(self) -> list[Entry]:
        """The entries nasl itself registered, in registration order, without loading plug-ins (for
        ``--help`` text, which must not pay for scanning the installed distributions)."""
        return [e for e in self._entries.values() if e.module == "nasl" or e.module.startswith("nasl.")]

    def builtin_names(self) -> list[str]:
        return [e.name for e in self.builtin()]

    def entries(self) -> list[Entry]:
        return [self._read()[n] for n in self.names()]

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name in self._read()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._read()))

    def __len__(self) -> int:
        return len(self._read())

    def keys(self):
        return list(self._read())

    def items(self):
        return [(n, e.obj) for n, e in list(self._read().items())]

    # tests --------------------------------------------------------------------

    @contextmanager
    def isolated(self, empty: bool = False):
        """Registrations made inside are undone at the end (tests register throw-away entries);
        ``empty`` starts with no entries at all."""
        self._read()                # nasl's own entries and the plug-ins are in before the snapshot
        saved = dict(self._entries)
        if empty:
            self._entries.clear()
        try:
            yield self
        finally:
            self._entries.clear()
            self._entries.update(saved)

    def __repr__(self) -> str:
        return f"<Registry of {self.plural}: {len(self._entries)} entries>"


class LazyHelp(str):
    """Help text for argparse that reads the registries only when it is printed.

    argparse builds every subcommand's help when the parser is built, also
    for ``nasl check``; reading a registry there would scan the installed
    distributions for plug-ins (tens of ms) on every start. argparse only
    tests the text for emptiness (``strip``) until it formats it with
    ``help % params``, which is where this computes it, plug-ins included.
    """

    def __new__(cls, fn: Callable[[], str]):
        self = super().__new__(cls, "(from the registries)")
        self._fn = fn
        return self

    def __mod__(self, params):
        return str(self._fn()) % params


__all__ = ["Registry", "Entry", "LazyHelp", "GROUPS", "UnknownName", "NameClash", "PluginWarning", "load_plugins",
           "failed_plugins", "caller_module"]
