"""Export a compiled architecture to ONNX through ``torch.onnx.export``.

The module is exported in eval mode (BatchNorm uses its running statistics)
with a dynamic batch dimension. ``dynamo=None`` picks the ``torch.export``
based exporter when ``onnxscript`` is installed (``pip install onnx
onnxscript``, part of the ``torch`` extra) and the legacy TorchScript
exporter otherwise.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import warnings

import torch

from nasl.ir.errors import NaslError
from nasl.ir.optional import require


def _have_onnxscript() -> bool:
    return importlib.util.find_spec("onnxscript") is not None


def export_module(model: torch.nn.Module, path, input_shapes: dict, output_names: list, *,
                  opset: int | None = None, dynamo: bool | None = None, batch: int = 2, graph=None) -> str:
    """Write ``model`` (inputs ``{name: shape without batch}``) to ``path`` as ONNX; returns the path.

    ``graph`` (the ``ArchGraph`` the model was compiled from, or a function
    that returns it, called only on failure) lets a forward that raises be
    reported at its op's ``.nas`` span; a failure of the exporter itself is a
    one-line :class:`NaslError` either way.
    """
    path = os.fspath(path)
    require("onnx", "ONNX export")          # both of torch's exporters need it; say so before tracing
    if dynamo is None:
        dynamo = _have_onnxscript()
    names = list(input_shapes)
    args = tuple(torch.randn(batch, *s) for s in input_shapes.values())
    was_training = model.training
    model.eval()
    kw: dict = {"input_names": names, "output_names": output_names}
    if opset is not None:
        kw["opset_version"] = opset
    if dynamo:
        b = torch.export.Dim("batch")
        kw["dynamic_shapes"] = {n: {0: b} for n in _forward_arg_names(model, names)}
    else:
        kw["dynamic_axes"] = {n: {0: "batch"} for n in names + output_names}
    try:
        # both exporters print progress and deprecation notes; keep the caller's console quiet
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(model, args, path, dynamo=dynamo, verbose=False, **kw)
    except Exception as e:  # noqa: BLE001 - both exporters raise many kinds; none is nasl's bug to report
        if graph is not None:
            _run_located(model, args, graph() if callable(graph) else graph)     # raises at the failing op
        raise NaslError(f"ONNX export failed: {_summary(e)}") from e
    finally:
        model.train(was_training)
    return path


def _summary(e: Exception) -> str:
    """One line of what the exporter said: its exception summary when it has one (torch.export's does)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(e).splitlines()]
    lines = [line for line in lines if line]
    if "## Exception summary" in lines and lines.index("## Exception summary") + 1 < len(lines):
        return lines[lines.index("## Exception summary") + 1]
    return f"{type(e).__name__}: {lines[0] if lines else ''}"


def _run_located(model, args, graph) -> None:
    """Run the forward one fx node at a time; an error in a user op becomes a NaslError at its span."""
    from torch import fx

    from nasl.compiler.build import module_paths
    from nasl.compiler.user_ops import reraise

    by_path = {p: n for n, p in module_paths(graph).items()}
    by_name = {p.replace(".", "_"): n for p, n in by_path.items()}

    class Located(fx.Interpreter):
        def run_node(self, node):
            try:
                return super().run_node(node)
            except Exception as e:
                op = by_path.get(node.target) if node.op == "call_module" else by_name.get(node.name)
                if op is None:
                    raise
                reraise(e, op, graph.nodes[op], "in its forward")

    if isinstance(model, fx.GraphModule):
        with torch.no_grad():
            Located(model).run(*args)


def _forward_arg_names(model, fallback: list) -> list:
    """The names of the forward's parameters, which ``dynamic_shapes`` is keyed by."""
    import inspect

    try:
        params = list(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return fallback
    return params[:len(fallback)] if len(params) >= len(fallback) else fallback


def to_onnx(space, arch, path, input_shape=None, *, opset: int | None = None, dynamo: bool | None = None) -> str:
    """Compile one architecture of ``space`` and write it to ``path`` as ONNX; returns the path.

    The ONNX inputs carry the names of the space's inputs (``x``) with a
    dynamic batch dimension; the outputs are named after the network's
    outputs.
    """
    from nasl.compiler.build import compile_graph

    graph = space.realize(arch)
    gm = compile_graph(graph, input_shape)
    outs = [str(o) for o in gm.output_shapes] or ["output"]
    return export_module(gm, path, dict(gm.input_shapes), outs, opset=opset, dynamo=dynamo, graph=graph)


__all__ = ["to_onnx", "export_module"]


def export_arch(space, arch, out, input_shape=None, *, to="onnx") -> str:
    """``nasl export --to onnx``: :func:`to_onnx` with the default opset."""
    return to_onnx(space, arch, out, input_shape)

