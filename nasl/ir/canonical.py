"""Exact canonical forms and automorphisms of small labelled digraphs.

Colour refinement (Weisfeiler-Lehman) orders the vertices; vertices it
leaves tied are individualised one at a time, and branches already covered
by a known automorphism are skipped (the approach of nauty). The result is
an exact invariant, unlike the iterated hash of NAS-Bench-101
(:func:`nasbench_hash`), which is kept for interoperability and tests.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from numbers import Integral

__all__ = ["INPUT", "OUTPUT", "nasbench_hash", "canonical_form", "automorphisms"]

INPUT = -1   #: label of the input vertex (NAS-Bench-101 convention)
OUTPUT = -2  #: label of the output vertex


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def nasbench_hash(matrix: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """Official NAS-Bench-101 graph fingerprint (``graph_util.hash_module``).

    Parameters
    ----------
    matrix : sequence of sequences of 0/1
        Square upper-triangular adjacency matrix (lists, tuples or an array).
    labels : sequence of int
        One label per vertex: ``-1`` input, ``-2`` output, op index otherwise.

    Returns
    -------
    str
        32-character hex MD5 digest, equal to the official one.
    """
    rows = [[int(x) for x in row] for row in matrix]
    n = len(rows)
    # numpy integers would print as "np.int64(1)" inside a tuple and change the
    # digest; the official code feeds plain Python ints (via ``tolist()``).
    labs = [int(x) if isinstance(x, Integral) else x for x in labels]
    if len(labs) != n or any(len(r) != n for r in rows):
        raise ValueError("matrix must be square and match len(labels)")
    ins = [[u for u in range(n) if rows[u][v]] for v in range(n)]
    outs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    hashes = [_md5(str((sum(rows[v]), sum(r[v] for r in rows), labs[v]))) for v in range(n)]
    for _ in range(n):  # the official code iterates once per vertex
        hashes = [_md5("".join(sorted(hashes[u] for u in ins[v])) + "|"
                       + "".join(sorted(hashes[w] for w in outs[v])) + "|" + hashes[v])
                  for v in range(n)]
    return _md5(str(sorted(hashes)))


# --------------------------------------------------------------------------
# Canonical form: colour refinement + individualisation over tied classes.
# --------------------------------------------------------------------------

def label_key(label: Hashable) -> tuple[str, str]:
    # A total order on arbitrary labels (ints, strings, None mixed) that
    # depends only on the label value, so the canonical form stays invariant.
    return (type(label).__name__, repr(label))


def _refine(col, ins, outs):
    """Refine colours until stable; returns dense colour ranks 0..k-1."""
    k = len(set(col))
    while True:
        sig = [(col[v], tuple(sorted((col[u], c) for u, c in ins[v])),
                tuple(sorted((col[w], c) for w, c in outs[v]))) for v in range(len(col))]
        # Ranking the sorted signatures keeps the old colour as the primary key,
        # so the order of classes is isomorphism-invariant and only ever splits.
        rank = {s: i for i, s in enumerate(sorted(set(sig)))}
        col = [rank[s] for s in sig]
        if len(rank) == k:
            return col
        k = len(rank)


def canonical_search(n, vcol, edges):
    """Exact canonical order, encoding and automorphism generators.

    ``vcol`` are int vertex colours, ``edges`` are ``(u, w, int colour)``.
    Each leaf of the individualisation-refinement tree is a vertex order; the
    smallest edge encoding over the leaves is canonical.  Two leaves with the
    same encoding differ by an automorphism; those found are used to skip
    children that an automorphism fixing the current path maps onto an
    explored child (their subtrees hold the same encodings).  As in nauty,
    the automorphisms found this way generate the whole group.
    """
    ins = [[] for _ in range(n)]
    outs = [[] for _ in range(n)]
    for u, w, c in edges:
        outs[u].append((w, c))
        ins[w].append((u, c))
    first = {}  # encoding -> first leaf (vertex -> position) that produced it
    gens = []

    def visit(col, path):
        counts = Counter(col)
        if len(counts) == n:
            enc = tuple(sorted((col[u], col[w], c) for u, w, c in edges))
            if enc in first:
                order = [0] * n
                for v, p in enumerate(col):
                    order[p] = v
                gens.append(tuple(order[q] for q in first[enc]))
            else:
                first[enc] = col
            return
        # Individualise each vertex of the first tied class in turn: odd/even
        # doubling splits it off while keeping the order of all other classes.
        target = min(c for c, m in counts.items() if m > 1)
        done = set()
        for v in range(n):
            if col[v] != target:
                continue
            fixing = [g for g in gens if all(g[x] == x for x in path)]
            if done and not done.isdisjoint(_orbit(v, fixing)):
                continue
            done.add(v)
            ind = [2 * c + 1 for c in col]
            ind[v] = 2 * target
            visit(_refine(ind, ins, outs), path + [v])

    visit(_refine(list(vcol), ins, outs), [])
    best = min(first)
    order = [0] * n
    for v, p in enumerate(first[best]):
        order[p] = v
    return order, best, gens


def _orbit(v, gens):
    seen, todo = {v}, [v]
    while todo:
        x = todo.pop()
        for g in gens:
            if g[x] not in seen:
                seen.add(g[x])
                todo.append(g[x])
    return seen


def automorphism_group(n, gens):
    """All elements of the permutation group generated by ``gens``, sorted."""
    group = {tuple(range(n))}
    frontier = list(group)
    while frontier:
        new = []
        for h in frontier:
            for g in gens:
                x = tuple(g[h[v]] for v in range(n))
                if x not in group:
                    group.add(x)
                    new.append(x)
        frontier = new
    return sorted(group)


def _prepare(n, edges, labels, edge_labels):
    labels = list(labels)
    if len(labels) != n:
        raise ValueError("len(labels) must equal n")
    edges = [(int(u), int(w)) for u, w in edges]
    vkeys = [label_key(x) for x in labels]
    vrank = {k: i for i, k in enumerate(sorted(set(vkeys)))}
    ekeys = [label_key(edge_labels.get(e) if edge_labels is not None else None) for e in edges]
    erank = {k: i for i, k in enumerate(sorted(set(ekeys)))}
    cedges = [(u, w, erank[k]) for (u, w), k in zip(edges, ekeys)]
    return vkeys, [vrank[k] for k in vkeys], cedges, tuple(sorted(erank))


def canonical_form(n: int, edges: Iterable[tuple[int, int]], labels: Sequence[Hashable],
                   edge_labels: Mapping[tuple[int, int], Hashable] | None = None) -> tuple:
    """Exact isomorphism-invariant form of a vertex (and edge) labelled digraph.

    Parameters
    ----------
    n : int
        Number of vertices ``0..n-1``.
    edges : iterable of (int, int)
        Directed edges.
    labels : sequence of hashable
        Vertex labels; compared by ``(type name, repr)`` so mixed types work.
    edge_labels : mapping (u, w) -> hashable, optional
        Edge labels; edges missing from it (or all, when omitted) get None.

    Returns
    -------
    tuple
        Equal for two graphs iff a label-preserving isomorphism exists.

    Notes
    -----
    Colour refinement orders the vertices; only vertices left tied are
    permuted, by individualising one tied vertex at a time and refining again
    (so far fewer than the product of the tied classes' factorials orders are
    tried).  Exponential only for highly symmetric graphs; instant for cells.
    """
    vkeys, vcol, cedges, ekeys = _prepare(n, edges, labels, edge_labels)
    order, enc, _ = canonical_search(n, vcol, cedges)
    return (n, tuple(vkeys[v] for v in order), ekeys, enc)


def automorphisms(n: int, edges: Iterable[tuple[int, int]], labels: Sequence[Hashable],
                  edge_labels: Mapping[tuple[int, int], Hashable] | None = None
                  ) -> list[tuple[int, ...]]:
    """All label- and edge-preserving vertex permutations ``p`` (``v -> p[v]``).

    Parameters are as for :func:`canonical_form`.  The identity comes first.
    """
    _, vcol, cedges, _ = _prepare(n, edges, labels, edge_labels)
    return automorphism_group(n, canonical_search(n, vcol, cedges)[2])


# --------------------------------------------------------------------------
# Counting over a cell search space.
# --------------------------------------------------------------------------
