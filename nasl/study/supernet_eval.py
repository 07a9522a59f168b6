"""The ``supernet:PATH`` evaluator: a study's trials scored with a trained supernet's weights.

``nasl.search(space, evaluator="supernet:sn.pt", searcher=...)`` runs any
searcher on a supernet that ``sn.save("sn.pt")`` wrote (any mode): each trial
is :class:`nasl.oneshot.evaluator.SupernetEvaluator` on the digits split,
BatchNorm recalibrated on a few training batches, then validation accuracy.
It is an ordinary evaluator (:mod:`nasl.study.protocol`), so resume, workers,
``cost=["params", "flops"]`` and Pareto fronts work unchanged.

A study file records the spec and the options (``-E calib_batches=8``), never
code: the checkpoint is read with ``torch.load(weights_only=True)``
(:mod:`nasl.oneshot.saving`). Before the first trial, :meth:`check_space`
loads it on the study's space, so a checkpoint of another space or mode, or
a corrupt file, stops the search with one line instead of failing every trial.
The same architecture gets the same score in every trial and process: the
subnet holds copies of the weights and the recalibration batches are fixed.
"""
from __future__ import annotations

import contextlib
import os

from nasl.ir.errors import NaslError

_LOADED: dict = {}          # per process: (path, mtime, size, space fingerprint) -> supernet


class SupernetStudyEvaluator:
    """Score a trial's architecture with a supernet checkpoint's inherited weights (see the module doc).

    Options: ``calib_batches`` / ``batch_size`` (BatchNorm recalibration), ``eval_batch_size``,
    ``calib_seed``, ``inplace`` (score with the supernet's own modules, no subnet copy; see
    :class:`~nasl.oneshot.evaluator.SupernetEvaluator`), ``mode`` (the checkpoint's mode must be this one), ``val_fraction`` /
    ``split_seed`` (the digits split), ``device``, ``threads``. ``input_shape`` / ``num_classes``
    are what a study records of the networks (digits: ``[1, 8, 8]``, 10).
    """

    def __init__(self, path: str, *, calib_batches: int = 4, batch_size: int = 64, eval_batch_size: int = 128,
                 calib_seed: int = 0, inplace: bool = False, mode: str | None = None, val_fraction: float = 0.2, split_seed: int = 0,
                 device: str | None = None, threads: int | None = 1, input_shape=None, num_classes=None):
        from nasl.oneshot.saving import read
        from nasl.study.digits import INPUT_SHAPE, NUM_CLASSES
        self.path = os.path.abspath(os.fspath(path))
        data = read(self.path)           # a missing or corrupt file fails before the study starts
        if mode is not None and data.get("mode") != mode:
            raise NaslError(f"the supernet checkpoint '{path}' is a '{data.get('mode')}' supernet, not '{mode}'")
        shape = data["options"].get("input_shape") or INPUT_SHAPE
        self.input_shape = tuple(input_shape) if input_shape is not None else tuple(shape)
        self.num_classes = NUM_CLASSES if num_classes is None else num_classes
        if self.num_classes != NUM_CLASSES:
            raise NaslError(f"the supernet evaluator scores on the digits ({NUM_CLASSES} classes), "
                            f"not {self.num_classes} classes")
        self.options = dict(calib_batches=calib_batches, batch_size=batch_size, eval_batch_size=eval_batch_size,
                            seed=calib_seed, inplace=bool(inplace))
        self.mode, self.val_fraction, self.split_seed = data.get("mode"), val_fraction, split_seed
        self.device, self.threads = device, threads
        self.directions = {"val_accuracy": "max"}
        self._core = None

    def __repr__(self) -> str:
        return f"SupernetStudyEvaluator({self.path!r}, mode={self.mode!r})"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_core"] = None                       # a worker loads the checkpoint itself
        return state

    # ------------------------------------------------------------------ the evaluator contract
    def supernet(self, space):
        """The checkpoint's supernet on ``space`` (loaded once per process and file version)."""
        from nasl.oneshot.saving import load_supernet, space_fingerprint
        try:
            st = os.stat(self.path)
        except OSError:
            raise NaslError(f"no supernet checkpoint at '{self.path}'") from None
        key = (self.path, st.st_mtime_ns, st.st_size, space_fingerprint(space))
        sn = _LOADED.get(key)
        if sn is None:
            sn = load_supernet(self.path, space)
            if self.device is not None:
                sn.to(self.device)
            _LOADED.clear()                        # one supernet per process: they can be large
            _LOADED[key] = sn
        return sn

    def check_space(self, space) -> None:
        """Load the checkpoint on the study's space now: another space or mode fails before any trial."""
        self._evaluator(space)

    def warm_up(self) -> None:
        from nasl.study.digits import load_digits_split
        load_digits_split(self.split_seed, self.val_fraction)

    def _evaluator(self, space):
        sn = self.supernet(space)
        if self._core is None or self._core.supernet is not sn:
            from nasl.oneshot.evaluator import SupernetEvaluator
            from nasl.study.digits import load_digits_split
            x_tr, y_tr, x_va, y_va = load_digits_split(self.split_seed, self.val_fraction)
            self._core = SupernetEvaluator(sn, (x_tr, y_tr), (x_va, y_va), device=self.device, **self.options)
        return self._core

    def __call__(self, request) -> dict:
        core = self._evaluator(request.load_space())
        with _scoring_context(core.device, self.threads):
            return core(request.architecture())


@contextlib.contextmanager
def _scoring_context(device, threads):
    """The trial's thread count, and cuDNN's deterministic kernels on a GPU, restored afterwards. Scoring
    draws nothing at random, and forward passes need no more (``torch.use_deterministic_algorithms``
    would import torch._dynamo, seconds on a busy machine, for nothing here)."""
    import torch
    old_threads = torch.get_num_threads()
    old_cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    try:
        if threads:
            torch.set_num_threads(threads)
        if device.type == "cuda":
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        yield
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = old_cudnn
        if threads:
            torch.set_num_threads(old_threads)


__all__ = ["SupernetStudyEvaluator"]
