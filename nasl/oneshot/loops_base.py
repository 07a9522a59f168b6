"""One-shot training loops: the shared part (options, data order, optimisers, epochs, state).

A loop trains a supernet ``sn`` (the interface of docs/oneshot.md) for a
number of epochs. :class:`Trainer` is what every loop shares;
:mod:`nasl.oneshot.loops_darts` (the relaxed modes) and
:mod:`nasl.oneshot.loops_sampled` (the sampled ones) subclass it, and
:func:`nasl.oneshot.loops.make_trainer` picks one (this module imports
neither, so the three form no import cycle). Data are tensors ``(x_train, y_train,
x_val, y_val)``; the loops never read files or studies (they are driven
from :mod:`nasl.study.oneshot_study`).

Determinism: the order of the batches of epoch ``e`` comes from a generator
seeded with ``(seed, e)``; architecture sampling from ``self.rng`` (a
``random.Random``); Gumbel noise and path dropout from torch's global RNG.
:meth:`Trainer.state_dict` holds all of them, so a resumed run continues
bit for bit on CPU.
"""
from __future__ import annotations

import json
import math
import random

import torch
import torch.nn.functional as F

from nasl.ir.errors import NaslError
from nasl.oneshot.loops_dist import Dist

RELAXED = ("darts", "snas", "gdas", "pcdarts", "proxyless")
SAMPLED = ("spos", "enas", "oneshot", "ofa", "bank")

# the defaults; those of the weights and alpha are DARTS's (Liu et al. 2019, the official train_search.py)
DEFAULTS = dict(
    batch_size=64, lr=0.025, lr_min=0.001, momentum=0.9, weight_decay=3e-4, grad_clip=5.0,
    arch_lr=3e-4, arch_betas=(0.5, 0.999), arch_weight_decay=1e-3,
    order=1,                    # darts: 1 first order, 2 the unrolled second order
    train_portion=0.5,          # relaxed modes: this share of the training data trains the weights, the rest alpha
    tau_max=10.0, tau_min=0.1,  # snas/gdas: the temperature, annealed linearly over the epochs (GDAS)
    cost="flops", cost_weight=0.0,  # proxyless: lambda * E[cost] / E[cost at the start]; cost a metric or a table
    drop_rate=0.5,              # oneshot (Bender et al.): path dropout rises linearly from 0 to this
    eval_archs=10,              # sampled modes: architectures scored on the validation data each epoch
    controller_steps=20,        # enas: controller samples (one validation batch each) per epoch
    kd_ratio=1.0,               # ofa: weight of the distillation loss from the largest subnet
    phases=(0.25, 0.25, 0.25, 0.25),  # ofa: shares of the epochs for full, kernel, depth, width
    populate=50,                # bank: architectures compiled before training, so their weights are banked
    seed=0,
)


def check_options(mode: str, options: dict) -> dict:
    """The defaults with ``options`` over them; an unknown name is a one-line NaslError."""
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        from nasl.ir.errors import did_you_mean
        raise NaslError(f"one-shot mode '{mode}' has no option '{unknown[0]}'; its options: "
                        f"{', '.join(sorted(DEFAULTS))}", hint=did_you_mean(unknown[0], sorted(DEFAULTS)))
    out = {**DEFAULTS, **options}
    for key in ("arch_betas", "phases"):
        out[key] = tuple(out[key])
    if out["order"] not in (1, 2):
        raise NaslError(f"order is 1 (first-order DARTS) or 2 (second order), not {out['order']!r}")
    if not (isinstance(out["batch_size"], int) and out["batch_size"] >= 1):
        raise NaslError(f"batch_size must be a positive integer, not {out['batch_size']!r}")
    if not 0 < out["train_portion"] < 1:
        raise NaslError(f"train_portion must be strictly between 0 and 1, not {out['train_portion']!r}")
    return out


