"""Each construct of the language, by its behaviour."""
from __future__ import annotations

import math

import pytest

import nasl
from nasl import NaslError

HEAD = "input x: [3, 8, 8]\n"


def load(body: str, **params):
    return nasl.loads(HEAD + body, **params)


def ops_of(space, arch):
    g = space.realize(arch)
    return [d["op"] for _, d in g.ops()]


def test_op_with_keyword_parameters():
    s = load("network { return x >> conv(8, k=5, stride=2) >> bn }")
    assert s.size() == 1
    g = s.realize({})
    (conv,) = [d for _, d in g.ops() if d["op"] == "conv"]
    assert conv["params"] == {"c": 8, "k": 5, "stride": 2, "dilation": 1, "groups": 1, "bias": False}


def test_choice_kinds_and_sizes():
    s = load("""
        network {
            a = choice(1, 2, 3)
            b = int_range(2, 10, step=2)
            lr = float_range(1e-4, 1e-1, log=true)
            s = subset([1, 2, 3, 4], k=2)
            o = subset([1, 2, 3], k=2, ordered=true)
            anyset = subset([1, 2, 3])
            p = permutation(["a", "b", "c"])
            f = boolean()
            return x >> conv(a * b)
        }""")
    kinds = {c.path: (c.kind, c.cardinality()) for c in s.spec}
    assert kinds["a"] == ("choice", 3)
    assert kinds["b"] == ("int", 5)
    assert kinds["lr"] == ("float", math.inf)
    assert kinds["s"] == ("subset", 6)
    assert kinds["o"] == ("subset", 6)
    assert kinds["anyset"] == ("subset", 8)
    assert kinds["p"] == ("permutation", 6)
    assert kinds["f"] == ("bool", 2)
    assert s.size() == math.inf
    arch = s.sample(1)
    assert 1e-4 <= arch["lr"] <= 1e-1
    assert len(arch["s"]) == 2 and list(arch["s"]) == sorted(arch["s"])


def test_choice_among_ops_and_subspaces():
    s = load("""
        def block(c)(h) { return h >> conv(c) >> bn }
        network { return x >> choice(relu, block(4), conv(4, k=1) >> relu, max_pool(k=3)) }""")
    labels = s.spec["choice"].domain
    assert labels == ("relu", "block", "conv(4,k=1)>>relu", "max_pool")
    assert ops_of(s, {"choice": "block"}) == ["conv", "bn"]
    assert ops_of(s, {"choice": "conv(4,k=1)>>relu"}) == ["conv", "relu"]


def test_conditional_choices_exist_only_in_their_branch():
    s = load("""
        network {
            return x >> choice(identity, conv(choice(4, 8) as width) >> bn) as op
        }""")
    assert s.size() == 1 + 2
    s.validate({"op": "identity"})
    with pytest.raises(nasl.InvalidArchitecture, match="not an active choice"):
        s.validate({"op": "identity", "op.conv(choice(4,8)aswidth)>>bn.width": 4})
    arch = {"op": "conv(choice(4,8)aswidth)>>bn", "op.conv(choice(4,8)aswidth)>>bn.width": 8}
    s.validate(arch)


def test_named_choice_is_shared():
    s = load("""
        let width = choice(16, 32)
        network { return x >> conv(width) >> conv(width) }""")
    assert s.size() == 2
    g = s.realize({"width": 32})
    assert [d["params"]["c"] for _, d in g.ops()] == [32, 32]


def test_sequence_and_named_dataflow_with_merges():
    s = load("""
        network {
            a = x >> conv(4)
            b = x >> conv(4, k=1)
            return concat_conv(8)(add(a, b), mean(a, b), concat(a, b))
        }""")
    g = s.realize({})
    merge = [n for n, d in g.nodes(data=True) if d.get("op") == "concat_conv"][0]
    assert [g.nodes[p]["op"] for p in g.inputs_of(merge)] == ["add", "mean", "concat"]


def test_fresh_definitions_make_new_choices_per_use():
    s = load("""
        def layer(c)(h) { return h >> conv(c, k=choice(3, 5) as k) }
        network { h = x; for i in range(3) { h = layer(8)(h) }; return h }""")
    assert [c.path for c in s.spec] == ["layer[0].k", "layer[1].k", "layer[2].k"]
    assert s.size() == 8


def test_genotype_ties_choices_but_not_weights():
    s = load("""
        def cell(c)(h) { return h >> conv(c, k=choice(3, 5) as k) }
        genotype g = cell
        network { h = x; for i in range(3) { h = g(8 * (i + 1))(h) }; return h }""")
    assert [c.path for c in s.spec] == ["g.k"]
    g = s.realize({"g.k": 5})
    convs = [d for _, d in g.ops()]
    assert [d["params"]["k"] for d in convs] == [5, 5, 5]
    assert [d["params"]["c"] for d in convs] == [8, 16, 24]
    assert len({n for n, _ in g.ops()}) == 3          # three separate layers


