"""Tests for nasl.ir.dag_unique: exact isomorphism counting of cell DAGs."""

from __future__ import annotations

import itertools
import random
import time

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasl.ir.dag_unique import (INPUT, OUTPUT, automorphisms, canonical_form,
                                count_unique_dags, enumerate_unique_dags,
                                nasbench_hash)

NB101_RUNNING_TOTALS = {2: 1, 3: 7, 4: 91, 5: 2532, 6: 64542, 7: 423624}


def nb101_space(n):
    edges = [(i, j) for j in range(n) for i in range(j)]
    return edges, [None] + [(0, 1, 2)] * (n - 2) + [None]


def matrix_of(k, edges):
    es = set(edges)
    return [[int((u, w) in es) for w in range(k)] for u in range(k)]


# ---------------------------------------------------------------- counting

@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_nb101_counts_small(n):
    edges, doms = nb101_space(n)
    assert count_unique_dags(n, edges, doms, max_edges=9) == NB101_RUNNING_TOTALS[n]


def test_nb101_count_full_space_n7():
    # Measured ~0.5 s on one core; the budget guards against regressions.
    edges, doms = nb101_space(7)
    start = time.perf_counter()
    assert count_unique_dags(7, edges, doms, max_edges=9) == 423_624
    assert time.perf_counter() - start < 20


def official_style_count(max_vertices):
    """Re-derive the totals the NAS-Bench-101 way: hash every labelled full DAG."""
    seen = set()
    for k in range(2, max_vertices + 1):
        pairs = [(i, j) for j in range(k) for i in range(j)]
        for bits in range(1 << len(pairs)):
            es = [p for b, p in enumerate(pairs) if bits >> b & 1]
            if len(es) > 9:
                continue
            m = matrix_of(k, es)
            full = all(any(m[v]) for v in range(k - 1)) and \
                all(any(m[u][v] for u in range(k)) for v in range(1, k))
            if not full:
                continue
            for ops in itertools.product(range(3), repeat=k - 2):
                seen.add(nasbench_hash(m, [INPUT, *ops, OUTPUT]))
    return len(seen)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_agrees_with_nasbench_hash_counting(n):
    edges, doms = nb101_space(n)
    assert count_unique_dags(n, edges, doms, max_edges=9) == official_style_count(n)


@pytest.mark.parametrize("n", [4, 5])
def test_enumerate_matches_count_and_hashes(n):
    edges, doms = nb101_space(n)
    reps = list(enumerate_unique_dags(n, edges, doms, max_edges=9))
    assert len(reps) == NB101_RUNNING_TOTALS[n]
    hashes = {nasbench_hash(matrix_of(len(r.labels), r.edges), r.labels) for r in reps}
    assert len(hashes) == len(reps)
    forms = {canonical_form(len(r.labels), r.edges, r.labels) for r in reps}
    assert len(forms) == len(reps)


def brute_count(n, cand, doms, max_edges, prune, edge_doms):
    """Reference: all subsets, budget *before* pruning, all labellings, and
    isomorphism by trying every permutation of the interior vertices."""
    forms = set()
    for r in range(len(cand) + 1):
        if max_edges is not None and r > max_edges:
            break
        for es in itertools.combinations(cand, r):
            fwd, bwd = {0}, {n - 1}
            for u, w in es:  # es is sorted by (u, w), a topological order
                if u in fwd:
                    fwd.add(w)
            for u, w in sorted(es, key=lambda e: -e[1]):
                if w in bwd:
                    bwd.add(u)
            if n - 1 not in fwd:
                continue
            keep = sorted(fwd & bwd) if prune else list(range(n))
            kept = [e for e in es if e[0] in keep and e[1] in keep]
            inner = keep[1:-1]
            for ops in itertools.product(*(doms[v] for v in inner)):
                for eops in itertools.product(*((edge_doms or {}).get(e, (None,)) for e in kept)):
                    lab = dict(zip(inner, ops))
                    elab = dict(zip(kept, eops))
                    best = None
                    for perm in itertools.permutations(inner):
                        pos = {keep[0]: 0, keep[-1]: len(keep) - 1}
                        pos.update({v: i + 1 for i, v in enumerate(perm)})
                        enc = (tuple(repr(lab[v]) for v in perm),
                               tuple(sorted((pos[u], pos[w], repr(elab[u, w])) for u, w in kept)))
                        best = enc if best is None or enc < best else best
                    forms.add(best)
    return len(forms)


