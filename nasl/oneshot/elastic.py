"""Elastic widths and kernels: one max-size module, sliced to the size an architecture chooses.

A super op whose parameter is ``Elastic`` (a width or kernel that a choice
sets) holds one module built at the maximum. An architecture that chooses a
smaller value runs a *template*: the compiler's builder at the chosen
parameters (built once per size and cached, its own tensors never used),
run on views of the max tensors (compiled by :mod:`nasl.oneshot.sliced` into
direct ``F.conv2d``/``F.linear``/``F.batch_norm`` calls where the template's
shape is known, else through ``torch.func.functional_call``):

- a prefix on every channel dimension (OFA's elastic width; Slimmable nets);
- a centre crop on a convolution kernel's spatial dimensions (OFA's elastic
  kernel, without its optional kernel-transform matrices).

The views share storage with the max tensors, so gradients and BatchNorm's
in-place running-statistics updates land in the shared weights. The subnet
of an architecture gets the same slices (:func:`slice_like`), so
``subnet(arch)(x) == sn(x, arch)`` holds exactly.

In the relaxed modes an elastic width is an FBNetV2 channel mask on the max
module's output, weighted by the probabilities of the choice's values.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from nasl.compiler.layers import get_builder
from nasl.oneshot.sliced import SlicedOp, slice_index


def slice_like(t: torch.Tensor, shape, kernel_dims: tuple = ()) -> torch.Tensor:
    """A view of ``t`` with ``shape``: a prefix on each dimension, a centre crop on ``kernel_dims``."""
    index = slice_index(t.shape, shape, kernel_dims)
    return t if index is None else t[index]


def kernel_dims_of(module: nn.Module) -> dict:
    """``{state key: dims}`` of the spatial kernel dimensions of the convolutions in ``module``."""
    out = {}
    for name, m in module.named_modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            key = f"{name}.weight" if name else "weight"
            out[key] = tuple(range(2, m.weight.dim()))
    return out


def sliced_state(big: nn.Module, small: nn.Module) -> dict:
    """``{key: view of big's tensor}`` shaped like ``small``'s parameters and buffers."""
    kd = kernel_dims_of(big)
    kt = getattr(big, "_nasl_kernel_transform", None)
    have = dict(big.named_parameters())
    have.update(big.named_buffers())
    out = {}
    for key, t in list(small.named_parameters()) + list(small.named_buffers()):
        src = have.get(key)
        if src is None:
            continue                        # e.g. affine=False took the BN's weight away
        if kt is not None and key in kd and t.shape[-1] < src.shape[-1]:
            out[key] = kt(key, slice_like(src, tuple(t.shape[:2]) + tuple(src.shape[2:])), t.shape[-1])
            continue
        out[key] = slice_like(src, t.shape, kd.get(key, ())) if t.dim() else src
    return out


class KernelTransform(nn.Module):
    """OFA's kernel-transform matrices (Cai et al. 2020): a smaller kernel is the centre of the next
    larger one times a learned ``k^2 x k^2`` matrix (shared by the channels of a layer, one per step:
    7 -> 5, then 5 -> 3), initialised to the identity, so that it starts as the plain crop."""

    def __init__(self, keys: list, sizes: tuple):
        super().__init__()
        self.sizes = tuple(sorted(set(sizes)))
        self._names = {}
        for i, key in enumerate(keys):
            for big, small in zip(self.sizes[::-1], self.sizes[::-1][1:]):
                name = f"m{i}_{big}to{small}"
                self._names[(key, big, small)] = name
                self.register_parameter(name, nn.Parameter(torch.eye(small * small)))

    def forward(self, key: str, w: torch.Tensor, k: int) -> torch.Tensor:
        cur = w
        for big, small in zip(self.sizes[::-1], self.sizes[::-1][1:]):
            if cur.shape[-1] <= k:
                break
            if cur.shape[-1] != big:
                continue
            cur = slice_like(cur, tuple(cur.shape[:-2]) + (small, small), (cur.dim() - 2, cur.dim() - 1))
            m = getattr(self, self._names[(key, big, small)])
            cur = (cur.reshape(-1, small * small) @ m).reshape(cur.shape)
        return cur


class Templates:
    """Modules built by the compiler's builders at chosen sizes, one per (op, params, shapes)."""

    def __init__(self, prepare=None):
        self._cache: dict = {}
        self._prepare = prepare             # what the supernet does to each built module (affine=False)

    def get(self, op: str, params: dict, in_shapes: list, node=None):
        key = (op, tuple(sorted(params.items(), key=lambda kv: kv[0])), tuple(map(tuple, in_shapes)), node)
        m = self._cache.get(key)
        if m is None:
            impl, _ = get_builder(op)(params, [tuple(s) for s in in_shapes])
            if self._prepare is not None and isinstance(impl, nn.Module):
                impl = self._prepare(node, impl)
            if isinstance(impl, nn.Module):
                for p in impl.parameters():         # a template's own tensors are never trained
                    p.requires_grad_(False)
            m = self._cache[key] = impl
        return m


def run_sliced(big: nn.Module, small, inputs: list):
    """Run ``small`` (a compiled :class:`SlicedOp`, a template, or a function) with ``big``'s tensors
    sliced to its sizes."""
    if isinstance(small, SlicedOp):
        return small(*inputs)
    if not isinstance(small, nn.Module):
        return small(*inputs)
    if small is big:
        return big(*inputs)
    small.train(big.training)
    for name, bn in small.named_modules():
        if isinstance(bn, nn.modules.batchnorm._BatchNorm):   # recalibration sets the max module's
            bn.momentum = big.get_submodule(name).momentum      # momentum to None (a cumulative average)
    return functional_call(small, sliced_state(big, small), tuple(inputs))


def _permute(module: nn.Module, names: tuple, idx: torch.Tensor, dim: int = 0):
    for name in names:
        t = getattr(module, name, None)
        if isinstance(t, torch.Tensor) and t.dim() > dim:
            t.data.copy_(t.data.index_select(dim, idx))


def sort_middle_channels(m: nn.Module) -> bool:
    """OFA's channel re-sorting for an MBConv (``re_organize_middle_weights``): order the expanded
    channels by the L1 norm of the projection's weights on them, largest first, so that an elastic
    expand ratio's prefix keeps the most important ones. The function computed is unchanged."""
    body = getattr(m, "body", None)
    if body is None or not hasattr(body, "project") or not hasattr(body, "depthwise"):
        return False
    project = body.project.conv
    if project.groups != 1:
        return False                    # grouped 1x1 convs (FBNet): channels do not permute freely
    with torch.no_grad():
        idx = project.weight.abs().sum(dim=(0, 2, 3)).argsort(descending=True)
        _permute(project, ("weight",), idx, dim=1)
        for seq_ in [body.depthwise] + ([body.expand] if hasattr(body, "expand") else []):
            _permute(seq_.conv, ("weight", "bias"), idx)
            _permute(seq_.bn, ("weight", "bias", "running_mean", "running_var"), idx)
        se = getattr(body, "se", None)
        if se is not None:
            _permute(se.reduce, ("weight",), idx, dim=1)
            _permute(se.expand, ("weight", "bias"), idx)
    return True


def channel_mask(probs: torch.Tensor, widths: list, c_max: int) -> torch.Tensor:
    """FBNetV2's mask ``sum_v p(v) * [channel < v]``, shaped ``[1, C, 1, 1]`` (or ``[1, C]``)."""
    steps = torch.zeros(len(widths), c_max, dtype=probs.dtype, device=probs.device)
    for i, w in enumerate(widths):
        steps[i, :w] = 1.0
    return (probs[:, None] * steps).sum(0)


def apply_mask(y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    shape = [1, mask.numel()] + [1] * (y.dim() - 2)
    return y * mask.view(shape)


__all__ = ["sort_middle_channels", "KernelTransform", "slice_like", "sliced_state", "Templates", "run_sliced", "channel_mask", "apply_mask",
           "kernel_dims_of"]
