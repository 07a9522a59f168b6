"""Export a trial's model: its architecture, rebuilt from the study, with its trained weights.

The weights are the ones the evaluator kept in the study's artifact folder
(``<study>.artifacts/trial_<id>.pt``, written by the ``digits`` evaluator).
A trial without weights (a table or cost study) exports the architecture
with freshly initialised weights, and says so.
"""
from __future__ import annotations

import os
import sys

from nasl.ir.errors import NaslError


def format_from_suffix(path: str) -> str:
    """The exporter ``nasl search --export PATH`` writes with: python for ``.py``, onnx for ``.onnx``, else pt."""
    return {".py": "python", ".onnx": "onnx"}.get(os.path.splitext(path)[1].lower(), "pt")


def weights_of(study, trial) -> str | None:
    """The trial's saved ``state_dict`` file, or None."""
    if study.artifact_dir is None:
        return None
    path = os.path.join(study.artifact_dir, f"trial_{trial.id}.pt")
    return path if os.path.exists(path) else None


def export_trial(study, trial, path, to: str = "pt", ops=None, trust: bool | None = None) -> str:
    """Write ``trial``'s model to ``path`` as ``to`` (an exporter of :mod:`nasl.exporters`: pt, python,
    onnx ...); returns the path.

    The op modules the study records are imported only when ``ops`` (or the
    study's own ``ops``) names them, or with ``trust=True``
    (:mod:`nasl.study.trust`).
    """
    from nasl.exporters import get_exporter
    get_exporter(to, "model")                           # an unknown format is refused before any work
    if trial.state != "complete":
        raise NaslError(f"trial {trial.number} is {trial.state}; only complete trials export")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise NaslError(f"cannot write '{path}': no folder '{folder}'")
    request = study.request_for(trial, ops, trust)      # refuses unapproved op modules before any output
    from nasl.study.evaluator_config import model_shape, with_classes
    input_shape, classes = model_shape(study.config)   # one's own data: the shape and classes trained with
    request = with_classes(request, classes)
    weights = weights_of(study, trial)
    if weights is None:
        print(f"note: trial {trial.number} kept no weights; exporting its architecture untrained", file=sys.stderr)
    from nasl.study.model_export import export_model
    try:
        return export_model(request, path, to=to, weights=weights, metrics=trial.metrics, input_shape=input_shape)
    except NaslError as e:
        if weights is None or input_shape is not None:
            raise
        # a study made before the input shape and class count were recorded, on data of another shape
        raise NaslError(f"{e.message}; the study '{study.path}' records no input shape or class count (it "
                        f"predates their recording), so the network was rebuilt for the space's declared input; "
                        f"rebuild it yourself: nasl.study.model_export.export_model(study.request_for(trial), OUT, "
                        f"weights=..., input_shape=...), with a 'classes' param for another class count") from None
