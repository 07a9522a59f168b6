"""Hand-written reference search networks: DARTS, PC-DARTS and the NAS-Bench-201 supernet.

Independent of nasl (plain PyTorch), written from the papers and from the
facts of the official code (read, not copied):

* DARTS (Liu et al., ICLR 2019), quark0/darts ``cnn/model_search.py``,
  ``operations.py``, ``genotypes.py``: a stem Conv3x3(3 -> 3C) + BN (affine),
  ``layers`` cells with reductions at ``layers // 3`` and ``2 * layers // 3``
  (channels doubled), each cell preprocessing its two inputs (ReLU-Conv1x1-BN,
  or FactorizedReduce after a reduction cell) and computing ``steps`` nodes,
  each the sum over every earlier state of a mixed op (14 for 4 nodes); the
  output concatenates the last ``multiplier`` states. A mixed op is the
  softmax(alpha)-weighted sum of the 8 primitives, 'none' included; every BN
  inside a cell is affine=False, and the pools are followed by a BN(affine=False)
  as the official MixedOp adds. One alpha [14, 8] per cell kind (normal, reduce).
  ``Network(16, 10, 8)``: 1,930,618 weights, 224 alphas.
* PC-DARTS (Xu et al., ICLR 2020), yuhuixu1993/PC-DARTS ``model_search.py``:
  each mixed op sees 1/K of the channels (K=4), the rest bypass it (2x2 max
  pool in a reduction edge), then a channel shuffle in K groups; an edge
  weight beta [14] per cell kind, normalised by a softmax over each node's
  incoming edges. ``PCNetwork(16, 10, 8)``: 299,578 weights, 252 arch params.
* NAS-Bench-201 (Dong & Yang, ICLR 2020), D-X-Y/AutoDL-Projects
  ``TinyNetworkDarts`` with ``NAS201SearchCell``: stem Conv3x3 + BN, three
  stages of N cells (C, 2C, 4C) joined by residual reduction blocks, a 4-node
  cell with 6 edges, each a mixture of the 5 NB201 ops (affine=False; the
  official convs then carry a bias, ``bias=not affine``), BN-ReLU, pool,
  linear. ``TinyNetworkDarts()``: 1,692,826 weights, 30 alphas.

Every network exposes ``weights()`` and ``arch_parameters()`` (disjoint; the
alphas are registered parameters, unlike the official ``Variable``s, so that
``parameters()`` is their union as in a nasl supernet) and returns logits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

PRIMITIVES = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
              "dil_conv_3x3", "dil_conv_5x5")
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


# --- candidate operations -------------------------------------------------------------------------

class Zero(nn.Module):
    """The 'none' op: zeros of the output shape (kept in the graph, as officially, so the mixture sees it)."""

    def __init__(self, stride: int = 1):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return x.mul(0.0)


def relu_conv_bn(c_in, c_out, k, stride=1, pad=0, dilation=1, affine=False, bias=False, track=True):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, pad, dilation=dilation, bias=bias),
                         nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track))


def dil_conv(c, k, stride, dilation=2, affine=False):
    """ReLU, depthwise k x k (dilated), pointwise, BN: DARTS's dil_conv (and one half of sep_conv)."""
    pad = dilation * (k - 1) // 2
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, stride, pad, dilation=dilation, groups=c, bias=False),
                         nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine))


def sep_conv(c, k, stride, affine=False):
    """Two undilated dil_conv halves; only the first strides."""
    return nn.Sequential(*dil_conv(c, k, stride, 1, affine), *dil_conv(c, k, 1, 1, affine))