def test_genotype_choices_may_not_depend_on_per_use_parameters():
    with pytest.raises(NaslError, match="depend on parameter 'c'"):
        load("""
            def cell(c)(h) { return h >> conv(int_range(1, c)) }
            genotype g = cell
            network { return g(8)(x) }""")


def test_loops_with_per_index_parameters():
    s = load("""
        param layers = 6
        network {
            h = x
            c = 4
            for i in range(layers) {
                reduce = i in [layers // 3, 2 * layers // 3]
                c = reduce ? 2 * c : c
                h = h >> conv(c, stride=reduce ? 2 : 1)
            }
            return h
        }""")
    g = s.realize({})
    assert [(d["params"]["c"], d["params"]["stride"]) for _, d in g.ops()] == \
        [(4, 1), (4, 1), (8, 2), (8, 1), (16, 2), (16, 1)]


def test_depth_as_a_choice():
    s = load("""
        network {
            d = choice(1, 2, 3)
            h = x
            repeat d as i { h = h >> conv(4, k=choice(3, 5) as k) }
            return h
        }""")
    assert s.size() == 2 + 4 + 8
    assert {c.path for c in s.spec} == {"d", "k[0]", "k[1]", "k[2]"}
    arch = s.sample(0)
    assert len(ops_of(s, arch)) == arch["d"]


def test_dag_edges_with_zero_and_subset_inputs():
    s = load("""
        def cell(c) = dag(inputs=2, nodes=5, output="concat") {
            node j: inputs = pick(2), edge = choice(zero, identity, conv(c))
        }
        network { return cell(4)(x, x) }""")
    # node j picks 2 of its j predecessors (C(j, 2)) and an op for each pick (3^2)
    assert s.size() == (1 * 9) * (3 * 9) * (6 * 9)
    assert [c.path for c in s.spec][:3] == ["cell.node[2].inputs", "cell.node[2].edge[0]", "cell.node[2].edge[1]"]


def test_dag_pruning_and_default_nodes():
    s = load("""
        def cell(c) = dag(nodes=4, prune=true) {
            edge i -> j: optional
            node j where j < 3: op = conv(c)
        }
        network { return cell(4)(x) }""")
    arch = {"cell.edge[0->1]": True, "cell.edge[0->2]": False, "cell.edge[1->2]": False,
            "cell.edge[0->3]": False, "cell.edge[1->3]": True, "cell.edge[2->3]": False}
    assert ops_of(s, arch) == ["conv"]                   # node 2 is dead and pruned
    dead = dict(arch, **{"cell.edge[1->3]": False})
    with pytest.raises(nasl.InvalidArchitecture, match="no path from its input"):
        s.realize(dead)


def test_implicit_input_and_output_nodes():
    s = load("""
        def stage(c) = dag(nodes=3, implicit_io=true, prune=true) {
            edge i -> j: optional
            node j: op = conv(c)
        }
        network { return stage(4)(x) }""")
    assert s.size() == 8
    # no bits: every node is isolated and removed, the stage passes its input on
    none = {"stage.edge[0->1]": False, "stage.edge[0->2]": False, "stage.edge[1->2]": False}
    assert ops_of(s, none) == []
    # 0->1 only: node 2 is isolated; 0 reads the input, 1 feeds the output
    assert ops_of(s, dict(none, **{"stage.edge[0->1]": True})) == ["conv", "conv"]


def test_recursive_tree_is_lazy_and_counted_exactly():
    s = load("""
        def tree(d)(h) {
            n = choice(2, 3)
            outs = []
            for b in range(3) {
                if b < n {
                    y = h >> choice(conv(4), identity) as op
                    if d > 0 { if boolean() as deeper { y = tree(d - 1)(y) } }
                    outs = outs + [y]
                }
            }
            return sum(outs)
        }
        param depth = 1
        network { return tree(depth)(x) }""")
    leaf = 2 ** 2 + 2 ** 3                    # tree(0): 2 or 3 branches of 2 ops
    branch = 2 * (1 + leaf)                     # an op, then maybe a subtree
    inner = branch ** 2 + branch ** 3
    assert s.size() == inner
    assert len(list(s.enumerate())) == inner
    deep = load("""
        def tree(d)(h) {
            y = h >> choice(conv(4), identity) as op
            if d > 0 { if boolean() as deeper { y = tree(d - 1)(tree(d - 1)(y) as right) } }
            return y
        }
        network { return tree(8)(x) }""")
    assert deep.size() > 10 ** 30


def test_recursive_expression_grammar():
    s = load("""
        input h_prev: [8]
        def e(d) = d == 0 ? choice(x, h_prev) : choice(x, h_prev, Tanh(e(d - 1)), Add(e(d - 1), e(d - 1)))
        network { return e(2) }""")
    # depth 1: 2 + 2 + 4 = 8; depth 2: 2 + 8 + 64
    assert s.size() == 74
    arch = {"e": "Add", "e.Add.e": "x", "e.Add.e_2": "Tanh", "e.Add.e_2.Tanh.e": "h_prev"}
    assert ops_of(s, arch) == ["Tanh", "Add"]


