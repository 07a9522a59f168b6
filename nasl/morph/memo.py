"""Realized architectures kept per process: a searcher makes many children of one parent.

Every transformation reads its parent's realized graph and node table (:class:`~nasl.morph.graphs.
Realized`): module paths, execution plan, shapes and the ``{key: shape}`` its weights must have.
All of it is a function of the space, the architecture and the input shape, so it is computed once
and kept, here, for the next child of the same parent. A lineage child arrives already realized (the
evaluator compiled it from its graph, :class:`~nasl.morph.graphs.Built`); it is kept too, as the
parent of the next generation.

Bounded: at most :data:`ENTRIES` architectures and :data:`NODES` graph nodes in all, the least
recently used dropped first. An entry is keyed by ``(id(space), architecture, input shape)`` and
holds a weak reference to its space, so a space that was freed (its id then reused) never matches.
Kept graphs and tables are shared, read-only, by every user: no transformation alters a graph or a
table. Replacing an op's registration (``register_op(..., replace=True)``) can change what a space
realizes; :func:`forget` drops everything kept.
"""
from __future__ import annotations

import collections
import weakref

from nasl.compiler.node_identity import NodeTable, plain
from nasl.ir.architecture import Architecture

ENTRIES = 32            # architectures kept (a tournament re-picks its few best parents)
NODES = 200_000         # graph nodes kept in all: a DARTS network is a few thousand


class Entry:
    """One realized architecture: the validated ``arch``, its ``graph`` and node ``table``, and
    what is derived from them once (``expected``: the ``{key: shape}`` of its weights)."""

    __slots__ = ("space", "arch", "graph", "table", "size", "expected")

    def __init__(self, space, arch, graph, table):
        self.space = weakref.ref(space)
        self.arch, self.graph, self.table = arch, graph, table
        self.size = graph.number_of_nodes()
        self.expected = None


_KEPT: collections.OrderedDict = collections.OrderedDict()     # key -> Entry, least recently used first
_nodes = [0]                                                   # the graph nodes _KEPT holds


def _key(space, arch, input_shape):
    """The cache key, or None where an argument is not hashable plain data (then nothing is kept)."""
    try:
        key = (id(space), arch if isinstance(arch, Architecture) else Architecture(arch), plain(input_shape))
        hash(key)
    except Exception:           # noqa: BLE001 - an unhashable or malformed value: validate() will say what
        return None
    return key


def realized(space, arch, input_shape=None, graph=None, valid: bool = False) -> Entry:
    """The kept :class:`Entry` of ``arch`` in ``space``, realized (or taken from ``graph``, which
    must be ``space.realize(arch)``) and kept where it is not. ``valid``: ``arch`` is already the
    result of ``space.validate`` (it is not validated again)."""
    key = _key(space, arch, input_shape)
    entry = _KEPT.get(key) if key is not None else None
    if entry is not None and entry.space() is space:
        _KEPT.move_to_end(key)
        return entry
    arch = arch if valid and isinstance(arch, Architecture) else space.validate(arch)
    if graph is None:
        graph = space.realize(arch)
    entry = Entry(space, arch, graph, NodeTable(graph, input_shape))
    if key is not None:
        _keep(key, entry)
    return entry


def _keep(key, entry: Entry) -> None:
    _drop(key)
    if entry.size > NODES:
        return
    _KEPT[key] = entry
    _nodes[0] += entry.size
    while len(_KEPT) > ENTRIES or _nodes[0] > NODES:
        _nodes[0] -= _KEPT.popitem(last=False)[1].size


def _drop(key) -> None:
    old = _KEPT.pop(key, None)
    if old is not None:
        _nodes[0] -= old.size


def forget(space=None, arch=None, input_shape=None) -> None:
    """Drop what is kept of ``arch`` in ``space`` at ``input_shape``; with no arguments, everything
    (after an op's registration was replaced)."""
    if space is None:
        _KEPT.clear()
        _nodes[0] = 0
        return
    key = _key(space, arch, input_shape)
    if key is not None:
        _drop(key)


def kept() -> int:
    """How many architectures are kept now."""
    return len(_KEPT)
