"""An independent, hand-written PyTorch build of the DARTS CIFAR evaluation network.

It follows the structure documented for quark0/darts (``cnn/model.py``
NetworkCIFAR and ``cnn/operations.py``) and knows nothing of nasl, so the
parameter counts of genotypes that have no published count (NASNet and
AmoebaNet in DARTS format) are checked against a second construction.
"""
from __future__ import annotations

import torch
from torch import nn


def _relu_conv_bn(c_in, c_out, k, stride=1, pad=0):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, pad, bias=False), nn.BatchNorm2d(c_out))


def _sep(c, k, stride):
    half = lambda s: [nn.ReLU(), nn.Conv2d(c, c, k, s, k // 2, groups=c, bias=False),  # noqa: E731
                      nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c)]
    return nn.Sequential(*half(stride), *half(1))


def _dil(c, k, stride):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, stride, k - 1, dilation=2, groups=c, bias=False),
                         nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))


class _Reduce(nn.Module):
    """Two stride-2 1x1 convs, the second on the input shifted by a pixel, concatenated, BN."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.a = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.b = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = torch.relu(x)
        return self.bn(torch.cat([self.a(x), self.b(x[:, :, 1:, 1:])], 1))


def _op(name, c, stride, strided_skip="reduce"):
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride, 1, count_include_pad=False)
    if name == "skip_connect":
        if stride == 1:
            return nn.Identity()
        # DARTS reduces with FactorizedReduce; TF-slim's PNASNet (and chenxi116/PNASNet.pytorch) with a
        # strided ReLU-conv1x1-BN
        return _Reduce(c, c) if strided_skip == "reduce" else _relu_conv_bn(c, c, 1, stride)
    if name.startswith("sep_conv_"):
        return _sep(c, int(name[-1]), stride)
    if name.startswith("dil_conv_"):
        return _dil(c, int(name[-1]), stride)
    if name == "conv_7x1_1x7":
        return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, (1, 7), (1, stride), (0, 3), bias=False),
                             nn.Conv2d(c, c, (7, 1), (stride, 1), (3, 0), bias=False), nn.BatchNorm2d(c))
    raise ValueError(name)


class _Cell(nn.Module):
    def __init__(self, pairs, concat, c_pp, c_p, c, reduction, reduction_prev, strided_skip="reduce"):
        super().__init__()
        self.pre0 = _Reduce(c_pp, c) if reduction_prev else _relu_conv_bn(c_pp, c, 1)
        self.pre1 = _relu_conv_bn(c_p, c, 1)
        self.ops = nn.ModuleList(_op(op, c, 2 if reduction and src < 2 else 1, strided_skip) for op, src in pairs)
        self.srcs = [src for _, src in pairs]
        self.concat = list(concat)

    def forward(self, s0, s1):
        states = [self.pre0(s0), self.pre1(s1)]
        for i in range(0, len(self.ops), 2):
            states.append(self.ops[i](states[self.srcs[i]]) + self.ops[i + 1](states[self.srcs[i + 1]]))
        return torch.cat([states[i] for i in self.concat], 1)


class DartsCifar(nn.Module):
    """NetworkCIFAR(C, classes, layers, auxiliary, genotype) of the DARTS evaluation."""

    def __init__(self, genotype, c=36, layers=20, classes=10, auxiliary=False, strided_skip="reduce"):
        super().__init__()
        c_cur = 3 * c
        self.stem = nn.Sequential(nn.Conv2d(3, c_cur, 3, padding=1, bias=False), nn.BatchNorm2d(c_cur))
        c_pp, c_p, c_cur = c_cur, c_cur, c
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            c_cur = 2 * c_cur if reduction else c_cur
            pairs, concat = ((genotype.reduce, genotype.reduce_concat) if reduction
                             else (genotype.normal, genotype.normal_concat))
            self.cells.append(_Cell(pairs, concat, c_pp, c_p, c_cur, reduction, reduction_prev, strided_skip))
            reduction_prev = reduction
            c_pp, c_p = c_p, len(concat) * c_cur
            if i == 2 * layers // 3:
                c_aux = c_p
        self.aux = None
        if auxiliary:
            self.aux = nn.Sequential(
                nn.ReLU(), nn.AvgPool2d(5, 3, 0, count_include_pad=False), nn.Conv2d(c_aux, 128, 1, bias=False),
                nn.BatchNorm2d(128), nn.ReLU(), nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(),
                nn.Flatten(), nn.Linear(768, classes))
        self.classifier = nn.Linear(c_p, classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1.mean((2, 3)))


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
