"""Language bugs found by writing spaces from papers as a new user would (issue 14)."""
from __future__ import annotations

import json

import pytest

import nasl
from nasl.ir.errors import NaslError

HEAD = "param CH = [8, 16, 32]\ninput x: [3, 8, 8]\nnetwork {\n"


def _load(body: str, **params):
    return nasl.loads(HEAD + body + "}\n", "t.nas", **params)


# bug 6: a negative index from a choice wrapped around silently -------------------------------------------------

@pytest.mark.parametrize("index", ["choice(-1, 0, 1)", "int_range(-1, 1)", "-1"])
def test_a_negative_index_is_an_error_at_load(index):
    with pytest.raises(NaslError, match=r"index -1 is negative: nasl does not count from the end") as e:
        _load(f"  return x >> conv(CH[{index}])\n")
    assert (e.value.span.line, e.value.span.col) == (4, 20)


def test_a_negative_index_computed_from_a_choice_is_an_error_where_it_is_drawn():
    space = _load("  i = choice(0, 1, 2) as i\n  return x >> conv(CH[i - 2])\n")
    space.realize({"i": 2})
    with pytest.raises(NaslError, match=r"index -2 is negative") as e:
        space.realize({"i": 0})
    assert e.value.span.line == 5


def test_non_negative_choice_indices_still_work():
    space = _load("  return x >> conv(CH[choice(0, 1, 2)])\n")
    assert space.size() == 3


# bug 4: the tie rule refused a branch on a use-given parameter though no choice depends on it ------------------

CELL = """input x: [3, 16, 16]
def cell(c, s)(h) {{
    op = choice(conv(c, k=3), conv(c, k=5)) as op
    return h >> op >> ({branch})
}}
genotype shared = cell
network {{
    h = x >> shared(8, 1)
    return h >> shared(16, 2)
}}
"""


def test_a_shared_cell_may_branch_on_a_use_given_stride():
    space = nasl.loads(CELL.format(branch="s == 1 ? identity : conv(c, stride=s)"), "pnas.nas")
    assert space.size() == 2 and [c.path for c in space.spec] == ["shared.op"]
    graph = space.realize({"shared.op": "conv(c,k=5)"})
    convs = [(d["params"]["c"], d["params"]["k"], d["params"]["stride"]) for _, d in graph.nodes(data=True)
             if d.get("op") == "conv"]
    assert sorted(convs) == [(8, 5, 1), (16, 3, 2), (16, 5, 1)]     # only the reduction use strides


def test_a_branch_on_a_use_given_parameter_may_hold_choices():
    space = nasl.loads(CELL.format(branch="s == 1 ? identity : conv(c, k=choice(1, 3) as rk, stride=s)"), "p.nas")
    assert space.size() == 4


def test_a_choice_whose_domain_depends_on_a_use_given_parameter_is_still_refused():
    with pytest.raises(NaslError, match="the genotype's choices depend on parameter 's'"):
        nasl.loads(CELL.format(branch="conv(c, k=int_range(1, s))"), "p.nas")


def test_alternatives_over_a_use_given_parameter_stay_expressions():
    # no one number: each use computes "2*c" with its own c
    space = nasl.loads(CELL.format(branch="conv(s == 1 ? (choice(c, 2 * c) as w) : c)"), "p.nas")
    assert space.spec["shared.w"].domain == ("c", "2*c")
    graph = space.realize({"shared.op": "conv(c,k=3)", "shared.w": "2*c"})
    assert sorted(d["params"]["c"] for _, d in graph.nodes(data=True) if d.get("op") == "conv") == [8, 16, 16, 16]


# bug 3: alternatives written as expressions were their source text ---------------------------------------------

DEPTH = """param nl = 2
input x: [3, 8, 8]
network {
    h = x
    repeat (choice(nl - 1, nl, nl + 1) as depth) { h = h >> conv(8) }
    return h >> conv(choice(nl * 4, 16, max(nl, 3) * 8) as w)
}
"""


def test_value_alternatives_are_their_values_in_the_architecture():
    space = nasl.loads(DEPTH, "d.nas")
    assert space.spec["depth"].domain == (1, 2, 3)
    assert space.spec["w"].domain == (8, 16, 24)
    arch = space.validate(json.loads('{"depth": 3, "w": 24}'))
    graph = space.realize(arch)
    assert sum(1 for _, d in graph.nodes(data=True) if d.get("op") == "conv") == 4
    assert json.loads(json.dumps(dict(space.sample(1)))) in [{"depth": d, "w": w} for d in (1, 2, 3)
                                                               for w in (8, 16, 24)]
    assert nasl.loads(DEPTH, "d.nas", nl=3).spec["depth"].domain == (2, 3, 4)


def test_a_name_still_labels_a_value_alternative():
    space = nasl.loads(DEPTH.replace("nl * 4, 16", "nl * 4 as narrow, 16"), "d.nas")
    assert space.spec["w"].domain == ("narrow", 16, 24)
    graph = space.realize({"depth": 1, "w": "narrow"})
    assert [d["params"]["c"] for _, d in graph.nodes(data=True) if d.get("op") == "conv"] == [8, 8]


