"""Exact counting of vertex/edge-labelled cell DAGs up to isomorphism.

A *cell* is a DAG on vertices ``0..n-1`` whose edges all go from a lower to a
higher index; vertex 0 is the input and ``n-1`` the output, and every interior
vertex carries one operation label.  This is the NAS-Bench-101 search space
(Ying et al., 2019) when all 21 edges are candidates, at most 9 edges are used
and each of the five interior vertices picks one of three operations.

The official NAS-Bench-101 enumeration labels every graph and buckets an
iterated-MD5 fingerprint (:func:`nasbench_hash`).  Here the work is split:

1. enumerate only *pruned* edge sets (every edge on an input->output path) by a
   branch-and-bound over vertices, so the millions of dangling sub-graphs are
   never generated;
2. dedupe those unlabelled structures with an exact canonical form
   (:func:`canonical_form`);
3. count the labellings of each structure up to its automorphism group with
   Burnside's lemma instead of hashing every labelling.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from numbers import Integral
from typing import NamedTuple

__all__ = ["INPUT", "OUTPUT", "UniqueDag", "nasbench_hash", "canonical_form",
           "automorphisms", "count_unique_dags", "enumerate_unique_dags"]

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

def _key(label: Hashable) -> tuple[str, str]:
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


def _search(n, vcol, edges):
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


def _group(n, gens):
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
    vkeys = [_key(x) for x in labels]
    vrank = {k: i for i, k in enumerate(sorted(set(vkeys)))}
    ekeys = [_key(edge_labels.get(e) if edge_labels is not None else None) for e in edges]
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
    order, enc, _ = _search(n, vcol, cedges)
    return (n, tuple(vkeys[v] for v in order), ekeys, enc)


def automorphisms(n: int, edges: Iterable[tuple[int, int]], labels: Sequence[Hashable],
                  edge_labels: Mapping[tuple[int, int], Hashable] | None = None
                  ) -> list[tuple[int, ...]]:
    """All label- and edge-preserving vertex permutations ``p`` (``v -> p[v]``).

    Parameters are as for :func:`canonical_form`.  The identity comes first.
    """
    _, vcol, cedges, _ = _prepare(n, edges, labels, edge_labels)
    return _group(n, _search(n, vcol, cedges)[2])


# --------------------------------------------------------------------------
# Counting over a cell search space.
# --------------------------------------------------------------------------

class UniqueDag(NamedTuple):
    """One isomorphism-class representative from :func:`enumerate_unique_dags`."""

    vertices: tuple[int, ...]             #: original indices of the kept vertices
    edges: tuple[tuple[int, int], ...]    #: edges over ``0..len(vertices)-1``
    labels: tuple                         #: ``INPUT``, op labels..., ``OUTPUT``
    edge_labels: tuple | None             #: aligned with ``edges``; None if unlabelled


def _classes(domains):
    """Domain -> class id, and whether distinct domains are pairwise disjoint."""
    ids, seen = {}, set()
    disjoint = True
    for dom in domains:
        ks = frozenset(_key(x) for x in dom)
        if ks not in ids:
            ids[ks] = len(ids)
            disjoint &= not (ks & seen)
            seen |= ks
    return ids, disjoint


def _structures(n, candidate_edges, node_domains, max_edges, prune, edge_domains):
    """Return ``(exact, structures)``.

    ``structures`` yields ``(verts, vcol, edges, auts, vdom, edom)`` once per
    isomorphism class of structures: unlabelled graphs whose vertices are
    coloured by their domain (input and output get their own colours) and
    edges by theirs.  ``exact`` says whether these colours decide label
    isomorphism, i.e. distinct domains are pairwise disjoint.
    """
    if n < 2 or len(node_domains) != n:
        raise ValueError("need n >= 2 and len(node_domains) == n")
    vdom = [()] + [tuple(dict.fromkeys(node_domains[v] or ())) for v in range(1, n - 1)] + [()]
    edom = {}
    for i, j in candidate_edges:
        i, j = int(i), int(j)
        if not 0 <= i < j < n:
            raise ValueError(f"candidate edge {(i, j)} must satisfy 0 <= i < j < n")
        dom = (None,) if edge_domains is None else edge_domains.get((i, j), (None,))
        edom[i, j] = tuple(dict.fromkeys(dom))
    # An interior vertex with no op, or an edge with no op, can never appear.
    usable = [v in (0, n - 1) or bool(vdom[v]) for v in range(n)]
    cand = sorted(e for e, d in edom.items() if d and usable[e[0]] and usable[e[1]])
    if not prune and not all(usable):
        return False, iter(())
    vids, vexact = _classes(vdom[1:-1])
    eids, eexact = _classes(edom[e] for e in cand)
    vcolour = [0] + [2 + vids[frozenset(map(_key, d))] for d in vdom[1:-1]] + [1]
    ecolour = {e: eids[frozenset(map(_key, edom[e]))] for e in cand}
    if prune:
        # Keep only edges that can lie on some input->output path at all.
        fwd, bwd = 1, 1 << (n - 1)
        for i, j in cand:
            if fwd >> i & 1:
                fwd |= 1 << j
        for i, j in reversed(cand):
            if bwd >> j & 1:
                bwd |= 1 << i
        cand = [(i, j) for i, j in cand if fwd >> i & 1 and bwd >> j & 1]
    pred = [0] * n
    for i, j in cand:
        pred[j] |= 1 << i
    budget0 = len(cand) if max_edges is None else max_edges
    chosen = [0] * n  # chosen[v]: mask of in-neighbours of v in the current graph

    def pruned(v, inc, needy, budget):
        # Branch over the in-edge set of v.  ``needy`` holds kept vertices still
        # lacking an out-edge; in a DAG, "every kept vertex has an in-edge (but
        # the input) and an out-edge (but the output)" is exactly "every vertex
        # lies on an input->output path", so leaves are the pruned graphs.
        if v == n:
            yield inc
            return
        avail = pred[v] & inc
        must = needy & lastmask[v]  # v is their last chance to get an out-edge
        free = avail & ~must
        if v != n - 1 and not must:
            chosen[v] = 0
            yield from pruned(v + 1, inc, needy, budget)
        s = free
        while True:
            sel = s | must
            c = sel.bit_count()
            if sel and c <= budget:
                left = needy & ~sel
                if v != n - 1:
                    left |= 1 << v
                # each needy vertex needs its own out-edge: bound by the budget
                if left.bit_count() <= budget - c:
                    chosen[v] = sel
                    yield from pruned(v + 1, inc | 1 << v, left, budget - c)
            if not s:
                break
            s = (s - 1) & free

    def unpruned(v, reach, budget):
        if v == n:
            if reach >> (n - 1) & 1:
                yield (1 << n) - 1
            return
        s = pred[v]
        while True:
            c = s.bit_count()
            if c <= budget:
                chosen[v] = s
                yield from unpruned(v + 1, reach | (1 << v if s & reach else 0), budget - c)
            if not s:
                break
            s = (s - 1) & pred[v]

    lastmask = [0] * n
    last = {}
    for i, j in cand:
        last[i] = j
    for i, j in last.items():
        lastmask[j] |= 1 << i
    leaves = pruned(1, 1, 1, budget0) if prune else unpruned(1, 1, budget0)

    def gen():
        memo, seen = {}, set()
        for inc in leaves:
            verts = [v for v in range(n) if inc >> v & 1]
            rank = {v: r for r, v in enumerate(verts)}
            edges = [(rank[u], rank[v], ecolour[u, v]) for v in verts
                     for u in verts if chosen[v] >> u & 1]
            # Relabelling the kept vertices 0..k-1 makes the many embeddings of
            # one small graph into the n-vertex space share a memo entry.
            key = (tuple(vcolour[v] for v in verts), tuple(edges))
            if key in memo:
                continue
            vcol = list(key[0])
            order, enc, gens = _search(len(verts), vcol, edges)
            # colours listed in canonical order, not in the (arbitrary) input order
            memo[key] = canon = (tuple(vcol[v] for v in order), enc)
            if canon in seen:
                continue
            seen.add(canon)
            yield (tuple(verts), vcol, edges, _group(len(verts), gens),
                   [vdom[v] for v in verts],
                   [edom[verts[u], verts[w]] for u, w, _ in edges])

    return vexact and eexact, gen()


def _cycles(perm):
    seen = [False] * len(perm)
    for start in range(len(perm)):
        if not seen[start]:
            cyc, v = [], start
            while not seen[v]:
                seen[v] = True
                cyc.append(v)
                v = perm[v]
            yield cyc


def _burnside(vdom, edges, edom, auts):
    """Number of domain labellings up to ``auts`` (Burnside's lemma)."""
    eindex = {(u, w): i for i, (u, w, _) in enumerate(edges)}
    total = 0
    for g in auts:
        fixed = 1
        # A labelling is fixed by g iff it is constant on each cycle of g.
        for cyc in _cycles(g):
            fixed *= max(1, len(vdom[cyc[0]]))
        eperm = [eindex[g[u], g[w]] for u, w, _ in edges]
        for cyc in _cycles(eperm):
            fixed *= len(edom[cyc[0]])
        total += fixed
    count, rem = divmod(total, len(auts))
    assert rem == 0, "Burnside sum must be divisible by the group order"
    return count


def count_unique_dags(n: int, candidate_edges: Iterable[tuple[int, int]],
                      node_domains: Sequence[Sequence[Hashable] | None], *,
                      max_edges: int | None = None, prune: bool = True,
                      edge_domains: Mapping[tuple[int, int], Sequence[Hashable]] | None = None
                      ) -> int:
    """Number of distinct labelled cells up to label-preserving isomorphism.

    Parameters
    ----------
    n : int
        Vertices ``0..n-1``; 0 is the input, ``n-1`` the output.
    candidate_edges : iterable of (int, int)
        Edges ``(i, j)``, ``i < j``, each independently present or absent.
    node_domains : sequence of length n
        ``node_domains[v]`` is the tuple of op labels allowed at interior
        vertex ``v``; entries for the input and output are ignored.
    max_edges : int, optional
        Edge budget.  Counted on the *pruned* graph (on the graph as is when
        ``prune=False``); the set of distinct graphs is the same as when it
        is counted before pruning, because every pruned graph is itself an
        unpruned choice with no more edges.
    prune : bool, default True
        Remove vertices not on an input->output path (NAS-Bench-101).  With
        ``prune=False`` the graph is kept as is, all n vertices labelled.
        Either way a graph without an input->output path is invalid.
    edge_domains : mapping (i, j) -> tuple, optional
        Edge-op labels of a present edge (missing entries: unlabelled).

    Returns
    -------
    int

    Notes
    -----
    When any two distinct domains are disjoint (the usual case) each class of
    structures is counted by Burnside's lemma.  Otherwise a label can sit on
    vertices with different domains, so labellings are enumerated and
    canonicalised instead (exact, but much slower).

    Examples
    --------
    >>> edges = [(i, j) for j in range(7) for i in range(j)]
    >>> count_unique_dags(7, edges, [None] + [(0, 1, 2)] * 5 + [None], max_edges=9)
    423624
    """
    exact, structures = _structures(n, list(candidate_edges), node_domains,
                                    max_edges, prune, edge_domains)
    if exact:
        return sum(_burnside(vdom, edges, edom, auts)
                   for _, _, edges, auts, vdom, edom in structures)
    return sum(1 for _ in _labelled(exact, structures, edge_domains is not None))


def _labelled(exact, structures, edge_labelled):
    seen = set()
    for verts, vcol, edges, auts, vdom, edom in structures:
        k = len(verts)
        inner = list(range(1, k - 1))
        pairs = [(u, w) for u, w, _ in edges]
        eindex = {e: i for i, e in enumerate(pairs)}
        for ops in itertools.product(*(range(len(vdom[v])) for v in inner)):
            vl = [INPUT] + [vdom[v][i] for v, i in zip(inner, ops)] + [OUTPUT]
            for el in itertools.product(*(range(len(d)) for d in edom)):
                if exact:
                    # Keep the labelling only if no automorphism maps it to a
                    # lexicographically smaller one: one per orbit.
                    word = (ops, el)
                    if any(((tuple(ops[g.index(v) - 1] for v in inner),
                             tuple(el[eindex[g.index(u), g.index(w)]] for u, w in pairs))
                            < word) for g in auts[1:]):
                        continue
                else:
                    form = canonical_form(k, pairs, vl, dict(zip(pairs, (edom[i][x] for i, x in enumerate(el)))))
                    if form in seen:
                        continue
                    seen.add(form)
                yield UniqueDag(verts, tuple(pairs), tuple(vl),
                                tuple(edom[i][x] for i, x in enumerate(el)) if edge_labelled else None)


def enumerate_unique_dags(n: int, candidate_edges: Iterable[tuple[int, int]],
                          node_domains: Sequence[Sequence[Hashable] | None], *,
                          max_edges: int | None = None, prune: bool = True,
                          edge_domains: Mapping[tuple[int, int], Sequence[Hashable]] | None = None
                          ) -> Iterator[UniqueDag]:
    """Yield one :class:`UniqueDag` per class counted by :func:`count_unique_dags`.

    Parameters are those of :func:`count_unique_dags`.  Kept vertices are
    renumbered ``0..k-1`` in their original order (``vertices`` maps back),
    so ``labels`` and ``edges`` can be fed to :func:`nasbench_hash` directly.
    Costs one pass over all labellings, unlike the counting function.
    """
    exact, structures = _structures(n, list(candidate_edges), node_domains,
                                    max_edges, prune, edge_domains)
    yield from _labelled(exact, structures, edge_domains is not None)