def test_constraints_over_values_and_forbid():
    s = load("""
        network {
            a = int_range(0, 5)
            b = int_range(0, 5)
            require a + b <= 5
            forbid a == b else "a and b must differ"
            return x >> conv(a + b + 1)
        }""")
    assert s.size() == sum(1 for a in range(6) for b in range(6) if a + b <= 5 and a != b)
    for arch in s.sample(0, n=50):
        assert arch["a"] + arch["b"] <= 5 and arch["a"] != arch["b"]
    with pytest.raises(nasl.ConstraintViolation, match="a and b must differ"):
        s.validate({"a": 1, "b": 1})


def test_graph_constraints():
    s = load("""
        def cell(c) = dag(nodes=4, prune=true) {
            edge i -> j: optional
            require edges() <= 3
            require connected()
        }
        network { return cell(4)(x) }""")
    n = s.size()
    archs = list(s.enumerate())
    assert n == len(archs) > 0
    for a in archs:
        assert sum(a.values()) <= 3
        s.realize(a)


def test_unsatisfiable_constraints_are_reported():
    with pytest.raises(nasl.UnsatisfiableError):
        load("network { require 1 > 2\n return x }")
    s = load("network { a = choice(1, 2)\n require a > 5\n return x }")
    assert s.size() == 0
    with pytest.raises(nasl.UnsatisfiableError):
        s.sample(0)


def test_params_override_from_api():
    s = load("param C = 16\nnetwork { return x >> conv(C) }", C=32)
    assert s.params == {"C": 32}
    g = s.realize({})
    assert [d["params"]["c"] for _, d in g.ops()] == [32]
    with pytest.raises(NaslError, match="no parameter 'D'"):
        load("param C = 16\nnetwork { return x }", D=1)


def test_branch_on_several_choices():
    s = load("""
        network {
            a = choice("p", "q")
            n = a == "p" ? (choice(1, 2) as n1) : 3
            h = x
            for i in range(3) { if i < n { h = h >> conv(4, k=choice(1, 3) as k) } }
            return h
        }""")
    # a=p: n1=1 -> 2, n1=2 -> 4; a=q: n=3 -> 8
    assert s.size() == 2 + 4 + 8
    assert len(set(s.enumerate())) == 14


def test_tap_exports_a_named_output():
    s = load("network { y = x >> conv(4) >> tap(\"features\")\n return y >> relu }")
    g = s.realize({})
    assert g.graph["outputs"] == ["features", "output"]


def test_list_ops_and_register_op():
    assert "sep_conv" in nasl.list_ops("sep*")
    nasl.register_op("my_block_for_test", ("c", ("k", 3)), doc="a test op")
    try:
        s = load("network { return x >> my_block_for_test(8, k=5) }")
        assert [d["op"] for _, d in s.realize({}).ops()] == ["my_block_for_test"]
        nasl.register_op("my_block_for_test", ("c", ("k", 3)), doc="a test op")   # same again: fine
        with pytest.raises(ValueError, match="already registered differently"):
            nasl.register_op("my_block_for_test")
    finally:
        from nasl.ir.oplib import OPS
        OPS.unregister("my_block_for_test")


def test_constraints_on_the_realized_network():
    text = HEAD + """
        input h_prev: [8]
        def e(d) = d == 0 ? choice(x, h_prev) : choice(x, h_prev, Tanh(e(d - 1)), Add(e(d - 1), e(d - 1)))
        network {
            require uses(x) else "the cell must read x"
            require nodes() <= 2
            return e(2)
        }"""
    s = nasl.loads(text)
    free = nasl.loads(text.replace("require uses(x)", "# ").replace("require nodes() <= 2", ""))
    import networkx as nx
    expected = 0
    for arch in free.enumerate():
        g = free.realize(arch)
        ops = sum(1 for _, d in g.nodes(data=True) if d["kind"] == "op")
        if nx.has_path(g, "x", "output") and ops <= 2:
            expected += 1
    assert s.size() == expected == len(list(s.enumerate()))
    for arch in s.sample(0, n=20):
        assert nx.has_path(s.realize(arch), "x", "output")
    with pytest.raises(nasl.ConstraintViolation, match="must read x"):
        s.validate({"e": "h_prev"})


def test_unsatisfiable_sampling_points_at_a_constraint():
    s = load("network { a = choice(1, 2)\n require a > 5 else \"a is too small\"\n return x }")
    with pytest.raises(nasl.UnsatisfiableError, match="no architecture satisfies 'a is too small': it holds for "
                                                      "none of the 2 combinations of a") as e:
        s.sample(0)
    assert e.value.span.line == 3 and "^" in e.value.render()
