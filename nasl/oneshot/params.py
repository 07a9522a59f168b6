"""Architecture-parameter storage and the DARTS-style changes to candidate modules.

``AlphaDict`` maps choice paths (``normal.node[3]``) to ``nn.Parameter``s. A
torch ``ParameterDict`` cannot be keyed by them (a key may not hold a dot),
so the parameters sit under sanitized names (``normal_node_3``) and the
mapping keeps the paths; ``state_dict`` keys read ``alpha.normal_node_3``.

``affine=False`` (DARTS, PC-DARTS and the NAS-Bench-201 search networks) strips
the weight and bias of the BatchNorms inside candidate ops. Its subnet is an
ordinary ``nasl.compile`` network with affine BatchNorms: those get weight 1
and bias 0, which is the same function. ``conv_bias=True`` also gives the
conv in front of such a BatchNorm a bias, as AutoDL's ``ReLUConvBN`` does
(``bias=not affine``; the official NAS-Bench-201 supernet counts include
it); in a subnet that bias is folded into the BatchNorm's running mean,
exact in eval mode.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from nasl.compiler.build import sanitize


class AlphaDict(nn.Module, Mapping):
    """``{choice path: nn.Parameter}``, a module so the parameters are registered."""

    def __init__(self):
        nn.Module.__init__(self)
        self._names: dict = {}          # path -> attribute name

    def __setitem__(self, path: str, p: nn.Parameter):
        name = sanitize(path.replace(".", "_"))
        base, k = name, 1
        while name in self._parameters and self._names.get(path) != name:
            name, k = f"{base}_{k}", k + 1
        self._names[path] = name
        self.register_parameter(name, p)

    def __getitem__(self, path: str) -> nn.Parameter:
        try:
            return self._parameters[self._names[path]]
        except KeyError:
            raise KeyError(path) from None

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, path) -> bool:
        return path in self._names

    def __hash__(self):
        return nn.Module.__hash__(self)

    def __eq__(self, other):
        return self is other

    def __repr__(self) -> str:
        return "AlphaDict(" + ", ".join(f"{p}: {list(self[p].shape)}" for p in self) + ")"


def prepare_module(m: nn.Module, nonaffine: bool, conv_bias: bool) -> nn.Module:
    """Strip the affine parameters of ``m``'s BatchNorms (and give the conv before each a bias)."""
    if not nonaffine:
        return m
    prev_conv = None
    for _, sub in m.named_modules():
        if isinstance(sub, nn.modules.conv._ConvNd):
            prev_conv = sub
        elif isinstance(sub, nn.modules.batchnorm._BatchNorm) and sub.affine:
            sub.affine = False
            sub.register_parameter("weight", None)
            sub.register_parameter("bias", None)
            if conv_bias and prev_conv is not None and prev_conv.bias is None \
                    and prev_conv.out_channels == sub.num_features:
                prev_conv.bias = nn.Parameter(torch.zeros(prev_conv.out_channels))
            prev_conv = None
    return m


def reference_state(big: nn.Module, ref: nn.Module, state: dict) -> dict:
    """``ref``'s state from the sliced ``state`` of ``big``: a missing BatchNorm weight/bias (stripped by
    affine=False) keeps ``ref``'s 1 and 0; an extra conv bias is folded into the next BN's mean."""
    out = {}
    ref_state = ref.state_dict()
    for key, t in ref_state.items():
        out[key] = state[key] if key in state else t
    have = dict(big.named_parameters())
    convs = [n for n, s in big.named_modules() if isinstance(s, nn.modules.conv._ConvNd)]
    bns = [n for n, s in big.named_modules() if isinstance(s, nn.modules.batchnorm._BatchNorm)]
    for c in convs:
        bkey = f"{c}.bias" if c else "bias"
        if bkey in have and bkey not in ref_state:
            bias = have[bkey]
            after = [b for b in bns if _after(big, c, b)]
            if not after:
                raise ValueError(f"cannot fold the bias of {c} into a subnet")
            mkey = f"{after[0]}.running_mean"
            n = out[mkey].shape[0]
            out[mkey] = out[mkey] - bias[:n].detach()
    return out


def _after(m: nn.Module, a: str, b: str) -> bool:
    names = [n for n, _ in m.named_modules()]
    ia, ib = names.index(a), names.index(b)
    between = names[ia + 1:ib]
    return ib > ia and not any(isinstance(dict(m.named_modules())[x], nn.modules.conv._ConvNd) for x in between)


__all__ = ["AlphaDict", "prepare_module", "reference_state"]
