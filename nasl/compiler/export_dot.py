"""Graphviz pictures of an architecture (with inferred shapes) and of a whole space.

The drawing lives in :mod:`nasl.ir.pictures` (no torch); this adds the
shapes the compiler infers.
"""
from __future__ import annotations

from nasl.ir.pictures import graph_dot, render, space_dot, svg

__all__ = ["arch_dot", "graph_dot", "space_dot", "render", "svg"]


def arch_dot(space, arch, input_shape=None, *, rankdir: str = "TB", shapes: bool = True):
    """A picture of one architecture: its realized op graph, boxes labelled with output shapes."""
    graph = space.realize(arch)
    out_shapes = {}
    if shapes:
        try:
            from nasl.compiler.infer import infer_shapes
            out_shapes = infer_shapes(graph, input_shape)
        except Exception:          # a picture of a network that does not fit is still useful
            out_shapes = {}
    return graph_dot(graph, out_shapes, title=f"{getattr(space, 'name', 'space')}: architecture",
                     rankdir=rankdir)


def export_arch(space, arch, out, input_shape=None, *, to="dot") -> str:
    """``nasl export --to dot|svg|png``: the network's picture."""
    return render(arch_dot(space, arch, input_shape), out, to)


def export_space(space, out, *, to="dot") -> str:
    """``nasl export --space --to dot|svg|png``: the whole space's picture."""
    return render(space_dot(space), out, to)

