"""The digits evaluator and the space's declared input shape (issue 14, bug 7).

It compiled every space for the data's [1, 8, 8], whatever the space declared: a space asking for
flat features (`input x: [64]`) failed every trial with a shape error.
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import nasl  # noqa: E402
from nasl.ir.errors import NaslError  # noqa: E402
from nasl.study.training import TrainEvaluator  # noqa: E402
from tests.study.helpers_train import request  # noqa: E402

FLAT = """param classes = 10
input x: [64]
network {
    return x >> linear(choice(16, 32) as h) >> relu >> linear(classes)
}
"""
WRONG = """param classes = 10
input x: [32]
network {
    return x >> linear(choice(4, 8) as width) >> linear(classes)
}
"""


def test_flat_features_get_the_digits_flattened():
    ev = TrainEvaluator(epochs=1, lr=0.01)
    metrics = ev(request({"h": 32}, source=FLAT))
    assert metrics["val_accuracy"] > 0.3 and metrics["steps"] > 0          # chance is 0.1


def test_a_declared_shape_the_data_cannot_fill_is_refused_before_the_first_trial(tmp_path):
    with pytest.raises(NaslError, match=r"the space declares input x: \[32\], but the digits data are "
                                         r"\[1, 8, 8\] per example; declare input x: \[1, 8, 8\], or \[64\] "
                                         r"for flat features") as e:
        nasl.search(WRONG, evaluator="digits", budget=1, storage=str(tmp_path / "s.db"), progress=False)
    assert e.value.span.line == 2
    assert not (tmp_path / "s.db").exists()


def test_tokens_get_the_digits_reshaped():
    tokens = FLAT.replace("[64]", "[8, 8]").replace("x >> linear", "x >> flatten >> linear")
    ev = TrainEvaluator(epochs=0.1)
    assert ev.fit_input_shape(nasl.loads(tokens).realize({"h": 16})) == ((8, 8), True)
    assert ev(request({"h": 16}, source=tokens))["steps"] > 0


def test_the_data_shape_of_the_same_rank_and_an_explicit_input_shape_still_win():
    cifar = FLAT.replace("[64]", "[3, 32, 32]").replace("x >> linear", "x >> flatten >> linear")
    ev = TrainEvaluator(epochs=0.1)
    assert ev.fit_input_shape(nasl.loads(cifar).realize({"h": 16})) == ((1, 8, 8), False)
    assert ev(request({"h": 16}, source=cifar))["steps"] > 0
    # an explicit input_shape overrides the declaration, as before
    ev = TrainEvaluator(epochs=0.1, input_shape=(1, 8, 8))
    assert ev.fit_input_shape(nasl.loads(WRONG).realize({"width": 4})) == ((1, 8, 8), False)
