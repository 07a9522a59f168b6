"""The sampled loops: SPOS, ENAS, One-Shot (Bender et al.), Once-for-All and the weight bank.

Each weight step trains one architecture of the supernet (``sn(x)`` under
``sn.use(arch)``; all the training data train the weights):

- ``spos``, ``bank``: uniform over the valid architectures (``sn.sample_arch``);
- ``enas``: drawn from the controller, an ask/tell searcher (the study gives
  the ``reinforce`` searcher); after each epoch's weight steps the controller
  takes ``controller_steps`` samples, each rewarded with its accuracy on one
  validation batch (shared weights frozen), and learns from them by tell;
- ``oneshot``: no architecture; every path runs, with path dropout whose rate
  rises linearly from 0 to ``drop_rate`` over the steps (``sn.set_drop_rate``);
- ``ofa``: progressive shrinking. The epochs are cut into phases (shares
  ``phases``): the largest network, then elastic kernels sampled, then depths
  too, then widths too; the choices not yet released stay at their largest
  value. From the second phase on, the loss adds ``kd_ratio`` times the KL
  divergence to the largest subnet's soft predictions (computed without
  gradient on the same batch).

At the end of an epoch, ``eval_archs`` architectures (the controller's for
enas) are scored on the validation data; the best is the epoch's
architecture, recorded with its accuracy.
"""
from __future__ import annotations

import random

import torch
import torch.nn.functional as F

from nasl.ir.architecture import Architecture
from nasl.ir.errors import NaslError
from nasl.oneshot.loops_base import Trainer, ce, linear

PHASES = ("full", "kernel", "depth", "width")