@st.composite
def small_spaces(draw):
    n = draw(st.integers(2, 5))
    pairs = [(i, j) for j in range(n) for i in range(j)]
    cand = sorted(draw(st.sets(st.sampled_from(pairs), min_size=1)))
    pool = ["a", "b", "c", 1]
    doms = [None] + [tuple(draw(st.sets(st.sampled_from(pool), min_size=1, max_size=2)))
                     for _ in range(n - 2)] + [None]
    edge_doms = None
    if draw(st.booleans()):
        edge_doms = {e: tuple(draw(st.sets(st.sampled_from(["x", "y"]), min_size=1)))
                     for e in cand if draw(st.booleans())}
    max_edges = draw(st.one_of(st.none(), st.integers(1, 6)))
    return n, cand, doms, max_edges, draw(st.booleans()), edge_doms


@settings(max_examples=150, deadline=None)
@given(small_spaces())
def test_count_matches_brute_force(space):
    n, cand, doms, max_edges, prune, edge_doms = space
    expected = brute_count(n, cand, doms, max_edges, prune, edge_doms)
    got = count_unique_dags(n, cand, doms, max_edges=max_edges, prune=prune,
                            edge_domains=edge_doms)
    assert got == expected
    reps = list(enumerate_unique_dags(n, cand, doms, max_edges=max_edges, prune=prune,
                                      edge_domains=edge_doms))
    assert len(reps) == expected


def test_domains_are_not_interchangeable_but_labels_decide():
    cand = [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)]
    # Disjoint domains: the a-chain and the b-chain differ.  Skip edge alone,
    # two chains with/without the skip edge, the diamond with/without it.
    assert count_unique_dags(4, cand, [None, ("a",), ("b",), None]) == 1 + 2 * 2 + 2
    # Overlapping domains: "b" on either branch is the same graph.
    assert count_unique_dags(4, cand, [None, ("a", "b"), ("b", "c"), None]) == 15


def test_same_domain_vertices_in_different_positions():
    # Regression: vertices 1 and 3 share a domain, so the diamond through
    # (1, 2) and the one through (2, 3) are the same graph.
    edges, _ = nb101_space(5)
    doms = [None, ("b",), ("a",), ("b",), None]
    assert count_unique_dags(5, edges, doms) == brute_count(5, edges, doms, None, True, None) == 155


def test_empty_or_invalid_spaces():
    assert count_unique_dags(3, [(0, 1)], [None, (0,), None]) == 0
    assert count_unique_dags(3, [(0, 1), (1, 2)], [None, (), None]) == 0
    assert count_unique_dags(3, [(0, 1), (1, 2), (0, 2)], [None, (), None]) == 1
    with pytest.raises(ValueError):
        count_unique_dags(3, [(1, 0)], [None, (0,), None])


# ---------------------------------------------------------- canonical form

@st.composite
def labelled_graphs(draw):
    n = draw(st.integers(1, 8))
    pairs = [(u, w) for u in range(n) for w in range(n) if u != w]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=14)) if pairs else []
    labels = draw(st.lists(st.sampled_from([0, 1, "x", None, 1.5]), min_size=n, max_size=n))
    elabels = {e: draw(st.sampled_from(["p", "q"])) for e in edges}
    perm = draw(st.permutations(range(n)))
    return n, edges, labels, elabels, perm


@settings(max_examples=200, deadline=None)
@given(labelled_graphs())
def test_canonical_form_invariant_under_relabelling(g):
    n, edges, labels, elabels, perm = g
    p_edges = [(perm[u], perm[w]) for u, w in edges]
    p_labels = [None] * n
    for v in range(n):
        p_labels[perm[v]] = labels[v]
    p_elabels = {(perm[u], perm[w]): lab for (u, w), lab in elabels.items()}
    assert canonical_form(n, edges, labels) == canonical_form(n, p_edges, p_labels)
    assert (canonical_form(n, edges, labels, elabels)
            == canonical_form(n, p_edges, p_labels, p_elabels))
    assert len(automorphisms(n, edges, labels)) == len(automorphisms(n, p_edges, p_labels))


def to_nx(n, edges, labels):
    g = nx.DiGraph()
    g.add_nodes_from((v, {"l": repr(labels[v])}) for v in range(n))
    g.add_edges_from(edges)
    return g


