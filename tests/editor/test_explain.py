"""nasl explain: the chain of genotypes, definitions, dags and loops down to a choice."""
from __future__ import annotations

import pytest

import nasl
from nasl.cli import main
from nasl.editor.explain import explain
from tests.conftest import example

NESTED = """input x: [3, 8, 8]
def block(c)(h) {
    for i in range(2) {
        h = h >> choice(conv(c), identity) as op
    }
    return h
}
network {
    h = x
    repeat 2 as s {
        h = block(4)(h) as stage
    }
    return h
}
"""


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_choice_in_a_loop_in_a_definition_called_in_a_loop():
    out = explain(NESTED, "n.nas", "stage[1].op[0]")
    lines = out.splitlines()
    assert lines[0] == "stage[1].op[0]: choice(conv, identity)"
    heads = [line.strip() for line in lines[1:] if line.strip().startswith("n.nas:")]
    assert heads == [
        "n.nas:8:1: in the network",
        "n.nas:10:5: in the repeat loop over s (each pass adds [i])",
        "n.nas:11:13: called here as 'stage'",
        "n.nas:2:1: in the definition of 'block'",
        "n.nas:3:5: in the loop over i (each iteration adds [i] to the path)",
        "n.nas:4:18: the choice itself",
    ]
    # each step shows its source line and carets under the place
    i = lines.index("          n.nas:4:18: the choice itself")
    assert lines[i + 1] == "             4 |         h = h >> choice(conv(c), identity) as op"
    assert lines[i + 2] == "                                  ^^^^^^^^^^^^^^^^^^^^^^^^^"


def test_a_genotype_dag_edge(capsys):
    code, out, _ = run(capsys, "explain", example("nas_bench_201.nas"), "cell.edge[1->3]")
    assert code == 0
    assert "in the genotype 'cell'" in out and "in the definition of 'nb201_cell'" in out
    assert "on the dag's edges i -> j (edge[i->j] in the path)" in out
    assert out.index("in the genotype") < out.index("in the definition") < out.index("the choice itself")


def test_a_darts_node_input(capsys):
    code, out, _ = run(capsys, "explain", example("darts.nas"), "reduction.node[3].inputs")
    assert code == 0 and out.startswith("reduction.node[3].inputs: subset([0, 1, 2], k=2)\n")
    assert "called here as 'reduction'" in out and "on the dag's nodes j (node[j] in the path)" in out


def test_a_wrong_path_is_a_one_line_error_with_a_suggestion(capsys):
    code, out, err = run(capsys, "explain", example("darts.nas"), "reduction.node[3].edg[1]")
    assert code == 1 and out == ""
    assert err == (f"error: {example('darts.nas')} has no choice 'reduction.node[3].edg[1]'; "
                   "did you mean 'reduction.node[3].edge[1]'?\n")
    with pytest.raises(nasl.NaslError, match=r"has no choice 'zzz'; `nasl show n.nas` lists its 4 choice paths"):
        explain(NESTED, "n.nas", "zzz")


def test_parameters_apply(capsys):
    code, out, _ = run(capsys, "explain", example("nas_bench_101.nas"), "-D", "V=4", "cell.node[1].op")
    assert code == 0 and out.startswith("cell.node[1].op: choice(conv3x3_bn_relu, conv1x1_bn_relu, maxpool3x3)")
    assert "the choice itself" in out
