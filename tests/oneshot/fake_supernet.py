"""A small hand-written supernet of ``nasl/spaces/digits.nas`` with the ``sn`` interface of ONESHOT_API.md.

The loop tests run against it so that they do not depend on how the real
supernet is built: the loops may use only the interface (alpha,
arch_parameters, weights, derive, probs, use, sample_arch, sub_state_dict,
set_temperature, expected_cost). Relaxed modes mix every candidate by
softmax(alpha) (Gumbel for snas/gdas); sampled modes run the architecture set
by ``use`` as a one-hot mixture (``oneshot``: every path, with path dropout).
"""
from __future__ import annotations

import contextlib
import random

import torch
import torch.nn.functional as F
from torch import nn

from nasl.ir.architecture import Architecture

RELAXED = ("darts", "snas", "gdas", "pcdarts", "proxyless")
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
FLOPS = {"none": 0.0, "skip_connect": 0.0, "nor_conv_1x1": 1.0, "nor_conv_3x3": 9.0, "avg_pool_3x3": 0.5}


class _Conv(nn.Sequential):
    def __init__(self, c, k, bn):
        layers = [nn.ReLU(), nn.Conv2d(c, c, k, padding=k // 2, bias=not bn)]
        super().__init__(*layers, *([nn.BatchNorm2d(c)] if bn else []))


class _Mixed(nn.Module):
    def __init__(self, c, bn):
        super().__init__()
        self.c1, self.c3 = _Conv(c, 1, bn), _Conv(c, 3, bn)

    def forward(self, x, w):
        outs = [torch.zeros_like(x), x, self.c1(x), self.c3(x), F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)]
        return sum(wi * o for wi, o in zip(w, outs))


class FakeSupernet(nn.Module):
    def __init__(self, space, mode="darts", bn=True, classes=10, max_depth=None, input_shape=None):
        super().__init__()
        self.space, self.mode = space, mode
        self.choices = {c.path: tuple(c.domain) for c in space.spec.all_choices()}
        self.edges = [p for p in self.choices if p.startswith("cell.edge")]
        self.widths, self.depths = self.choices["width"], self.choices["depth"][:max_depth]
        c = max(self.widths)
        # a ParameterDict's keys cannot hold dots: stored under escaped keys, shown by path in `alpha`
        self._alpha = nn.ParameterDict()
        if mode in RELAXED:
            for path, dom in self.choices.items():
                if path in self.edges or path == "width" or (path == "depth" and max_depth is None):
                    self._alpha[path.replace(".", "/")] = nn.Parameter(1e-3 * torch.randn(len(dom)))
        self.stem = nn.Conv2d(1, c, 3, padding=1, bias=not bn)
        self.stem_bn = nn.BatchNorm2d(c) if bn else nn.Identity()
        self.cells = nn.ModuleList(nn.ModuleDict({p.replace(".", "_"): _Mixed(c, bn) for p in self.edges})
                                   for _ in self.depths)
        self.head_bn = nn.BatchNorm2d(c) if bn else nn.Identity()
        self.fc = nn.Linear(c, classes)
        self.tau, self.drop_rate, self._arch = 1.0, 0.0, None
        self._generator = torch.Generator().manual_seed(0)
        self.calls = 0

    # ------------------------------------------------------------ the interface
    @property
    def alpha(self):
        return {k.replace("/", "."): v for k, v in self._alpha.items()}

    def arch_parameters(self):
        return list(self.alpha.values())

    def weights(self):
        ids = {id(p) for p in self.alpha.values()}
        return [p for p in self.parameters() if id(p) not in ids]

    def set_temperature(self, tau):
        self.tau = float(tau)

    def set_drop_rate(self, rate):
        self.drop_rate = float(rate)

    def probs(self):
        return {p: dict(zip(self.choices[p], torch.softmax(a.detach(), -1).tolist())) for p, a in self.alpha.items()}

    def derive(self):
        values = {}
        for path, dom in self.choices.items():
            if path in self.alpha:
                a = self.alpha[path].detach().clone()
                if path in self.edges:
                    a[0] = -float("inf")            # DARTS's parse leaves `none` out
                values[path] = dom[int(a.argmax())]
            else:
                values[path] = max(self.depths) if path == "depth" else dom[0]
        arch = Architecture(values)
        self.space.validate(arch)
        return arch

    def sample_arch(self, rng):
        rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        while True:
            arch = self.space.sample(rng)
            if arch["depth"] in self.depths:
                return arch

    @contextlib.contextmanager
    def use(self, arch):
        old, self._arch = self._arch, arch
        try:
            yield self
        finally:
            self._arch = old

    def expected_cost(self, metric="flops"):
        total = 0
        for path in self.edges:
            p = torch.softmax(self.alpha[path], -1)
            total = total + sum(p[i] * FLOPS[op] for i, op in enumerate(OPS))
        return total

    def sub_state_dict(self, arch):
        return {k: v for k, v in self.state_dict().items() if not k.startswith("_alpha.")}

    # ------------------------------------------------------------ forward
    def _weights(self, path):
        dom = self.choices[path]
        arch = self._arch
        if arch is not None:
            return torch.nn.functional.one_hot(torch.tensor(dom.index(arch[path])), len(dom)).to(self.fc.weight)
        if self.mode in RELAXED and path in self.alpha:
            a = self.alpha[path]
            if self.mode in ("snas", "gdas"):
                return F.gumbel_softmax(a, tau=self.tau, hard=self.mode == "gdas")
            return torch.softmax(a, -1)
        if self.mode == "oneshot":
            # its own generator, as the real supernet keeps one: the checkpoint must hold its state
            keep = (torch.rand(len(dom), generator=self._generator) >= self.drop_rate).to(self.fc.weight)
            keep[torch.randint(len(dom), (), generator=self._generator)] = 1.0
            return keep / keep.sum()
        if path == "depth":
            top = dom.index(max(self.depths))
            return torch.zeros(len(dom)).index_fill_(0, torch.tensor(top), 1.0).to(self.fc.weight)
        raise RuntimeError(f"mode {self.mode}: set an architecture with sn.use(arch) first")

    def forward(self, x, arch=None):
        if arch is not None:
            with self.use(arch):
                return self.forward(x)
        self.calls += 1
        h = self.stem_bn(self.stem(x))
        ww = self._weights("width")
        c = h.shape[1]
        mask = sum(wi * (torch.arange(c) < v).to(h) for wi, v in zip(ww, self.widths))
        h = h * mask.view(1, -1, 1, 1)
        wd = self._weights("depth")[:len(self.depths)] if "depth" in self.choices else None
        out = 0
        for d, cell in enumerate(self.cells):
            nodes = [h]
            for j in range(1, 4):
                acc = 0
                for i in range(j):
                    path = f"cell.edge[{i}->{j}]"
                    acc = acc + cell[path.replace(".", "_")](nodes[i], self._weights(path))
                nodes.append(acc)
            h = nodes[3]
            out = out + wd[d] * h
        h = F.relu(self.head_bn(out))
        return self.fc(h.mean((2, 3)))


def make(space, mode="darts", **options):
    return FakeSupernet(space, mode, **options)