class SampledTrainer(Trainer):
    split = False

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.total_steps = self.epochs * (len(self.w_index) // self.o["batch_size"])
        self.kinds = elastic_kinds(self.sn) if self.mode == "ofa" else {}
        self.rewards: list[float] = []

    def before_epoch(self) -> None:
        # OFA re-sorts the expanded channels by L1 importance as the width phase starts (once: the
        # checkpoint of the epoch before holds the unsorted weights, so a resume sorts here too)
        if self.mode == "ofa" and hasattr(self.sn, "sort_channels") and PHASES[self.phase()] == "width" \
                and (self.epoch == 0 or PHASES[self.phase(self.epoch - 1)] != "width"):
            self.sn.sort_channels()

    # ------------------------------------------------------------ architectures
    def phase(self, epoch: int | None = None) -> int:
        shares = self.o["phases"]
        edges, acc = [], 0.0
        for s in shares:
            acc += s
            edges.append(acc / sum(shares) * self.epochs)
        at = self.epoch if epoch is None else epoch
        return next((i for i, e in enumerate(edges) if at < e - 1e-9), len(PHASES) - 1)

    def largest(self, arch: Architecture) -> Architecture:
        """``arch`` with every elastic choice at its largest value."""
        return self._restrict(arch, released=())

    def _restrict(self, arch, released) -> Architecture:
        values = dict(arch)
        for path, kind in self.kinds.items():
            if kind not in released and path in values:
                values[path] = max(self.domains[path])
        out = Architecture(values)
        self.sn.space.validate(out)
        return out

    @property
    def domains(self) -> dict:
        if not hasattr(self, "_domains"):
            self._domains = {c.path: tuple(c.domain) for c in self.sn.space.spec.all_choices()}
        return self._domains

    def next_arch(self):
        if self.mode == "oneshot":
            return None
        if self.mode == "enas":
            return ask(self.controller)
        arch = self.sn.sample_arch(self.rng)
        if self.mode == "ofa":
            arch = self._restrict(arch, PHASES[1:self.phase() + 1])
        return arch

    # ------------------------------------------------------------ one step
    def train_step(self, batch):
        x, y = batch
        arch = self.next_arch()
        if self.mode == "oneshot":
            self.sn.set_drop_rate(linear(0.0, self.o["drop_rate"], self.step_count / max(self.total_steps, 1)))
            logits = self.sn(x)
        else:
            with self.sn.use(arch):
                logits = self.sn(x)
        loss = ce(logits, y)
        if self.mode == "ofa" and self.phase() > 0 and self.o["kd_ratio"]:
            with torch.no_grad(), self.sn.use(self.largest(arch)):
                soft = F.softmax(self.sn(x), 1)
            loss = loss + self.o["kd_ratio"] * F.kl_div(F.log_softmax(logits, 1), soft, reduction="batchmean")
        self.weight_step(loss)
        return loss, logits, y

    # ------------------------------------------------------------ the end of an epoch
    def controller_phase(self) -> float:
        """ENAS: sample, reward with one validation batch's accuracy, tell; the mean reward."""
        rewards = []
        self.sn.train()          # BatchNorm with the batch's statistics: shared weights have no fit running ones
        g = torch.Generator().manual_seed(hash((self.o["seed"], self.epoch, 2)) & (2 ** 62 - 1))
        b = min(self.o["batch_size"], len(self.x_val))
        for _ in range(self.o["controller_steps"]):
            arch = ask(self.controller, keep=True)
            idx = self.dist.shard(torch.randperm(len(self.x_val), generator=g)[:b - b % self.dist.world])
            with torch.no_grad(), self.sn.use(arch):
                correct = float((self.sn(self.x_val[idx]).argmax(1) == self.y_val[idx]).sum())
            correct, seen = self.dist.sum([correct, float(len(idx))])
            reward = correct / seen
            self.controller.tell(arch, {"val_accuracy": reward})
            rewards.append(reward)
        return sum(rewards) / len(rewards)

    def summary(self):
        extra = {}
        if self.mode == "enas":
            extra["controller_reward"] = self.controller_phase()
            candidates = [ask(self.controller) for _ in range(self.o["eval_archs"])]
        else:
            rng = random.Random(hash((self.o["seed"], self.epoch, 3)))
            candidates = [self.sn.sample_arch(rng) for _ in range(self.o["eval_archs"])]
            if self.mode == "ofa":
                candidates = [self._restrict(a, PHASES[1:self.phase() + 1]) for a in candidates]
                extra["phase"] = float(self.phase())
        if self.mode == "oneshot":
            extra["drop_rate"] = linear(0.0, self.o["drop_rate"], self.step_count / max(self.total_steps, 1))
        scored = [(self.accuracy(a), i, a) for i, a in enumerate(candidates)]
        best = max(scored, key=lambda s: (s[0], -s[1]))
        extra["val_accuracy"] = best[0]
        extra["mean_val_accuracy"] = sum(s[0] for s in scored) / len(scored)
        return best[2], None, extra


def ask(controller, keep: bool = False) -> Architecture:
    """An architecture from the controller's policy. A weight step's sample is not told back (ENAS trains the
    shared weights on the policy's samples, and learns only from the controller phase), so it is dropped
    from the searcher's pending asks, which would otherwise grow for the whole run."""
    arch = controller.ask()
    if not keep:
        controller.pending.pop(arch, None)
    return arch


def elastic_kinds(sn) -> dict:
    """``{choice path: "kernel" | "depth" | "width"}`` of the supernet's elastic choices (OFA's phases).

    The supernet says so with ``sn.elastic_kinds()``; without it, a numeric
    choice is classed by its name (``kernel``/``k`` -> kernel, ``depth``/
    ``repeat``/``n`` -> depth, others -> width).
    """
    if hasattr(sn, "elastic_kinds"):
        return dict(sn.elastic_kinds())
    out = {}
    for c in sn.space.spec.all_choices():
        dom = tuple(c.domain)
        if not dom or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in dom):
            continue
        leaf = c.path.rsplit(".", 1)[-1].split("[")[0].lower()
        out[c.path] = "kernel" if leaf in ("k", "kernel", "ks", "kernel_size") else \
            "depth" if leaf in ("depth", "d", "n", "repeat", "repeats", "layers") else "width"
    if not out:
        raise NaslError("the ofa loop found no elastic (kernel, depth or width) choice in the space")
    return out


__all__ = ["SampledTrainer", "elastic_kinds", "ask", "PHASES"]