class Trainer:
    """The epoch loop every mode shares; a subclass gives :meth:`train_step` and :meth:`summary`."""

    split = True            # relaxed modes: the training data is split for the weights and alpha

    def __init__(self, sn, data, epochs: int, options: dict | None = None, controller=None):
        self.sn, self.mode = sn, sn.mode
        self.o = check_options(self.mode, dict(options or {}))
        if not (isinstance(epochs, int) and epochs >= 1):
            raise NaslError(f"epochs must be a positive integer, not {epochs!r}")
        self.epochs, self.controller = epochs, controller
        self.x_train, self.y_train, self.x_val, self.y_val = data[:4]
        self.dist = Dist()
        self.dist.broadcast_module(sn)
        self.rng = random.Random(self.o["seed"])
        self.epoch, self.step_count, self.history = 0, 0, []
        o = self.o
        if hasattr(sn, "populate"):
            sn.populate(o["populate"], self.o["seed"])      # bank: its weights exist once architectures were seen
        self.w_params, self.a_params = list(sn.weights()), list(sn.arch_parameters())
        self.w_opt = torch.optim.SGD(self.w_params, o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"])
        self.a_opt = torch.optim.Adam(self.a_params, o["arch_lr"], betas=o["arch_betas"],
                                      weight_decay=o["arch_weight_decay"]) if self.a_params else None
        n = len(self.x_train)
        cut = int(n * o["train_portion"]) if self.split else n
        self.w_index, self.a_index = torch.arange(cut), torch.arange(cut, n) if self.split else torch.arange(0)
        if len(self.w_index) < o["batch_size"] or (self.split and len(self.a_index) < o["batch_size"]):
            raise NaslError(f"the batch size {o['batch_size']} is larger than the data ({n} training images, "
                            f"{'split in two' if self.split else 'all for the weights'})")

    # ------------------------------------------------------------ data
    def batches(self, index: torch.Tensor, salt: int):
        """The global batches of one pass over ``index`` (shuffled by ``(seed, epoch, salt)``; the last partial
        batch is dropped so that every step, and every rank's share, has the same size)."""
        g = torch.Generator().manual_seed(hash((self.o["seed"], self.epoch, salt)) & (2 ** 62 - 1))
        order = index[torch.randperm(len(index), generator=g)]
        b = self.o["batch_size"]
        for i in range(len(order) // b):
            idx = self.dist.shard(order[i * b:(i + 1) * b])
            yield idx

    def take(self, x, y, idx):
        return x[idx], y[idx]

    # ------------------------------------------------------------ epochs
    @property
    def lr(self) -> float:
        return self.w_opt.param_groups[0]["lr"]

    def epoch_lr(self, epoch: int) -> float:
        """DARTS's cosine schedule (``CosineAnnealingLR(T_max=epochs, eta_min=lr_min)``, in closed form): ``lr``
        at epoch 0 down towards ``lr_min``. Set on every parameter group at the start of an epoch, so that
        groups a bank adds later follow it too (a scheduler object only knows the groups it began with)."""
        o = self.o
        return o["lr_min"] + 0.5 * (o["lr"] - o["lr_min"]) * (1 + math.cos(math.pi * epoch / self.epochs))

    def weight_step(self, loss) -> None:
        """Backward into the weights only (alpha's gradient is not wanted here), average, clip, step."""
        if hasattr(self.sn, "add_new_weights"):         # bank: nodes first seen in this step's architecture
            self.sn.add_new_weights(self.w_opt)
            self.w_params = list(self.sn.weights())
        self.w_opt.zero_grad(set_to_none=True)
        torch.autograd.backward(loss, inputs=[p for p in self.w_params if p.requires_grad])
        self.dist.average_grads(self.w_params)
        torch.nn.utils.clip_grad_norm_(self.w_params, self.o["grad_clip"])
        self.w_opt.step()

    def before_epoch(self) -> None:
        """Schedules that change per epoch (temperature, dropout, OFA's phase)."""

    def train_epoch(self) -> dict:
        """One epoch; returns its record ``{"epoch", "metrics", "arch", "probs"}`` (also appended to history)."""
        self.sn.train()
        for group in self.w_opt.param_groups:
            group["lr"] = self.epoch_lr(self.epoch)
        self.before_epoch()
        totals = [0.0, 0.0, 0.0]          # loss sum, correct, examples
        lr = self.lr
        for parts in self.epoch_batches():
            loss, logits, y = self.train_step(*parts)
            self.step_count += 1
            totals[0] += float(loss.detach()) * len(y)
            totals[1] += float((logits.detach().argmax(1) == y).sum())
            totals[2] += len(y)
        loss_sum, correct, seen = self.dist.sum(totals)
        metrics = {"train_loss": loss_sum / max(seen, 1), "train_accuracy": correct / max(seen, 1), "lr": lr}
        arch, probs, extra = self._isolated(self.summary)
        metrics.update(extra)
        record = {"epoch": self.epoch, "metrics": metrics, "arch": arch.to_json(), "probs": probs}
        self.epoch += 1
        self.history.append(record)
        return record

    def _isolated(self, fn):
        """``fn()`` without touching the training's random streams: evaluation (derive, scoring, a supernet
        building a cached plan for an architecture it meets first) must not shift them, or a resumed run,
        whose caches start empty, would draw other numbers than the uninterrupted one."""
        gens = _generators(self.sn)
        saved = torch.get_rng_state(), {k: g.get_state() for k, g in gens.items()}
        try:
            return fn()
        finally:
            torch.set_rng_state(saved[0])
            for k, g in gens.items():
                g.set_state(saved[1][k])

    def epoch_batches(self):
        for idx in self.batches(self.w_index, 0):
            yield (self.take(self.x_train, self.y_train, idx),)

    def train_step(self, batch):
        raise NotImplementedError

    def summary(self):
        """``(architecture, probs or None, extra metrics)`` at the end of an epoch."""
        raise NotImplementedError

    @torch.no_grad()
    def accuracy(self, arch=None, x=None, y=None, batch_size: int = 512) -> float:
        """Accuracy on the validation data (this rank's share of it, summed over ranks) of the supernet, or of
        ``arch`` in it, in eval mode."""
        x = self.x_val if x is None else x
        y = self.y_val if y is None else y
        was = self.sn.training
        self.sn.eval()
        idx = self.dist.shard(torch.arange(len(x) - len(x) % self.dist.world))
        correct = 0.0
        for i in range(0, len(idx), batch_size):
            j = idx[i:i + batch_size]
            out = self.sn(x[j]) if arch is None else self.sn(x[j], arch)
            correct += float((out.argmax(1) == y[j]).sum())
        self.sn.train(was)
        correct, seen = self.dist.sum([correct, float(len(idx))])
        return correct / max(seen, 1.0)

    def run(self, on_epoch=None) -> list:
        """Train the remaining epochs; ``on_epoch(record)`` after each (the study records and checkpoints)."""
        while self.epoch < self.epochs:
            record = self.train_epoch()
            if on_epoch is not None:
                on_epoch(record)
        return self.history

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict:
        import numpy as np
        kind, keys, pos, has_gauss, gauss = np.random.get_state()
        version, internal, py_gauss = random.getstate()
        lv, linternal, lgauss = self.rng.getstate()
        return {
            "mode": self.mode, "epoch": self.epoch, "epochs": self.epochs, "step_count": self.step_count,
            "options": json.dumps(self.o), "history": json.dumps(self.history),
            "model": self.sn.state_dict(), "w_opt": self._sgd_state(),
            "supernet": self.sn.checkpoint() if hasattr(self.sn, "checkpoint") else None,
            "a_opt": None if self.a_opt is None else self.a_opt.state_dict(),
            "controller": None if self.controller is None else json.dumps(self.controller.state_dict()),
            "rng": {"torch": torch.get_rng_state(), "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos,
                                                             has_gauss, gauss],
                    "python": [version, list(internal), py_gauss], "loop": [lv, list(linternal), lgauss],
                    "supernet": {k: g.get_state() for k, g in _generators(self.sn).items()}},
        }

    def _sgd_state(self) -> dict:
        return _sgd_state_of(self)

    def _load_sgd_state(self, buffers: dict) -> None:
        if hasattr(self.sn, "add_new_weights"):
            self.sn.add_new_weights(self.w_opt)
            self.w_params = list(self.sn.weights())
        by_name = dict(self.sn.named_parameters())
        unknown = sorted(set(buffers) - set(by_name))
        if unknown:
            raise NaslError(f"the checkpoint's optimiser has state for '{unknown[0]}', which this supernet lacks")
        self.w_opt.state.clear()
        for name, buf in buffers.items():
            self.w_opt.state[by_name[name]] = {"momentum_buffer": buf.clone()}

    def load_state_dict(self, state: dict) -> None:
        import numpy as np
        if state.get("supernet") is not None and hasattr(self.sn, "load_checkpoint"):
            self.sn.load_checkpoint(state["supernet"])        # bank: rebuild the banked modules first
        else:
            # checked first: load_state_dict would copy the tensors that fit before it refused the rest
            mine = {k: tuple(v.shape) for k, v in self.sn.state_dict().items()}
            theirs = {k: tuple(v.shape) for k, v in state["model"].items()}
            if mine != theirs:
                k = sorted(set(mine) ^ set(theirs)) or [k for k in mine if mine[k] != theirs[k]]
                raise NaslError(f"the checkpoint does not fit this supernet (other supernet options?): "
                                f"the tensor '{k[0]}' is missing or has another shape")
            self.sn.load_state_dict(state["model"])
        self._load_sgd_state(state["w_opt"])
        if self.a_opt is not None:
            self.a_opt.load_state_dict(state["a_opt"])
        if self.controller is not None and state.get("controller"):
            self.controller.load_state_dict(json.loads(state["controller"]))
        self.epoch, self.step_count = int(state["epoch"]), int(state["step_count"])
        self.history = json.loads(state["history"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        kind, keys, pos, has_gauss, gauss = rng["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
        random.setstate((rng["python"][0], tuple(rng["python"][1]), rng["python"][2]))
        self.rng.setstate((rng["loop"][0], tuple(rng["loop"][1]), rng["loop"][2]))
        gens = _generators(self.sn)
        for key, value in (rng.get("supernet") or {}).items():
            if key in gens:
                gens[key].set_state(value)


def _generators(sn) -> dict:
    """The ``torch.Generator`` s a supernet keeps for itself (Gumbel noise, path dropout), by module and
    attribute: their states are part of a bit-exact resume."""
    out = {}
    for name, module in sn.named_modules():
        for attr, value in vars(module).items():
            if isinstance(value, torch.Generator):
                out[f"{name}:{attr}"] = value
    return out


def _names(module) -> dict:
    return {id(p): n for n, p in module.named_parameters()}


def _sgd_state_of(trainer) -> dict:
    """SGD's state keyed by parameter name, not position: a bank's parameters are not in a fixed order."""
    names = _names(trainer.sn)
    return {names[id(p)]: st["momentum_buffer"] for p, st in trainer.w_opt.state.items()
            if st.get("momentum_buffer") is not None}


def ce(logits, y):
    return F.cross_entropy(logits, y)


def linear(start: float, end: float, t: float) -> float:
    """``start`` at t=0 to ``end`` at t=1 (GDAS's temperature, Bender's dropout)."""
    t = min(max(t, 0.0), 1.0)
    return start + (end - start) * t


__all__ = ["Trainer", "DEFAULTS", "RELAXED", "SAMPLED", "check_options", "linear", "ce"]
