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

import itertools
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

__all__ = ["INPUT", "OUTPUT", "UniqueDag", "nasbench_hash", "canonical_form",
           "automorphisms", "count_unique_dags", "enumerate_unique_dags"]

from nasl.ir.canonical import (INPUT, OUTPUT, automorphism_group, label_key, canonical_search, automorphisms,  # noqa: F401
                               canonical_form, nasbench_hash)


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
        ks = frozenset(label_key(x) for x in dom)
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
    vcolour = [0] + [2 + vids[frozenset(map(label_key, d))] for d in vdom[1:-1]] + [1]
    ecolour = {e: eids[frozenset(map(label_key, edom[e]))] for e in cand}
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
            order, enc, gens = canonical_search(len(verts), vcol, edges)
            # colours listed in canonical order, not in the (arbitrary) input order
            memo[key] = canon = (tuple(vcol[v] for v in order), enc)
            if canon in seen:
                continue
            seen.add(canon)
            yield (tuple(verts), vcol, edges, automorphism_group(len(verts), gens),
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
