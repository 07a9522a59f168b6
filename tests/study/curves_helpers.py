"""A torch-free evaluator with learning curves: for the pruner tests.

The space's choices ``q`` and ``r`` set a curve ``f - (f - 0.1) * epoch ** -0.9``
with ``f = 0.4 + 0.04 q + 0.01 r`` (a power law, as learning curves go), reported epoch by epoch through
``request.report``, so a study's pruner can stop it.
"""
from __future__ import annotations

SPACE = """
input x: [4]
network {
    return x >> linear(choice(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) as q) >> linear(choice(1, 2, 3, 4) as r)
}
"""
EPOCHS = 8


def value(q: int, r: int, epoch: float) -> float:
    f = 0.4 + 0.04 * q + 0.01 * r
    return f - (f - 0.1) * epoch ** -0.9


class CurveEvaluator:
    """Reports ``val_accuracy`` per epoch up to the request's budget (default ``EPOCHS``)."""

    directions = {"val_accuracy": "max"}
    epochs = EPOCHS

    def __init__(self):
        self.epochs_run = 0

    def __call__(self, request):
        q, r = request.arch["q"], request.arch["r"]
        budget = int(request.budget or EPOCHS)
        curve = []
        for e in range(1, budget + 1):
            self.epochs_run += 1
            curve.append({"epoch": e, "val_accuracy": value(q, r, e)})
            if e < budget:
                request.report(curve)
        return {"val_accuracy": curve[-1]["val_accuracy"], "curve": curve}