def test_alternatives_with_equal_values_are_refused():
    with pytest.raises(NaslError, match="alternatives 1 and 2 of this choice are both '4'"):
        nasl.loads("param nl = 2\ninput x: [3, 8, 8]\nnetwork { return x >> conv(choice(2 * nl, nl + 2)) }\n")


def test_op_alternatives_keep_their_labels_without_comments():
    src = ("input x: [3, 8, 8]\nnetwork {\n    return x >> choice(relu_conv_bn(8, k=3), relu_conv_bn(8,  # big\n"
           "                 k=5), identity, sep_conv(8)) >> conv(8)\n}\n")
    assert nasl.loads(src).spec["choice"].domain == ("relu_conv_bn(8,k=3)", "relu_conv_bn(8,k=5)", "identity",
                                                     "sep_conv")


# builtins int, round, make_divisible; a float channel count is refused at its op ------------------------------

from nasl.dsl.builtins import make_divisible  # noqa: E402


@pytest.mark.parametrize("v, divisor, expected", [(12.75, 8, 16), (10, 8, 16), (3, 8, 8), (17, 8, 16),
                                                  (20, 8, 24), (36, 8, 40), (91, 8, 88), (24 * 0.75, 4, 20),
                                                  (120 / 4, 8, 32), (4, 8, 8)])
def test_make_divisible_follows_mobilenets_rule(v, divisor, expected):
    assert make_divisible(v, divisor) == expected
    assert make_divisible(v, divisor) >= 0.9 * v and make_divisible(v, divisor) % divisor == 0


def test_width_builtins_in_a_space():
    src = ("param C = 17\ninput x: [3, 8, 8]\nnetwork {\n    return x >> conv(make_divisible(C * 0.75)) >> "
           "conv(int(C * 0.75)) >> conv(round(C * 0.75)) >> conv(make_divisible((choice(16, 24) as w) * 0.75, "
           "divisor=4))\n}\n")
    graph = nasl.loads(src).realize({"w": 24})
    assert [d["params"]["c"] for _, d in graph.nodes(data=True) if d.get("op") == "conv"] == [16, 12, 13, 20]


@pytest.mark.parametrize("width, shown", [("C * 0.75", "12.75"), ("C * w", "12.0")])
def test_a_float_channel_count_is_an_error_at_its_op(width, shown):
    src = ("param C = 17\ninput x: [3, 8, 8]\nnetwork {\n    w = choice(0.75) as m\n"
           f"    return x >> conv({width.replace('C * w', '16 * w')}) >> relu\n}}\n")
    with pytest.raises(NaslError, match=rf"'conv': the channel count must be an integer, got {shown}; "
                                         r"use int\(\), round\(\) or make_divisible\(\)") as e:
        space = nasl.loads(src, "f.nas")
        space.realize(space.sample(0))
    assert (e.value.span.line, e.value.span.col) == (5, 17)


def test_a_labelled_value_is_its_value_in_repeat_counts_and_constraints():
    src = DEPTH.replace("repeat (choice(nl - 1, nl, nl + 1) as depth)",
                        "d = choice(nl - 1, nl, nl + 1 as deep) as depth\n    require d > 1\n    repeat d")
    space = nasl.loads(src, "d.nas")
    assert space.spec["depth"].domain == (1, 2, "deep") and space.size() == 2 * 3       # depth 1 is excluded
    graph = space.realize({"depth": "deep", "w": 8})
    assert sum(1 for _, d in graph.nodes(data=True) if d.get("op") == "conv") == 4


# `repeat choice(...) as depth as i`: a labelled depth choice with a loop index --------------------------------

def _repeat(head: str) -> str:
    return (f"input x: [3, 8, 8]\nnetwork {{\n    h = x\n    {head} {{\n        h = h >> conv(4 * (i + 1))\n    }}\n"
            "    return h\n}\n")


def test_repeat_with_a_labelled_count_and_a_loop_index():
    space = nasl.loads(_repeat("repeat choice(1, 2, 3) as depth as i"), "r.nas")
    assert [c.path for c in space.spec] == ["depth"] and space.spec["depth"].domain == (1, 2, 3)
    widths = [d["params"]["c"] for _, d in space.realize({"depth": 3}).ops() if d["op"] == "conv"]
    assert widths == [4, 8, 12]                                # i runs 0, 1, 2
    # the same space as the parenthesised form, architecture for architecture
    paren = nasl.loads(_repeat("repeat (choice(1, 2, 3) as depth) as i"), "r.nas")
    assert [dict(a) for a in space.enumerate()] == [dict(a) for a in paren.enumerate()] == \
        [{"depth": 1}, {"depth": 2}, {"depth": 3}]


def test_repeat_with_one_name_still_names_the_loop_variable():
    space = nasl.loads(_repeat("repeat choice(1, 2) as i"), "r.nas")
    assert [c.path for c in space.spec] == ["choice"] and space.size() == 2


def test_repeat_takes_at_most_two_names():
    with pytest.raises(NaslError, match="unexpected 'as'") as e:
        nasl.loads(_repeat("repeat choice(1, 2) as d as i as j"), "r.nas")
    assert (e.value.span.line, e.value.span.col) == (4, 35)          # the third `as`


def test_repeat_with_two_names_formats_and_round_trips():
    from nasl.editor.fmt import format_source
    text = _repeat("repeat choice(1, 2, 3) as depth as i")
    assert format_source(text) == text
