"""Graphviz pictures of architectures and spaces (issue 3, item 6)."""
from __future__ import annotations

import shutil

import pytest

import nasl
from nasl.compiler.export_dot import arch_dot, render, space_dot, svg
from tests.compiler.test_darts import DARTS_V2, genotype_arch
from tests.conftest import example, nb201_arch

ARCH = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


@pytest.fixture(scope="module")
def small_nb201():
    return nasl.load(example("nas_bench_201.nas"), N=1)


def test_arch_dot_has_one_box_per_op(small_nb201):
    dot = arch_dot(small_nb201, nb201_arch(ARCH))
    text = dot.to_string()
    graph = small_nb201.realize(nb201_arch(ARCH))
    boxes = [n for n in dot.get_nodes() if n.get_shape() == "box"]
    for sub in dot.get_subgraphs():
        boxes += [n for n in sub.get_nodes() if n.get_shape() == "box"]
    assert len(boxes) == len(graph.ops())
    assert 'label="relu_conv_bn\\nc=16 k=3\\n[16, 32, 32]"' in text
    assert 'label="avg_pool\\nk=2 stride=2\\n[16, 16, 16]"' in text       # the resblock shortcut
    assert 'label="x\\n[3, 32, 32]"' in text and 'label="output\\n[10]"' in text
    assert 'label="cell[0][0]"' in text                                     # clustered by scope
    assert len(dot.get_edges()) == graph.number_of_edges()


def test_space_dot_shows_every_choice_with_its_domain(nb201, darts):
    text = space_dot(nb201).to_string()
    assert text.count("shape=box") == 6
    assert "cell.edge[0->1]\\nchoice(none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)" in text
    text = space_dot(darts).to_string()
    assert text.count("shape=box") == 24
    assert 'label="normal"' in text and 'label="node[2]"' in text           # clusters by path prefix


def test_space_dot_draws_conditions_as_edges():
    space = nasl.load(example("rnn_cell.nas"))
    text = space_dot(space, max_choices=40).to_string()
    # memory.MM.mem exists only when memory is MM: an edge from the parent choice, labelled with the value
    assert 'c0 [label="memory\\nchoice(' in text and 'c1 [label="memory.MM.mem\\nchoice(' in text
    assert 'c0 -> c1 [label="MM", color="#3465a4"];' in text
    assert 'c1 -> c3 [label="Tanh"' in text
    assert "more choice points or groups not drawn" in text      # max_choices caps big recursive spaces
    assert text.count("shape=box") == 40


def test_space_dot_draws_constraints_as_notes():
    space = nasl.loads("input x: [3, 8, 8]\nnetwork { a = choice(1, 2, 3)\n b = choice(1, 2)\n"
                       " require a > b\n return x }")
    text = space_dot(space).to_string()
    assert "shape=note" in text and 'label="require a > b"' in text
    assert text.count("style=dashed") == 2


def test_render_dot_text(small_nb201, tmp_path):
    path = render(space_dot(small_nb201), tmp_path / "space.dot")
    assert open(path).read().startswith("digraph")


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_render_pictures(small_nb201, tmp_path, fmt):
    space = nasl.load(example("darts.nas"), C=8, layers=5)
    for name, dot in [("arch", arch_dot(space, genotype_arch(DARTS_V2))), ("space", space_dot(space)),
                      ("nb201", arch_dot(small_nb201, nb201_arch(ARCH)))]:
        out = tmp_path / f"{name}.{fmt}"
        render(dot, out)
        data = out.read_bytes()
        assert data.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in data


@needs_dot
def test_svg_text(nb201):
    assert "<svg" in svg(space_dot(nb201))


def test_notebooks_show_spaces_and_architectures_as_svg():
    import shutil

    import nasl
    from tests.conftest import example
    space = nasl.load(example("nas_bench_201.nas"))
    graph = space.realize(space.sample(0))
    if shutil.which("dot") is None:
        assert space._repr_svg_() is None
        return
    assert space._repr_svg_().lstrip().startswith(("<?xml", "<svg"))
    assert "<svg" in graph._repr_svg_()
