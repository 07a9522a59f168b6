"""Export formats, by name: what ``nasl export --to``, ``nasl study export --to`` and
``export_model(to=...)`` write, on :class:`nasl.registry.Registry`.

An exporter has up to three ways in, each a function or a lazy
``"module:function"`` (so listing them imports neither torch nor onnx):

- ``arch(space, arch, out, input_shape, to) -> path``: one architecture,
  freshly initialised (``nasl export --to NAME``);
- ``model(request, model, out, *, input_shape, metrics, trained, to) ->
  path``: a built, possibly trained ``nn.Module`` of a trial
  (``nasl study export``, ``nasl search --export``, ``export_model``);
- ``space(space, out, to) -> path``: the whole space (``nasl export --space``).

A plug-in adds one through the entry-point group ``nasl.exporters`` (its
module calls :func:`register_exporter`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from nasl.ir.errors import NaslError
from nasl.registry import Registry, caller_module

Fn = Union[Callable, str, None]


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str = ""          # the file suffix it writes ('' : the output path as given)
    add_suffix: bool = False  # whether an output path without a suffix gets it (`-o net` writes net.py)
    arch: Fn = None
    model: Fn = None
    space: Fn = None
    doc: str = ""

    def call(self, way: str, *args, **kwargs):
        fn = getattr(self, way)
        if fn is None:
            raise NaslError(f"the '{self.name}' export cannot write {_WAYS[way]}; "
                            f"the formats that can: {', '.join(exporters(way))}")
        if isinstance(fn, str):
            from importlib import import_module
            module, _, attr = fn.partition(":")
            fn = getattr(import_module(module), attr)
        return fn(*args, to=self.name, **kwargs)


_WAYS = {"arch": "an architecture", "model": "a trained model", "space": "a whole space"}

EXPORTERS = Registry("exporter", "nasl.exporters")


def register_exporter(name: str, *, arch: Fn = None, model: Fn = None, space: Fn = None, suffix: str = "",
                      add_suffix: bool = False, doc: str = "", replace: bool = False, **meta) -> Exporter:
    """Register the export format ``name`` (see the module docstring for the three functions)."""
    if arch is None and model is None and space is None:
        raise TypeError(f"register_exporter({name!r}) needs at least one of arch=, model=, space=")
    for what, fn in (("arch", arch), ("model", model), ("space", space)):
        if fn is not None and not (callable(fn) or (isinstance(fn, str) and ":" in fn)):
            raise TypeError(f"register_exporter({name!r}): {what} is a function or 'module:function', not {fn!r}")
    ex = Exporter(name, suffix, add_suffix, arch, model, space, doc)
    EXPORTERS.register(name, ex, replace=replace, doc=doc, origin=meta.pop("origin", None) or caller_module(), **meta)
    return ex


def exporters(way: str | None = None) -> list[str]:
    """The names of the exporters (that can write ``way``: arch, model or space), in registration order."""
    return [n for n in EXPORTERS.keys() if way is None or getattr(EXPORTERS.get(n), way) is not None]


def builtin_exporters(way: str) -> list[str]:
    """As :func:`exporters`, without loading plug-ins (for ``--help`` text)."""
    return [e.name for e in EXPORTERS.builtin() if getattr(e.obj, way) is not None]


def get_exporter(name: str, way: str) -> Exporter:
    """The exporter ``name``, which must be able to write ``way``; a one-line NaslError otherwise."""
    ex = EXPORTERS.find(name) if isinstance(name, str) else None
    if ex is None or getattr(ex, way) is None:
        from nasl.ir.errors import did_you_mean
        able = exporters(way)
        raise NaslError(f"export format is one of {', '.join(able)}, not {name!r}",
                        hint=did_you_mean(str(name), able))
    return ex


# the built-in formats, in the order help text lists them
register_exporter("pt", suffix=".pt", model="nasl.study.model_export:export_pt",
                  doc="one torch.save bundle: the space, the architecture and the weights (nasl.study.load_model)")
register_exporter("python", suffix=".py", add_suffix=True, arch="nasl.compiler.export_python:write_python",
                  model="nasl.study.model_export:export_python_model",
                  doc="standalone PyTorch source (and its weights in OUT.pt for a trained model)")
register_exporter("onnx", suffix=".onnx", arch="nasl.compiler.export_onnx:export_arch",
                  model="nasl.study.model_export:export_onnx_model", doc="an ONNX graph")
for _fmt, _doc in (("dot", "Graphviz source"), ("svg", "an SVG picture"), ("png", "a PNG picture")):
    register_exporter(_fmt, suffix="." + _fmt, arch="nasl.compiler.export_dot:export_arch",
                      space="nasl.compiler.export_dot:export_space", doc=_doc + " of the network (or the space)")
del _fmt, _doc

__all__ = ["EXPORTERS", "Exporter", "register_exporter", "exporters", "get_exporter"]
