"""Export a trained architecture: a reloadable bundle, standalone PyTorch source, or ONNX.

- ``to="pt"`` writes one ``torch.save`` bundle holding everything needed to
  rebuild the model: the space's source text, file name, parameter overrides
  and op modules, the architecture JSON, the input shape, the trained
  ``state_dict`` and the trial's metrics. :func:`load_model` rebuilds the
  exact module from it (in eval mode); it needs nasl, but no study.
- ``to="python"`` writes the standalone source of
  :mod:`nasl.compiler.export_python` (imports only torch) to ``OUT.py`` and
  the weights to ``OUT.pt`` beside it (``OUT`` without a suffix gets ``.py``);
  the file's header says how to load them.
- ``to="onnx"`` writes the trained model through
  :mod:`nasl.compiler.export_onnx` (eval mode, dynamic batch).
"""
from __future__ import annotations

import os

import torch

from nasl.ir.errors import NaslError
from nasl.study.protocol import TrialRequest
from nasl.study.training import save_atomic

FORMAT = "nasl-model"
VERSION = 1


def _space_request(space_source, space_file, params, arch, ops_modules) -> TrialRequest:
    # a TrialRequest knows how to rebuild (and cache) a space from its source
    return TrialRequest(trial_id=0, number=0, arch=dict(arch), budget=None, seed=0, space_source=space_source,
                        space_file=space_file, params=tuple((str(k), v) for k, v in dict(params or {}).items()),
                        ops_modules=tuple(ops_modules or ()))


def _state_dict(weights):
    if weights is None or isinstance(weights, dict):
        return weights
    if not isinstance(weights, (str, os.PathLike)):
        raise NaslError(f"weights must be a state_dict or a file path, not {type(weights).__name__}")
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise NaslError(f"no weights file '{path}'")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises several kinds for a bad file
        raise NaslError(f"cannot read weights from '{path}': {type(e).__name__}: {e}") from None
    if not isinstance(state, dict):
        raise NaslError(f"'{path}' holds a {type(state).__name__}, not a state_dict")
    return state


def _build(request: TrialRequest, input_shape, state):
    """The compiled model with ``state`` loaded (kept untrained when ``state`` is None), in eval mode."""
    from nasl.compiler import compile

    model = compile(request.load_space(), request.architecture(), input_shape)
    if state is not None:
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise NaslError(f"the weights do not fit architecture {request.architecture().id} of "
                            f"{request.space_file}: {str(e).splitlines()[0]} ...") from None
    return model.eval()


