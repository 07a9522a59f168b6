"""``nasl.study.oneshot_search``: a one-shot run (a supernet trained for some epochs) as a study.

A one-shot run is a study whose trials are epochs: trial ``e`` is epoch ``e``,
its architecture the one derived at the end of that epoch (relaxed modes:
``sn.derive()``; sampled modes: the best of ``eval_archs`` sampled ones on the
validation data), its metrics the epoch's (``val_accuracy``, ``train_loss``,
``lr``, ...). So ``nasl study show``, ``plot``, ``export`` and ``nasl train``
(retraining an epoch's architecture from scratch with the digits evaluator)
work on it unchanged. The study row records the searcher as
``oneshot:<mode>`` with the loop's options, and as evaluator the digits
training evaluator that retrains a derived architecture.

Beside the study file ``S.db`` (:func:`paths`):

- ``S.db.ckpt``: the loop's checkpoint after the last finished epoch
  (:mod:`nasl.oneshot.checkpoint`), for ``resume``;
- ``S-supernet.pt``: the trained supernet, as ``sn.save`` writes it, for
  searching it afterwards (``--supernet``, the ``supernet:PATH`` evaluator).

The study file gets one table of its own, the one the dashboard shows,
``oneshot_epochs(epoch, alphas, derived, metrics)``: ``sn.probs()`` after each
epoch as JSON ``{path: {label: p}}`` (``{}`` in sampled modes), the derived
architecture's JSON and the epoch's metrics.
Per epoch the checkpoint is written first, then the trial: a kill between
the two leaves an epoch in the checkpoint that the study lacks, and resume
records it from the checkpoint's history before it trains on.
"""
from __future__ import annotations

import json

from nasl.ir.errors import NaslError
from nasl.study.oneshot_record import EPOCHS_TABLE, RETRAIN, paths



class OneShotResult:
    """What :func:`oneshot_search` returns: the ``study``, the trained ``supernet``, the final ``arch``,
    the per-epoch ``history`` and the files written (``checkpoint``, ``supernet_path``)."""

    def __init__(self, study, supernet, arch, history, checkpoint, supernet_path):
        self.study, self.supernet, self.arch, self.history = study, supernet, arch, history
        self.checkpoint, self.supernet_path = checkpoint, supernet_path

    def __repr__(self) -> str:
        return f"<OneShotResult {self.supernet.mode} epochs={len(self.history)} arch={self.arch.id}>"


def oneshot_search(space=None, mode: str | None = None, epochs: int | None = None, storage=None, *, resume=False,
                   options=None, supernet_options=None, data=None, seed: int | None = None, params=None,
                   progress: bool = True, force: bool = False, stop_after: int | None = None, threads: int | None = 1):
    """Train a ``mode`` supernet of ``space`` for ``epochs`` and record each epoch; an :class:`OneShotResult`.

    ``options`` go to the loop (:data:`nasl.oneshot.loops.DEFAULTS`: ``order=2``, ``batch_size``, ``lr``,
    ``arch_lr``, ``cost_weight``, ...), ``supernet_options`` to ``nasl.compile_supernet``. ``data`` is
    ``(x_train, y_train, x_val, y_val)`` tensors (default: the bundled digits, less a test fifth kept for
    retraining). ``resume=True`` continues the run in ``storage`` bit for bit from its checkpoint (space,
    mode and options default to the recorded ones; given ones must agree). ``stop_after`` stops after that
    many epochs in this call (a run to resume later). ``threads`` is torch's CPU thread count for the run (1, as
    the digits trainer's default: small networks gain nothing from more; None leaves torch's). Under ``torch.distributed`` every rank calls it with
    the same arguments; rank 0 writes the files.
    """
    from nasl.study import oneshot_record as rec
    if threads is not None:
        import torch
        torch.set_num_threads(int(threads))
    if data is None:
        from nasl.study.digits import load_digits_split
        data = load_digits_split(0, 0.2, RETRAIN["test_fraction"])[:4]
    # the networks take the data's images and predict its classes: recorded, so that resume, the supernet
    # file and a retraining rebuild the same network (a space's `param classes`, as the digits trainer sets it)
    shape = [int(d) for d in data[0].shape[1:]]
    classes = int(data[1].max()) + 1
    setup = rec.prepare(space, mode, epochs, storage, resume, options, supernet_options, seed, params, force,
                        inputs=(shape, classes))
    try:
        return _run(setup, data, progress, stop_after)
    finally:
        setup.close()


