"""What a trial does around its training: seeded, deterministic torch state; an atomic save; freed memory.

Split from :mod:`nasl.study.training` (which re-exports :func:`save_atomic`).
"""
from __future__ import annotations

import contextlib
import gc
import os
import warnings

import torch


def save_atomic(obj, path) -> str:
    """``torch.save`` to a temporary file beside ``path``, then rename: readers never see half a file."""
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def free_device_memory(device: torch.device) -> None:
    """After a trial has dropped its model: free the model's device memory now, not at
    some later garbage collection.

    A compiled model is a ``torch.fx.GraphModule``, whose graph points back at it, so
    dropping it does not free it: its tensors wait for a full collection, which Python
    starts by object counts, not bytes. On a GPU that can hold several dead networks'
    weights, gradients and optimizer state; there, collect at the end of each trial
    (tens of ms against a trial's seconds). On the CPU the memory comes back at the
    next full collection (every few trials), which is cheap enough to wait for."""
    if device.type != "cpu":
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()


@contextlib.contextmanager
def trial_context(seed: int, device: torch.device, threads):
    """Seeded RNGs, deterministic kernels and the thread count, all restored afterwards (inline trials)."""
    old_threads = torch.get_num_threads()
    old_det = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    old_cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    cuda = [device.index or 0] if device.type == "cuda" else []
    if cuda:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")   # deterministic cuBLAS
    try:
        with torch.random.fork_rng(devices=cuda), warnings.catch_warnings():
            # with warn_only, every call of a kernel without a deterministic version warns; once is enough
            warnings.filterwarnings("once", message=".*does not have a deterministic implementation")
            torch.manual_seed(seed)
            if threads:
                torch.set_num_threads(threads)
            # warn_only: an op without a deterministic kernel still runs rather than failing the trial
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
            yield
    finally:
        torch.use_deterministic_algorithms(old_det[0], warn_only=old_det[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = old_cudnn
        if threads:
            torch.set_num_threads(old_threads)
