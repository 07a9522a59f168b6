"""One-shot training loops: :func:`make_trainer` picks the loop for a supernet's mode.

:mod:`nasl.oneshot.loops_darts` trains the relaxed modes (darts, snas,
gdas, pcdarts, proxyless), :mod:`nasl.oneshot.loops_sampled` the sampled
ones (spos, enas, oneshot, ofa, bank); both subclass
:class:`nasl.oneshot.loops_base.Trainer` (options, data order, optimisers,
epochs, resumable state), re-exported here with its defaults. The loops
never read files or studies: :mod:`nasl.study.oneshot_study` drives them.
"""
from __future__ import annotations

from nasl.ir.errors import NaslError
from nasl.oneshot.loops_base import DEFAULTS, RELAXED, SAMPLED, Trainer, ce, check_options, linear
from nasl.oneshot.loops_darts import RelaxedTrainer
from nasl.oneshot.loops_sampled import SampledTrainer


def make_trainer(sn, data, epochs: int, options: dict | None = None, controller=None) -> Trainer:
    """The loop for ``sn.mode`` (``controller``: ENAS's, an ask/tell searcher the study creates)."""
    mode = getattr(sn, "mode", None)
    if mode in RELAXED:
        return RelaxedTrainer(sn, data, epochs, options)
    if mode in SAMPLED:
        if mode == "enas" and controller is None:
            raise NaslError("the enas loop needs a controller (the study makes one: the reinforce searcher)")
        return SampledTrainer(sn, data, epochs, options, controller=controller)
    raise NaslError(f"no one-shot loop for the supernet mode {mode!r}; the modes: {', '.join(RELAXED + SAMPLED)}")


__all__ = ["Trainer", "RelaxedTrainer", "SampledTrainer", "make_trainer", "DEFAULTS", "RELAXED", "SAMPLED",
           "check_options", "linear", "ce"]