def _out_path(out_path) -> str:
    path = os.fspath(out_path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise NaslError(f"cannot write '{path}': no folder '{folder}'")
    if os.path.isdir(path):
        raise NaslError(f"cannot write '{path}': it is a folder")
    return path


def export_model(out_path, *args, space_source: str | None = None, space_file: str = "<string>",
                 params=None, arch=None, weights_path_or_state_dict=None, input_shape=None, metrics=None,
                 ops_modules=(), to: str | None = None, weights=None) -> str:
    """Write a trained architecture to ``out_path``; returns the path written.

    Parameters
    ----------
    out_path : str or PathLike
        The file to write. With ``to=None`` the format follows its suffix
        (``.py`` python, ``.onnx`` onnx, anything else pt).
    space_source, space_file, params, ops_modules :
        The space's ``.nas`` text, its file name, ``{name: value}`` overrides
        of its ``param`` s and the modules that register its user ops.
    arch : mapping
        The architecture (``{path: value}``).
    weights_path_or_state_dict : str, PathLike or dict
        The trained ``state_dict`` or a file holding one. ``None`` exports the
        architecture untrained (freshly initialised).
    input_shape : tuple, optional
        The input shape the model was trained with (default: the space's).
    metrics : dict, optional
        Kept in the pt bundle (e.g. the trial's validation accuracy).
    to : {"pt", "python", "onnx"}, optional

    Notes
    -----
    ``export_model(request, out_path, weights=..., to=...)`` with a
    :class:`~nasl.study.protocol.TrialRequest` takes the space, parameters,
    op modules and architecture from the request.
    """
    if isinstance(out_path, TrialRequest):
        if len(args) != 1:
            raise TypeError("export_model(request, out_path, ...) takes the output path after the request")
        request, out_path = out_path, args[0]
    elif args:
        raise TypeError("export_model takes the output path, then keyword arguments only")
    else:
        if space_source is None or arch is None:
            raise TypeError("export_model needs space_source= and arch=")
        request = _space_request(space_source, space_file, params, arch, ops_modules)
    if weights is not None and weights_path_or_state_dict is not None:
        raise TypeError("give the weights once: weights= or weights_path_or_state_dict=")
    weights = weights if weights is not None else weights_path_or_state_dict
    path = _out_path(out_path)
    from nasl.exporters import EXPORTERS, get_exporter
    if to is None:       # by the suffix: a registered exporter's (.py python, .onnx onnx), anything else pt
        suffix = os.path.splitext(path)[1].lower()
        to = next((n for n in EXPORTERS.keys() if suffix and EXPORTERS.get(n).suffix == suffix
                   and EXPORTERS.get(n).model is not None), "pt")
    exporter = get_exporter(to, "model")
    if exporter.add_suffix and not os.path.splitext(path)[1]:
        path = _out_path(path + exporter.suffix)     # `-o best` writes best.py and best.pt, as documented
    state = _state_dict(weights)
    model = _build(request, input_shape, state)
    return exporter.call("model", request, model, path, input_shape=input_shape, metrics=metrics,
                         trained=state is not None)


def export_pt(request, model, path, *, input_shape=None, metrics=None, trained=False, to="pt") -> str:
    """The ``pt`` bundle: the space, its parameters and op modules, the architecture and the weights."""
    shape = tuple(next(iter(model.input_shapes.values()))) if len(model.input_shapes) == 1 else \
        {k: tuple(v) for k, v in model.input_shapes.items()}
    bundle = {"format": FORMAT, "version": VERSION, "space_source": request.space_source,
              "space_file": request.space_file, "params": [list(p) for p in request.params],
              "ops_modules": list(request.ops_modules), "arch": dict(request.arch),
              "input_shape": shape, "state_dict": model.state_dict(), "trained": trained,
              "metrics": {k: v for k, v in dict(metrics or {}).items() if k != "curve"}}
    return save_atomic(bundle, path)


def export_onnx_model(request, model, path, *, input_shape=None, metrics=None, trained=False, to="onnx") -> str:
    """The model as an ONNX graph, written through a temporary file beside ``path``."""
    from nasl.compiler.export_onnx import export_module

    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        export_module(model, tmp, dict(model.input_shapes), [str(o) for o in model.output_shapes] or ["output"],
                      graph=lambda: request.load_space().realize(request.architecture()))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def python_weights_path(py_path) -> str:
    """Where the python export keeps its weights: ``OUT.py`` -> ``OUT.pt``."""
    return os.path.splitext(os.fspath(py_path))[0] + ".pt"


def export_python_model(request, model, path, *, input_shape=None, metrics=None, trained=False,
                        to="python") -> str:
    """Standalone source in ``path`` and the model's ``state_dict`` beside it (``OUT.pt``)."""
    from nasl.compiler.export_python import to_python

    weights = python_weights_path(path)
    if os.path.abspath(weights) == os.path.abspath(path):
        raise NaslError(f"the python export writes its weights to OUT.pt; name the source '{path}' otherwise "
                        "(e.g. model.py)")
    source = to_python(request.load_space(), request.architecture(), input_shape)
    name = os.path.basename(weights)
    header = (f"# Trained weights: {name} (a state_dict), beside this file. To load them:\n"
              f"#     net = Net()\n"
              f"#     net.load_state_dict(torch.load({name!r}))\n"
              f"#     net.eval()\n")
    save_atomic(model.state_dict(), weights)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(header + source)
    os.replace(tmp, path)
    return path


def load_model(path, ops=None, trust: bool = False) -> torch.nn.Module:
    """Rebuild the model of a pt bundle written by :func:`export_model`, with its weights, in eval mode.

    The bundle's metrics are on the module as ``model.nasl_metrics`` and its
    architecture as ``model.nasl_arch``. A bundle that records op modules
    is refused unless ``ops`` names each of them again, or ``trust=True``:
    importing a module runs its code (see :mod:`nasl.study.trust`).
    """
    from nasl.study.trust import allowed_modules

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise NaslError(f"no model file '{path}'")
    try:
        bundle = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise NaslError(f"cannot read '{path}' as a nasl model bundle: {type(e).__name__}: {e}") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise NaslError(f"'{path}' is not a nasl model bundle (write one with export_model(..., to='pt'))")
    if bundle.get("version") != VERSION:
        raise NaslError(f"'{path}' is a version {bundle.get('version')} bundle; this nasl reads version {VERSION}")
    modules = allowed_modules(f"the model bundle '{path}'", bundle.get("ops_modules"), ops=ops, trust=trust)
    request = _space_request(bundle["space_source"], bundle["space_file"], dict(map(tuple, bundle["params"])),
                             bundle["arch"], modules)
    shape = bundle["input_shape"]
    model = _build(request, shape, bundle["state_dict"])
    model.nasl_metrics = dict(bundle["metrics"])
    model.nasl_arch = dict(bundle["arch"])
    return model


__all__ = ["export_model", "load_model", "python_weights_path", "export_pt", "export_python_model",
           "export_onnx_model"]
