"""Score architectures with weights inherited from a trained supernet.

:class:`SupernetEvaluator` is the second half of sampling-based one-shot NAS
(SPOS, Li & Talwalkar's random search with weight sharing, OFA): after the
supernet is trained, any searcher ranks architectures by what their
inherited weights score, at a fraction of a second each instead of a
training run. For each architecture it

1. takes ``sn.subnet(arch)``, a stand-alone ``nasl.compile`` of the
   architecture holding copies of the supernet's weights (any mode: bank,
   spos, ofa, darts ...), so scoring never changes the supernet and the score
   of an architecture does not depend on what was scored before it;
2. recalibrates its BatchNorm statistics on a few training batches
   (:func:`nasl.oneshot.bn.recalibrate`), the same batches for every
   architecture, so that the ranking compares architectures, not batches;
3. reports validation accuracy and loss, and on request the architecture's
   params / FLOPs / MACs from :func:`nasl.compiler.cost.cost` (no build), as
   further objectives for multi-objective searchers.

It works on tensors; a study reaches it through ``nasl.study.supernet_eval``
(the evaluator spec ``supernet:PATH``).
"""
from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F

from nasl.ir.errors import NaslError
from nasl.oneshot.bn import recalibrate

COST_METRICS = ("params", "flops", "macs")


class SupernetEvaluator:
    """``evaluator(arch) -> {"val_accuracy", "val_loss", ...}`` with the supernet's inherited weights.

    Parameters
    ----------
    supernet : nn.Module
        A supernet of any mode (it needs ``subnet(arch)`` and ``space``).
    train, val : pair of Tensor
        ``(inputs, labels)``: the recalibration batches come from ``train``, the score from ``val``.
    calib_batches, batch_size : int
        How many training batches of which size recalibrate BatchNorm (SPOS: 20 batches of
        its training batch size; a few suffice on digits); 0 keeps the supernet's statistics.
    eval_batch_size : int
        Validation batch size. 128, not the 512 of ``TrainEvaluator``: on a CPU the digits' 360
        validation images in one batch run about 1.5-2x slower than in batches of 128 (the
        activations of a 512 batch fall out of cache); the score does not depend on it.
    cost : sequence of str
        Of ``params``, ``flops``, ``macs``: added to the metrics, for multi-objective search.
    seed : int
        Chooses the recalibration batches (the same for every architecture).
    inplace : bool
        Score with the supernet's own modules instead of a copy (no compile of a subnet: faster).
        Recalibration then overwrites the supernet's running statistics, with those of the last
        architecture scored; the weights are untouched, and each score is still independent of
        the order, since every architecture's statistics are re-estimated from scratch.
    """

    def __init__(self, supernet, train, val, *, calib_batches: int = 4, batch_size: int = 64,
                 eval_batch_size: int = 128, cost=(), seed: int = 0, device=None, inplace: bool = False):
        for name, v in (("calib_batches", calib_batches), ("batch_size", batch_size),
                        ("eval_batch_size", eval_batch_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "calib_batches" else 1):
                raise NaslError(f"SupernetEvaluator option {name} must be a positive int, not {v!r}")
        bad = [c for c in cost if c not in COST_METRICS]
        if bad:
            raise NaslError(f"unknown cost metric '{bad[0]}' for SupernetEvaluator; known: {', '.join(COST_METRICS)}")
        self.supernet = supernet
        self.inplace = bool(inplace)
        self.cost = tuple(cost)
        self.device = torch.device(device) if device is not None else _device_of(supernet)
        x, y = (t.to(self.device) for t in train)
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(x), generator=g).to(self.device)
        self.calib = [x[order[i:i + batch_size]] for i in range(0, min(len(x), calib_batches * batch_size),
                                                                   batch_size)]
        self.val = [(a.to(self.device), b.to(self.device)) for a, b in _chunks(val, eval_batch_size)]
        if not self.val:
            raise NaslError("SupernetEvaluator needs at least one validation example")
        self.directions = {"val_accuracy": "max", **{c: "min" for c in self.cost}}

    def subnet(self, arch):
        """The recalibrated network of ``arch``, in eval mode: a stand-alone copy, or with ``inplace``
        the supernet's own modules (a bank's compiled network, else ``sn`` under ``sn.use(arch)``)."""
        sn = self.supernet
        if not self.inplace:
            model = sn.subnet(arch).to(self.device)
            recalibrate(model, self.calib)
            return model
        if hasattr(sn, "module_for"):                  # bank: only this architecture's BatchNorms
            model = sn.module_for(arch)
            recalibrate(model, self.calib)
            return model
        recalibrate(sn, self.calib, forward=lambda x: sn(x, arch))
        return lambda x: sn(x, arch)

    def __call__(self, arch) -> dict:
        start = time.perf_counter()
        was_training = self.supernet.training
        try:
            model = self.subnet(arch)
            loss, correct, n = 0.0, 0, 0
            with torch.inference_mode():       # no autograd bookkeeping at all (no_grad keeps version counts)
                for x, y in self.val:
                    out = model(x)
                    loss += float(F.cross_entropy(out, y, reduction="sum"))
                    correct += int((out.argmax(1) == y).sum())
                    n += len(y)
        finally:
            if self.inplace:        # recalibration left the modules it ran in eval mode: all back as they were
                self.supernet.train(was_training)
        metrics = {"val_accuracy": correct / n, "val_loss": loss / n}
        if not math.isfinite(metrics["val_loss"]):
            raise FloatingPointError(f"the validation loss of the inherited weights is {metrics['val_loss']}")
        if self.cost:
            from nasl.compiler.cost import cost
            c = cost(self.supernet.space, arch, getattr(self.supernet, "input_shape", None))
            metrics.update({m: getattr(c, m) for m in self.cost})
        metrics["eval_seconds"] = time.perf_counter() - start
        return metrics


def _chunks(pair, size):
    x, y = pair
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


def _device_of(module) -> torch.device:
    for t in list(module.parameters())[:1] + list(module.buffers())[:1]:
        return t.device
    return torch.device("cpu")


__all__ = ["SupernetEvaluator", "COST_METRICS"]
