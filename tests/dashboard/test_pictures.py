"""Pictures for the dashboard: one architecture's choices in the space, and what happens when drawing fails."""
from __future__ import annotations

import re
import subprocess

import pytest

from nasl.dashboard import pictures as pictures_mod
from nasl.dashboard.pictures import PictureUnavailable, Pictures, render_svg

from .conftest import SPACE

pydot = pytest.importorskip("pydot")


def _node(dot_text: str, name: str) -> str:
    """The DOT statement of the node labelled ``name`` (its first label line)."""
    m = re.search(r"^\s*c\d+ \[label=\"" + re.escape(name) + r"\\n[^\n]*$", dot_text, re.M)
    assert m, dot_text
    return m.group(0)


def test_space_dot_highlights_the_chosen_values(space):
    from nasl.ir.pictures import space_dot
    plain = space_dot(space).to_string()
    assert "= 8" not in plain and "choice points" in plain
    picked = space_dot(space, chosen={"width": 8, "deep": "no"}).to_string()
    width, k2 = _node(picked, "width"), _node(picked, "k2")
    assert "= 8" in width and "#b7e4b0" in width            # chosen: its value, in green
    assert "= " not in k2 and "#f2f2f2" in k2               # deep == "no" switched k2 off: grey
    assert "#f2f2f2" not in _node(space_dot(space, chosen={"width": 8, "deep": "yes", "k2": 3}).to_string(), "k2")


def _study(source=SPACE, ops=()):
    return {"space_source": source, "space_file": "tiny.nas", "params": [], "ops": list(ops)}


def test_a_space_that_does_not_load_here():
    """The study names an op module this machine lacks: pictures and costs say why; nothing raises."""
    p = Pictures(_study(ops=["no_such_ops_module_xyz"]))
    with pytest.raises(PictureUnavailable, match="does not load here: cannot import op module"):
        p.space_svg()
    assert "does not load here" in p.cost({"width": 8, "deep": "no"})["error"]


def test_an_architecture_that_is_not_in_the_space():
    assert "error" in Pictures(_study()).cost({"width": 12, "deep": "no"})
    if pictures_mod.shutil.which("dot"):
        with pytest.raises(PictureUnavailable, match="no picture"):
            Pictures(_study()).arch_svg({"width": 12, "deep": "no"})


def test_graphviz_failures_are_messages(monkeypatch):
    if pictures_mod.shutil.which("dot"):
        with pytest.raises(PictureUnavailable, match="Graphviz failed"):
            render_svg("digraph { this is not dot")

    def slow(*a, **kw):
        raise subprocess.TimeoutExpired("dot", pictures_mod.DOT_TIMEOUT)
    monkeypatch.setattr(pictures_mod.subprocess, "run", slow)
    with pytest.raises(PictureUnavailable, match="more than 60 s"):
        render_svg("digraph {}")


def test_pictures_are_cached_by_architecture(monkeypatch):
    if not pictures_mod.shutil.which("dot"):
        pytest.skip("Graphviz 'dot' is not installed")
    p = Pictures(_study())
    arch = {"width": 16, "deep": "yes", "k2": 1}
    first = p.choices_svg(arch)
    monkeypatch.setattr(pictures_mod, "render_svg", lambda text: pytest.fail("drawn twice"))
    assert p.choices_svg(dict(reversed(list(arch.items())))) == first      # key order does not matter
