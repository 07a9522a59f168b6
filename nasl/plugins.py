"""Plug-ins: the modules that installed distributions declare in nasl's entry-point groups.

A distribution declares entry points in the groups of :data:`GROUPS` (``nasl.ops``,
``nasl.searchers``, ...), each naming a module. The first time a registry of a group is read
(:class:`nasl.registry.Registry`), :func:`load_plugins` imports that group's modules, whose own
registrations then apply. A module that fails to import is a :class:`PluginWarning` naming its
distribution, and nasl goes on without it. ``NASL_NO_PLUGINS=1`` turns loading off.

Split from :mod:`nasl.registry`, which re-exports these names. Like it, this imports nothing
of nasl and no third-party package.
"""
from __future__ import annotations

import os
import warnings
from typing import NamedTuple

# the entry-point group of each kind of extension (pyproject.toml: [project.entry-points."nasl.ops"])
GROUPS = ("nasl.ops", "nasl.searchers", "nasl.evaluators", "nasl.executors", "nasl.exporters", "nasl.formats")


class PluginWarning(UserWarning):
    """A plug-in (an entry point in one of :data:`GROUPS`) failed to import; nasl goes on without it."""


loaded_groups: set = set()            # the groups whose plug-ins have been imported (it only grows)
_FAILED: list = []                    # (group, entry point, distribution, error) of plug-ins that failed


class PluginEntry(NamedTuple):
    name: str           # the entry point's name
    value: str          # what it names: a module (an ``:attr`` part is ignored)
    group: str
    dist: str           # the distribution that declares it: its folder's *.dist-info / *.egg-info


_SCANNED: dict | None = None          # group -> [PluginEntry], from one scan of sys.path


def _scan() -> dict:
    """Every entry point of the installed distributions, by group: the ``entry_points.txt`` of each
    ``*.dist-info`` / ``*.egg-info`` folder on ``sys.path``, the first of a name winning, as
    ``importlib.metadata`` resolves them. Read here directly: importing ``importlib.metadata``
    (email, zipfile, csv, ...) costs 20-70 ms, more than every nasl command but a build can spare."""
    import sys
    out: dict = {}
    seen = set()
    for folder in sys.path:
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:             # not a folder (a zip), or gone
            continue
        for meta in names:
            if not meta.endswith((".dist-info", ".egg-info")):
                continue
            key = meta.rsplit(".", 1)[0].split("-")[0].lower().replace("_", "-").replace(".", "-")
            if key in seen:
                continue
            seen.add(key)
            try:
                with open(os.path.join(folder or ".", meta, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            _parse(text, os.path.join(folder or ".", meta), out)
    return out


def dist_name(meta_dir: str) -> str:
    """The distribution of a ``*.dist-info`` / ``*.egg-info`` folder, as its author spelled it (the
    ``Name:`` of its METADATA), read only when a message needs it."""
    fallback = os.path.basename(meta_dir).rsplit(".", 1)[0].split("-")[0]
    for file in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(meta_dir, file), encoding="utf-8") as f:
                for line in f:
                    if line.startswith("Name:"):
                        return line[5:].strip() or fallback
                    if not line.strip():
                        break
        except OSError:
            continue
    return fallback


def _parse(text: str, dist: str, out: dict) -> None:
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
        elif group in GROUPS and "=" in line:
            name, _, value = line.partition("=")
            out.setdefault(group, []).append(PluginEntry(name.strip(), value.strip(), group, dist))


def _entry_points(group: str) -> list:
    global _SCANNED
    if _SCANNED is None:
        try:
            _SCANNED = _scan()
        except Exception as e:  # noqa: BLE001 - a broken installation must not break nasl
            warnings.warn(f"nasl: cannot read the installed entry points ({type(e).__name__}: {e})",
                          PluginWarning, stacklevel=3)
            _SCANNED = {}
    return list(_SCANNED.get(group, ()))


def load_plugins(group: str) -> list[str]:
    """Import the plug-in modules of entry-point ``group`` (once per process); the modules imported.

    An entry point's value names a module (``pkg.ops``; an ``:attr`` part is
    ignored): importing it runs its registrations. One that fails is a
    :class:`PluginWarning` naming the distribution, and is skipped.
    """
    if group in loaded_groups:
        return []
    loaded_groups.add(group)    # first, so a plug-in that reads a registry as it imports does not recurse
    if os.environ.get("NASL_NO_PLUGINS", "").strip() not in ("", "0"):
        return []
    from importlib import import_module
    done = []
    for ep in _entry_points(group):
        module = ep.value.partition(":")[0].strip()
        try:
            import_module(module)
            done.append(module)
        except Exception as e:  # noqa: BLE001 - the plug-in's bug, not nasl's
            dist = dist_name(ep.dist) if ep.dist else "an unknown distribution"
            _FAILED.append((group, ep.name, dist, f"{type(e).__name__}: {e}"))
            warnings.warn(f"nasl: the plug-in '{ep.name}' ({group}) of distribution '{dist}' failed to import "
                          f"and is skipped: {type(e).__name__}: {e}", PluginWarning, stacklevel=3)
    return done


def failed_plugins() -> list[tuple[str, str, str, str]]:
    """``(group, entry point, distribution, error)`` of each plug-in that failed to import."""
    return list(_FAILED)