class FactorizedReduce(nn.Module):
    """Halve the resolution with two stride-2 1x1 convs, the second on the input shifted by one pixel."""

    def __init__(self, c_in, c_out, affine=False):
        super().__init__()
        self.a = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.b = nn.Conv2d(c_in, c_out // 2, 1, 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x):
        x = F.relu(x)
        return self.bn(torch.cat([self.a(x), self.b(x[:, :, 1:, 1:])], 1))


def darts_candidate(name, c, stride):
    """One DARTS primitive as the search MixedOp holds it: affine=False BN, pools followed by a BN."""
    if name == "none":
        return Zero(stride)
    if name in ("max_pool_3x3", "avg_pool_3x3"):
        pool = (nn.MaxPool2d(3, stride, 1) if name == "max_pool_3x3"
                else nn.AvgPool2d(3, stride, 1, count_include_pad=False))
        return nn.Sequential(pool, nn.BatchNorm2d(c, affine=False))
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    kind, k = name.rsplit("_", 1)[0], int(name[-1])
    if kind == "sep_conv":
        return sep_conv(c, k, stride)
    if kind == "dil_conv":
        return dil_conv(c, k, stride)
    raise ValueError(f"not a DARTS primitive: {name!r}")


def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


# --- DARTS / PC-DARTS -----------------------------------------------------------------------------

class MixedOp(nn.Module):
    """sum_o w[o] * o(x) over the primitives; with ``partial`` K > 1, over the first C/K channels only."""

    def __init__(self, c, stride, partial=1):
        super().__init__()
        self.partial = partial
        self.ops = nn.ModuleList(darts_candidate(name, c // partial, stride) for name in PRIMITIVES)

    def forward(self, x, w):
        if self.partial == 1:
            return sum(wi * op(x) for wi, op in zip(w, self.ops))
        cut = x.shape[1] // self.partial
        mixed = sum(wi * op(x[:, :cut]) for wi, op in zip(w, self.ops))
        rest = x[:, cut:]
        if mixed.shape[2] != x.shape[2]:      # a reduction edge: the bypassed channels are pooled too
            rest = F.max_pool2d(rest, 2, 2)
        return channel_shuffle(torch.cat([mixed, rest], 1), self.partial)


class SearchCell(nn.Module):
    def __init__(self, steps, multiplier, c_pp, c_p, c, reduction, reduction_prev, partial=1):
        super().__init__()
        self.reduction, self.steps, self.multiplier = reduction, steps, multiplier
        self.pre0 = FactorizedReduce(c_pp, c) if reduction_prev else relu_conv_bn(c_pp, c, 1)
        self.pre1 = relu_conv_bn(c_p, c, 1)
        # edges in the official order: node 0's sources (s0, s1), then node 1's (s0, s1, n0), ...
        self.edges = nn.ModuleList(MixedOp(c, 2 if reduction and src < 2 else 1, partial)
                                   for node in range(steps) for src in range(node + 2))

    def forward(self, s0, s1, w, edge_w=None):
        states = [self.pre0(s0), self.pre1(s1)]
        e = 0
        for _ in range(self.steps):
            terms = []
            for h in states:
                out = self.edges[e](h, w[e])
                terms.append(out if edge_w is None else edge_w[e] * out)
                e += 1
            states.append(sum(terms))
        return torch.cat(states[-self.multiplier:], 1)


def node_softmax(betas, steps):
    """PC-DARTS edge normalisation: a softmax over the incoming edges of each node."""
    parts, start = [], 0
    for node in range(steps):
        parts.append(F.softmax(betas[start:start + node + 2], dim=-1))
        start += node + 2
    return torch.cat(parts)


class Network(nn.Module):
    """The DARTS search network (``partial`` > 1: PC-DARTS's partial channels and betas)."""

    def __init__(self, C, num_classes, layers, steps=4, multiplier=4, stem_multiplier=3, partial=1):
        super().__init__()
        self.steps, self.multiplier, self.partial = steps, multiplier, partial
        c_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(3, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            c_curr = 2 * c_curr if reduction else c_curr
            self.cells.append(SearchCell(steps, multiplier, c_pp, c_p, c_curr, reduction, reduction_prev, partial))
            reduction_prev = reduction
            c_pp, c_p = c_p, multiplier * c_curr
        self.classifier = nn.Linear(c_p, num_classes)
        n_edges = sum(node + 2 for node in range(steps))
        self.alphas_normal = nn.Parameter(1e-3 * torch.randn(n_edges, len(PRIMITIVES)))
        self.alphas_reduce = nn.Parameter(1e-3 * torch.randn(n_edges, len(PRIMITIVES)))
        self._arch = ["alphas_normal", "alphas_reduce"]
        if partial > 1:
            self.betas_normal = nn.Parameter(1e-3 * torch.randn(n_edges))
            self.betas_reduce = nn.Parameter(1e-3 * torch.randn(n_edges))
            self._arch += ["betas_normal", "betas_reduce"]

    def arch_parameters(self):
        return [getattr(self, name) for name in self._arch]

    def weights(self):
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def forward(self, x):
        w = {False: F.softmax(self.alphas_normal, -1), True: F.softmax(self.alphas_reduce, -1)}
        ew = {False: None, True: None}
        if self.partial > 1:
            ew = {False: node_softmax(self.betas_normal, self.steps),
                  True: node_softmax(self.betas_reduce, self.steps)}
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, w[cell.reduction], ew[cell.reduction])
        return self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))

    def genotype(self):
        with torch.no_grad():
            betas = (self.betas_normal, self.betas_reduce) if self.partial > 1 else (None, None)
            return official_genotype_parse(self.alphas_normal, self.alphas_reduce, *betas)


def PCNetwork(C, num_classes, layers, steps=4, multiplier=4, stem_multiplier=3, k=4):
    """The PC-DARTS search network (partial channels 1/k)."""
    return Network(C, num_classes, layers, steps, multiplier, stem_multiplier, partial=k)


def official_genotype_parse(alpha_normal, alpha_reduce, betas_normal=None, betas_reduce=None,
                            primitives=PRIMITIVES, softmax=True):
    """DARTS's genotype rule on raw alphas: ``(normal, reduce)``, each a list of ``(op, source)``.

    As ``Network.genotype()`` officially: softmax over each edge's ops (and,
    for PC-DARTS, times the node-softmax of beta); per node keep the 2
    incoming edges with the largest non-'none' weight, then each kept edge's
    best non-'none' op. Ties go to the lower index (a stable sort; the first
    maximum), and a node's pair is listed strongest first.
    """
    return (_parse(alpha_normal, betas_normal, primitives, softmax),
            _parse(alpha_reduce, betas_reduce, primitives, softmax))


def parse_weights(weights, primitives=PRIMITIVES) -> list:
    """The rule on edge weights already normalised (softmax, times beta for PC-DARTS): per node, its
    pair of ``(op, source)``, strongest first."""
    gene = _parse(weights, None, primitives, softmax=False)
    return [gene[i:i + 2] for i in range(0, len(gene), 2)]


def _parse(alpha, betas, primitives, softmax):
    w = torch.as_tensor(alpha, dtype=torch.float64).detach().cpu()
    rows = w.shape[0]
    steps = next((s for s in range(1, rows + 1) if s * (s + 3) // 2 == rows), None)
    if w.dim() != 2 or steps is None or w.shape[1] != len(primitives):
        raise ValueError(f"alpha of shape {tuple(w.shape)} is not [edges of a DARTS cell, {len(primitives)}]")
    if softmax:
        w = F.softmax(w, dim=-1)
    if betas is not None:
        w = w * node_softmax(torch.as_tensor(betas, dtype=torch.float64).detach().cpu(), steps)[:, None]
    w = w.tolist()
    ops = [k for k, name in enumerate(primitives) if name != "none"]
    gene, start = [], 0
    for node in range(steps):
        n = node + 2
        block = w[start:start + n]
        strength = [max(row[k] for k in ops) for row in block]
        for src in sorted(range(n), key=lambda j: -strength[j])[:2]:
            best = max(ops, key=lambda k: block[src][k])
            gene.append((primitives[best], src))
        start += n
    return gene


# --- NAS-Bench-201 --------------------------------------------------------------------------------

def nb201_candidate(name, c, affine, track):
    if name == "none":
        return Zero(1)
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    if name in ("nor_conv_1x1", "nor_conv_3x3"):
        k = int(name[-1])
        return relu_conv_bn(c, c, k, 1, k // 2, affine=affine, bias=not affine, track=track)
    raise ValueError(f"not a NAS-Bench-201 op: {name!r}")


class NB201SearchCell(nn.Module):
    """Node i = sum over j < i of the alpha-weighted mixture on edge "i<-j"; the output is the last node."""

    def __init__(self, c, max_nodes, ops, affine, track):
        super().__init__()
        self.max_nodes = max_nodes
        keys = [f"{i}<-{j}" for i in range(1, max_nodes) for j in range(i)]
        self.edges = nn.ModuleDict({key: nn.ModuleList(nb201_candidate(o, c, affine, track) for o in ops)
                                    for key in keys})
        self.index = {key: i for i, key in enumerate(sorted(keys))}   # alpha rows: the sorted edge names

    def forward(self, x, w):
        nodes = [x]
        for i in range(1, self.max_nodes):
            nodes.append(sum(sum(wk * op(nodes[j]) for wk, op in zip(w[self.index[f"{i}<-{j}"]],
                                                                     self.edges[f"{i}<-{j}"]))
                             for j in range(i)))
        return nodes[-1]


class ResBlock(nn.Module):
    """NB201's stride-2 residual block between stages (affine BN, bias-free convs)."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = relu_conv_bn(c_in, c_out, 3, 2, 1, affine=True)
        self.conv_b = relu_conv_bn(c_out, c_out, 3, 1, 1, affine=True)
        self.down = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x):
        return self.down(x) + self.conv_b(self.conv_a(x))


class TinyNetworkDarts(nn.Module):
    """The NAS-Bench-201 DARTS supernet: one alpha [6, 5] shared by all 15 search cells."""

    def __init__(self, C=16, N=5, max_nodes=4, num_classes=10, ops=NB201_OPS, affine=False, track=True):
        super().__init__()
        self.ops = tuple(ops)
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        blocks, c = [], C
        for stage in range(3):
            if stage:
                blocks.append(ResBlock(c, 2 * c))
                c *= 2
            blocks += [NB201SearchCell(c, max_nodes, ops, affine, track) for _ in range(N)]
        self.cells = nn.ModuleList(blocks)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())
        self.classifier = nn.Linear(c, num_classes)
        n_edges = max_nodes * (max_nodes - 1) // 2
        self.alphas = nn.Parameter(1e-3 * torch.randn(n_edges, len(ops)))

    def arch_parameters(self):
        return [self.alphas]

    def weights(self):
        return [p for p in self.parameters() if p is not self.alphas]

    def forward(self, x):
        w = F.softmax(self.alphas, -1)
        h = self.stem(x)
        for cell in self.cells:
            h = cell(h, w) if isinstance(cell, NB201SearchCell) else cell(h)
        return self.classifier(F.adaptive_avg_pool2d(self.lastact(h), 1).flatten(1))

    def genotype(self):
        """Each edge's argmax op ('none' included, as the official NB201 DARTS), as ``[(op, source)]`` per node."""
        cell = next(c for c in self.cells if isinstance(c, NB201SearchCell))
        best = self.alphas.detach().argmax(-1).tolist()
        return [[(self.ops[best[cell.index[f"{i}<-{j}"]]], j) for j in range(i)]
                for i in range(1, cell.max_nodes)]


def count(params) -> int:
    return sum(p.numel() for p in params)
