"""One PBT interval of one member: load a checkpoint, train ``k`` epochs, save a checkpoint.

:class:`SegmentEvaluator` wraps a :class:`~nasl.study.training.TrainEvaluator` (its data, batch size,
optimizer, schedule, device and threads) and follows the evaluator contract, so any runner (inline,
the process pool, Ray) carries it. The request's ``lineage["pbt"]`` says which epochs to train and
from which checkpoint (None: a fresh network, initialised under the trial's seed).

The member's hyperparameters are its architecture's float choices: a choice named ``lr`` (or
``weight_decay``) sets the optimizer's, any other (a dropout rate) is compiled into the network,
which is rebuilt from the architecture each interval and given the checkpoint's weights. The
learning-rate schedule (cosine by default) runs over the whole run's epochs and scales the
member's current ``lr``. Every interval draws its batches and dropout from the trial's seed alone,
so an interval run again after a kill gives the same weights, and the checkpoint (weights,
optimizer state, hyperparameters, epoch) is written atomically before the trial is recorded.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import time

import torch

from nasl.ir.errors import NaslError
from nasl.study import optimizers, train_data
from nasl.study.lineage import weights_path
from nasl.study.train_steps import evaluate_reshaped, train_epoch
from nasl.study.training import save_atomic

#: hyperparameter names the optimizer reads from a member's architecture
OPTIMIZER_KEYS = ("lr", "weight_decay")


def checkpoint_path(artifact_dir, trial_id: int) -> str:
    """Where a PBT interval keeps its checkpoint (weights, optimizer, hyperparameters, epoch)."""
    return os.path.join(os.fspath(artifact_dir), f"pbt_trial_{trial_id}.pt")


def hyperparameter(arch, name: str):
    """The value of the architecture's choice called ``name`` (its last path part), or None."""
    for path, value in arch.items():
        if path.rsplit(".", 1)[-1] == name and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


@contextlib.contextmanager
def seeded(seed: int, threads):
    """The trial's seed and thread count, restored afterwards (an inline run shares the process)."""
    old = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if threads:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if threads:
                torch.set_num_threads(old)


class SegmentEvaluator:
    """Train one member for one interval (see the module docstring); picklable."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.directions = dict(trainer.directions)
        self.epochs = trainer.epochs

    def __repr__(self) -> str:
        return f"SegmentEvaluator({self.trainer!r})"

    def __call__(self, request) -> dict:
        step = dict(request.lineage["pbt"])
        ev = self.trainer
        device = ev.device_for()
        with seeded(request.seed, ev.threads):
            _, model = ev.build(dataclasses.replace(request, lineage=None))
            model.to(device)
            arch = request.architecture()
            lr = hyperparameter(arch, "lr") or ev.lr
            wd = hyperparameter(arch, "weight_decay")
            opt = optimizers.make(ev.optimizer, model.parameters(), lr, ev.weight_decay if wd is None else wd)
            if step.get("checkpoint"):
                self._load(step["checkpoint"], model, opt, request.number)
            for group in opt.param_groups:            # the copied optimizer state keeps its moments, not its rate
                group["lr"] = lr
                if wd is not None:
                    group["weight_decay"] = wd
            metrics = self._train(model, opt, lr, step, request.seed, device)
        metrics["params"] = sum(p.numel() for p in model.parameters())
        folder = step["folder"]
        save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(), "arch": dict(arch),
                     "epoch": step["end"]}, checkpoint_path(folder, request.trial_id))
        # the plain state_dict too, where nasl's exports and lineage read a trial's weights
        save_atomic({k: v.detach().cpu() for k, v in model.state_dict().items()}, weights_path(folder, request.trial_id))
        return metrics

    @staticmethod
    def _load(path, model, opt, number) -> None:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
        except FileNotFoundError:
            raise NaslError(f"PBT trial {number}: its checkpoint {path} is missing") from None
        except (RuntimeError, KeyError, ValueError) as e:
            raise NaslError(f"PBT trial {number}: the checkpoint {path} does not fit its network "
                            f"(does a float choice change a layer's shape?): {str(e).splitlines()[0]}") from None

    def _train(self, model, opt, lr: float, step: dict, seed: int, device) -> dict:
        ev = self.trainer
        data = train_data.materialize(ev.data, ev.val_fraction, ev.split_seed, ev.test_fraction)
        if isinstance(data[0], torch.Tensor):
            data = tuple(t.to(device) for t in data)
        reshape = ev._reshape(model)
        shuffle = torch.Generator().manual_seed(seed)
        full = train_data.steps_per_epoch(train_data.train_size(data), ev.batch_size)
        total, done = step["total"] * full, step["start"] * full
        curve, start = [], time.perf_counter()
        for epoch in range(step["start"], step["end"]):
            loss_sum, n, done = train_epoch(
                model, opt, train_data.train_batches(data, ev.batch_size, shuffle, full, device), reshape,
                lr=lr, schedule=ev.schedule, done=done, total=total,
                diverged=lambda value, _step, e=epoch + 1: f"training diverged: the loss is {value} at epoch {e} "
                                                            f"(lr={lr:.4g})")
            val_loss, val_acc = evaluate_reshaped(model, train_data.val_batches(data, ev.eval_batch_size, device),
                                                  reshape)
            curve.append({"epoch": epoch + 1, "train_loss": loss_sum / n, "val_loss": val_loss,
                          "val_accuracy": val_acc, "lr": lr, "seconds": time.perf_counter() - start})
        last = curve[-1]
        out = {"val_accuracy": last["val_accuracy"], "val_loss": last["val_loss"], "train_loss": last["train_loss"],
               "epochs": step["end"], "curve": curve}
        if train_data.has_test(data):
            out["test_loss"], out["test_accuracy"] = evaluate_reshaped(
                model, train_data.test_batches(data, ev.eval_batch_size, device), reshape)
        return out
