"""Exporting a trained trial (issue 6): pt bundles reload exactly; python and ONNX exports compute the same."""
from __future__ import annotations

import importlib.util

import pytest
import torch

from nasl.ir.errors import NaslError
from nasl.study.digits import load_digits_split
from nasl.study.model_export import export_model, load_model, python_weights_path
from nasl.study.training import TrainEvaluator, evaluate, weights_path
from tests.study.helpers_train import TINY, request

ARCH = {"width": 4}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A trained trial: its metrics and the weights file the evaluator kept."""
    art = tmp_path_factory.mktemp("art")
    metrics = TrainEvaluator(epochs=2, batch_size=128, threads=1)(request(ARCH, trial_id=3, artifact_dir=art))
    return metrics, weights_path(art, 3)


def _export(path, weights, **kw):
    return export_model(path, space_source=TINY, space_file="tiny.nas", params={}, arch=ARCH,
                        weights_path_or_state_dict=weights, input_shape=(1, 8, 8), **kw)


def _val():
    _, _, x_va, y_va = load_digits_split()
    return x_va, y_va


def test_pt_bundle_reproduces_the_validation_accuracy(trained, tmp_path):
    metrics, weights = trained
    path = _export(tmp_path / "best.pt", weights, metrics=metrics)
    assert path == str(tmp_path / "best.pt")
    model = load_model(path)
    assert not model.training and model.nasl_arch == ARCH
    assert model.nasl_metrics["val_accuracy"] == metrics["val_accuracy"] and "curve" not in model.nasl_metrics
    x_va, y_va = _val()
    val_loss, val_acc = evaluate(model, [(x_va[i:i + 512], y_va[i:i + 512]) for i in range(0, len(x_va), 512)])
    assert val_acc == metrics["val_accuracy"] and val_loss == pytest.approx(metrics["val_loss"], rel=1e-6)
    state = torch.load(weights, weights_only=True)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


def test_python_export_with_weights_computes_the_same(trained, tmp_path):
    metrics, weights = trained
    path = _export(tmp_path / "net.py", weights, to="python")
    assert path == str(tmp_path / "net.py") and python_weights_path(path) == str(tmp_path / "net.pt")
    text = open(path).read()
    assert "net.load_state_dict(torch.load('net.pt'))" in text and "nasl" not in text.split('"""')[0]
    spec = importlib.util.spec_from_file_location("exported_net", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.Net()
    net.load_state_dict(torch.load(tmp_path / "net.pt", weights_only=True))
    net.eval()
    reference = load_model(_export(tmp_path / "ref.pt", weights))
    x_va, _ = _val()
    with torch.no_grad():
        assert torch.equal(net(x_va), reference(x_va))


def test_onnx_export_computes_the_same(trained, tmp_path):
    onnx = pytest.importorskip("onnx")
    reference_impl = pytest.importorskip("onnx.reference")
    _, weights = trained
    path = _export(tmp_path / "net.onnx", weights)            # the format follows the suffix
    model = onnx.load(path)
    onnx.checker.check_model(model)
    x = _val()[0][:5]
    (got,) = reference_impl.ReferenceEvaluator(model).run(None, {"x": x.numpy()})
    with torch.no_grad():
        want = load_model(_export(tmp_path / "ref.pt", weights))(x)
    assert torch.allclose(torch.from_numpy(got), want, atol=1e-5)


def test_python_export_without_a_suffix_writes_py(trained, tmp_path):
    _, weights = trained
    path = _export(tmp_path / "best", weights, to="python")
    assert path == str(tmp_path / "best.py") and (tmp_path / "best.pt").is_file()
    assert not (tmp_path / "best").exists()


def test_export_from_a_request(trained, tmp_path):
    metrics, weights = trained
    path = export_model(request(ARCH), tmp_path / "r.pt", weights=weights, metrics=metrics)
    x_va, y_va = _val()
    assert evaluate(load_model(path), [(x_va, y_va)])[1] == metrics["val_accuracy"]


def test_untrained_export_is_marked(tmp_path):
    path = _export(tmp_path / "u.pt", None)
    assert torch.load(path, weights_only=True)["trained"] is False
    assert load_model(path).nasl_arch == ARCH


@pytest.mark.parametrize("case, message", [
    ("missing", "no weights file"),
    ("folder", "no folder"),
    ("format", "export format is one of pt, python, onnx"),
    ("mismatch", "the weights do not fit architecture"),
    ("py_pt", "writes its weights to OUT.pt"),
])
def test_export_errors(trained, tmp_path, case, message):
    _, weights = trained
    with pytest.raises(NaslError, match=message):
        if case == "missing":
            _export(tmp_path / "a.pt", tmp_path / "nope.pt")
        elif case == "folder":
            _export(tmp_path / "no" / "such" / "a.pt", weights)
        elif case == "format":
            _export(tmp_path / "a.pt", weights, to="tflite")
        elif case == "mismatch":
            export_model(tmp_path / "a.pt", space_source=TINY, arch={"width": 8}, weights_path_or_state_dict=weights)
        else:
            _export(tmp_path / "a.pt", weights, to="python")


def test_load_model_errors(tmp_path):
    with pytest.raises(NaslError, match="no model file"):
        load_model(tmp_path / "none.pt")
    torch.save({"a": torch.zeros(1)}, tmp_path / "plain.pt")
    with pytest.raises(NaslError, match="not a nasl model bundle"):
        load_model(tmp_path / "plain.pt")
    (tmp_path / "junk.pt").write_text("junk")
    with pytest.raises(NaslError, match="cannot read"):
        load_model(tmp_path / "junk.pt")
