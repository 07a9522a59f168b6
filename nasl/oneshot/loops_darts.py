"""The relaxed loops: DARTS (first and second order), SNAS, GDAS, PC-DARTS, ProxylessNAS.

One step, as in DARTS's official ``train_search.py``: an alpha step on a batch
of the alpha half of the training data (Adam), then a weight step on a batch
of the weight half (SGD, gradients clipped to norm 5). The modes differ in
what the supernet does with alpha (softmax, Gumbel, partial channels, binary
gates: the supernet's business), in the temperature (snas, gdas: annealed
linearly from ``tau_max`` to ``tau_min`` over the epochs, as GDAS does, through
``sn.set_temperature``) and in the alpha loss (proxyless: plus
``cost_weight * E[cost] / E[cost at the start]`` from ``sn.expected_cost``).

The second order (``order=2``) is DARTS's unrolled step: with
``w' = w - eta * (momentum * buf + grad_w L_train(w, a) + wd * w)``,

    grad_a L_val(w', a) - eta * [grad_a L_train(w+, a) - grad_a L_train(w-, a)] / (2 r)

where ``v = grad_w' L_val(w', a)``, ``w± = w ± r v`` and ``r = 0.01 / |v|``
(the official finite-difference Hessian-vector product). Every loss is a
``torch.func.functional_call`` of the supernet on a dict of tensors: no copy
of the model, and the real parameters are not touched until the optimiser
steps. BatchNorm buffers are cloned for those calls, so that only the real
weight step moves the running statistics.
"""
from __future__ import annotations

import torch

from nasl.oneshot.loops_base import Trainer, ce, linear

R_FD = 1e-2          # DARTS's r in the finite-difference Hessian-vector product


def hypergradient(sn, w_names, a_names, train, val, eta, momentum_buf=None, momentum=0.0, weight_decay=0.0,
                  average=None, r: float = R_FD):
    """DARTS's second-order gradient of the validation loss with respect to alpha (a dict name -> tensor).

    ``train`` and ``val`` are ``(x, y)`` batches; ``momentum_buf`` maps weight
    names to SGD's momentum buffers (None: none yet); ``average`` averages a
    list of tensors over the ranks in place (None: one process).
    """
    from torch.func import functional_call, grad
    params = dict(sn.named_parameters())
    buffers = {k: v.detach().clone() for k, v in sn.named_buffers()}
    w = {n: params[n].detach() for n in w_names}
    a = {n: params[n].detach() for n in a_names}

    def loss(wd, ad, batch, bufs):
        # the buffers are an argument (not captured) so that BatchNorm may update its copies under grad
        x, y = batch
        return ce(functional_call(sn, {**wd, **ad, **bufs}, (x,), strict=False), y)

    def reduced(g: dict) -> dict:
        if average is not None:
            average(list(g.values()))
        return g

    gw = reduced(grad(loss, argnums=0)(w, a, train, buffers))
    buf = momentum_buf or {}
    unrolled = {n: w[n] - eta * (momentum * buf[n] + gw[n] + weight_decay * w[n]) if n in buf
                else w[n] - eta * (gw[n] + weight_decay * w[n]) for n in w}
    g_w, g_a = grad(loss, argnums=(0, 1))(unrolled, a, val, buffers)
    reduced(g_w), reduced(g_a)
    norm = torch.sqrt(sum((g * g).sum() for g in g_w.values()))
    eps = r / norm
    plus = reduced(grad(loss, argnums=1)({n: w[n] + eps * g_w[n] for n in w}, a, train, buffers))
    minus = reduced(grad(loss, argnums=1)({n: w[n] - eps * g_w[n] for n in w}, a, train, buffers))
    return {n: g_a[n] - eta * (plus[n] - minus[n]) / (2 * eps) for n in a}


class RelaxedTrainer(Trainer):
    split = True

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        names = {id(p): n for n, p in self.sn.named_parameters()}
        self.w_names = [names[id(p)] for p in self.w_params]
        self.a_names = [names[id(p)] for p in self.a_params]
        self.cost0 = None           # proxyless: E[cost] at the start, the term's scale (kept in the checkpoint)

    # ------------------------------------------------------------ schedule
    def before_epoch(self) -> None:
        if self.mode in ("snas", "gdas"):
            t = self.epoch / max(self.epochs - 1, 1)
            self.tau = linear(self.o["tau_max"], self.o["tau_min"], t)
            self.sn.set_temperature(self.tau)

    def epoch_batches(self):
        # DARTS pairs each weight batch with the next alpha batch (a second, independent pass)
        for wi, ai in zip(self.batches(self.w_index, 0), self.batches(self.a_index, 1)):
            yield self.take(self.x_train, self.y_train, wi), self.take(self.x_train, self.y_train, ai)

    # ------------------------------------------------------------ one step
    def arch_loss(self, batch):
        x, y = batch
        loss = ce(self.sn(x), y)
        if self.mode == "proxyless" and self.o["cost_weight"]:
            cost = self.sn.expected_cost(self.o["cost"])
            if self.cost0 is None:
                self.cost0 = max(float(cost.detach()), 1e-12)
            loss = loss + self.o["cost_weight"] * cost / self.cost0
        return loss

    def arch_step(self, wbatch, abatch) -> None:
        self.a_opt.zero_grad(set_to_none=True)
        if self.o["order"] == 2 and self.mode == "darts":
            bufs = {n: self.w_opt.state[p]["momentum_buffer"] for n, p in zip(self.w_names, self.w_params)
                    if self.w_opt.state.get(p, {}).get("momentum_buffer") is not None}
            g = hypergradient(self.sn, self.w_names, self.a_names, wbatch, abatch, self.lr, bufs or None,
                              self.o["momentum"], self.o["weight_decay"], average=self.dist.average)
            for n, p in zip(self.a_names, self.a_params):
                p.grad = g[n].detach().clone()
        else:
            torch.autograd.backward(self.arch_loss(abatch), inputs=self.a_params)
            self.dist.average_grads(self.a_params)
        self.a_opt.step()

    def train_step(self, wbatch, abatch):
        self.arch_step(wbatch, abatch)
        x, y = wbatch
        logits = self.sn(x)
        loss = ce(logits, y)
        self.weight_step(loss)
        return loss, logits, y

    def summary(self):
        arch = self.sn.derive()
        extra = {"val_accuracy": self.accuracy(), "derived_val_accuracy": self.accuracy(arch)}
        if self.mode in ("snas", "gdas"):
            extra["tau"] = self.tau
        return arch, _plain(self.sn.probs()), extra

    def state_dict(self) -> dict:
        return {**super().state_dict(), "cost0": self.cost0}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.cost0 = state.get("cost0")


def _plain(probs) -> dict:
    """``probs()`` as JSON-able ``{path: {label: p}}`` (labels as text, as a study file holds them)."""
    return {str(p): {str(k): float(v) for k, v in d.items()} for p, d in probs.items()}