def test_canonical_form_matches_networkx_isomorphism():
    rng = random.Random(7)
    match = nx.algorithms.isomorphism.categorical_node_match("l", None)
    for trial in range(400):
        n = rng.randint(3, 7)
        density = (0.15, 0.5, 0.85)[trial % 3]  # sparse/dense graphs are very symmetric
        graphs = []
        for _ in range(2):
            edges = [(u, w) for u in range(n) for w in range(n)
                     if u != w and rng.random() < density / 2]
            labels = [rng.choice("ab") for _ in range(n)]
            graphs.append((n, edges, labels))
        same = canonical_form(*graphs[0]) == canonical_form(*graphs[1])
        assert same == nx.is_isomorphic(to_nx(*graphs[0]), to_nx(*graphs[1]), node_match=match)
        g = to_nx(*graphs[0])
        matcher = nx.algorithms.isomorphism.DiGraphMatcher(g, g, node_match=match)
        assert len(automorphisms(*graphs[0])) == sum(1 for _ in matcher.isomorphisms_iter())


@pytest.mark.parametrize("name, graph, order", [
    ("edgeless", nx.empty_graph(6, create_using=nx.DiGraph), 720),
    ("directed 6-cycle", nx.cycle_graph(6, create_using=nx.DiGraph), 6),
    ("cube", nx.hypercube_graph(3).to_directed(), 48),
    ("petersen", nx.petersen_graph().to_directed(), 120),
    ("K3,3", nx.complete_bipartite_graph(3, 3).to_directed(), 72),
])
def test_automorphism_group_of_symmetric_graphs(name, graph, order):
    g = nx.convert_node_labels_to_integers(graph)
    n = g.number_of_nodes()
    auts = automorphisms(n, list(g.edges()), [0] * n)
    assert len(auts) == len(set(auts)) == order
    assert all(g.has_edge(a[u], a[w]) for a in auts for u, w in g.edges())


def test_automorphisms_of_symmetric_cell():
    # input -> {1, 2, 3} -> output, all interior vertices labelled alike.
    edges = [(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4)]
    auts = automorphisms(5, edges, [INPUT, 0, 0, 0, OUTPUT])
    assert len(auts) == 6
    assert auts[0] == (0, 1, 2, 3, 4)
    assert all(a[0] == 0 and a[4] == 4 for a in auts)
    # Different labels break the symmetry down to swapping the two 0s.
    assert automorphisms(5, edges, [INPUT, 0, 1, 0, OUTPUT]) == [(0, 1, 2, 3, 4), (0, 3, 2, 1, 4)]


# ------------------------------------------------------------- NB101 hash

from nasl.formats.nb101 import README_MATRIX  # noqa: E402
# conv1x1, conv3x3, conv3x3, conv3x3, maxpool as indices into
# (conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3)
README_LABELS = [INPUT, 1, 0, 0, 0, 2, OUTPUT]


def permute(matrix, labels, perm):
    n = len(labels)
    new = [[0] * n for _ in range(n)]
    new_labels = [None] * n
    for u in range(n):
        new_labels[perm[u]] = labels[u]
        for w in range(n):
            new[perm[u]][perm[w]] = matrix[u][w]
    return new, new_labels


def test_readme_spec_hash_invariant_under_interior_permutation():
    import numpy as np

    h = nasbench_hash(README_MATRIX, README_LABELS)
    assert len(h) == 32 and int(h, 16) >= 0
    # numpy inputs (as the official API passes them) give the same digest
    assert nasbench_hash(np.array(README_MATRIX, dtype=np.int8), np.array(README_LABELS)) == h
    edges = [(u, w) for u in range(7) for w in range(7) if README_MATRIX[u][w]]
    form = canonical_form(7, edges, README_LABELS)
    for perm in itertools.permutations(range(1, 6)):
        m, labels = permute(README_MATRIX, README_LABELS, (0, *perm, 6))
        assert nasbench_hash(m, labels) == h
        p_edges = [(u, w) for u in range(7) for w in range(7) if m[u][w]]
        assert canonical_form(7, p_edges, labels) == form
    # changing one op changes the hash
    assert nasbench_hash(README_MATRIX, [INPUT, 0, 0, 0, 0, 2, OUTPUT]) != h


def test_nasbench_hash_is_directed_and_uses_own_label():
    chain = [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0] * 5]
    # reversed op order along a chain is a different network
    assert nasbench_hash(chain, [INPUT, 1, 0, 0, OUTPUT]) != nasbench_hash(chain, [INPUT, 0, 0, 1, OUTPUT])