def _run(setup, data, progress, stop_after):
    from nasl.oneshot import checkpoint as ckpt
    from nasl.oneshot.loops import make_trainer
    from nasl.study import oneshot_record as rec
    from nasl.study.loop import progress_bar
    cfg = setup.config
    space = setup.space
    if not setup.resuming:
        _seed_all(cfg["seed"])
    from nasl.oneshot import compile_supernet
    sn = compile_supernet(space, cfg["mode"], **cfg["supernet_options"])
    controller = _controller(cfg, space) if cfg["mode"] == "enas" else None
    trainer = make_trainer(sn, data, cfg["epochs"], dict(cfg["options"], seed=cfg["seed"]), controller=controller)
    if setup.state is not None:
        trainer.load_state_dict(setup.state)
        setup.catch_up(trainer.history)
    main = trainer.dist.main
    bar = progress_bar(progress and main, cfg["epochs"], trainer.epoch)     # the study's bar, in epochs
    done_here = [0]

    def on_epoch(record):
        if main:
            if setup.checkpoint is not None:
                state = dict(trainer.state_dict(), supernet_options=json.dumps(cfg["supernet_options"]))
                ckpt.save(setup.checkpoint, state, sn)
            setup.record(record)
        if bar is not None:
            bar.set_postfix_str(f"val_accuracy={record['metrics']['val_accuracy']:.4f}", refresh=False)
            bar.update(1)
        done_here[0] += 1
        if stop_after is not None and done_here[0] >= stop_after and trainer.epoch < trainer.epochs:
            raise _Stop

    try:
        trainer.run(on_epoch)
    except _Stop:
        pass
    finally:
        if bar is not None:
            bar.close()
    if main and setup.supernet_path is not None:
        rec.save_supernet(sn, space, cfg["supernet_options"], setup.supernet_path)
    from nasl.ir.architecture import Architecture
    arch = Architecture.from_json(_final(trainer.history, cfg["mode"])["arch"])
    return OneShotResult(setup.study(), sn, arch, trainer.history, setup.checkpoint, setup.supernet_path)


class _Stop(Exception):
    pass


def _final(history, mode) -> dict:
    """The run's answer: the last epoch's derived architecture (relaxed modes), or the best epoch's (sampled)."""
    from nasl.oneshot.loops import RELAXED
    if mode in RELAXED:
        return history[-1]
    return max(history, key=lambda r: (r["metrics"]["val_accuracy"], r["epoch"]))


def final_trial(study):
    """The trial of :func:`_final` in a recorded one-shot study (what the command line prints and exports)."""
    mode = study.config["searcher"].partition(":")[2]
    trials = study.completed()
    if not trials:
        raise NaslError(f"the one-shot study '{study.path}' has no finished epoch yet")
    from nasl.oneshot.loops import RELAXED
    if mode in RELAXED:
        return trials[-1]
    return max(trials, key=lambda t: (t.metrics["val_accuracy"], t.number))


def _controller(cfg, space):
    """ENAS's controller: the reinforce searcher, proposing repeats (a policy, not a search without repeats)."""
    from nasl.searchers import create
    return create("reinforce", space.spec, seed=cfg["seed"], dedup=False,
                  **dict(cfg.get("controller_options") or {"batch_size": 5}))


def _seed_all(seed: int) -> None:
    import random

    import numpy as np
    import torch
    torch.manual_seed(seed)
    np.random.seed(seed % 2 ** 32)
    random.seed(seed)


__all__ = ["oneshot_search", "OneShotResult", "paths", "final_trial", "EPOCHS_TABLE"]
