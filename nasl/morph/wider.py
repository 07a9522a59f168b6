"""Net2Wider (Chen, Goodfellow & Shlens 2016; EAS, Cai et al. 2018) and N2N's shrink (Ashok et
al. 2018) on a choice that sets widths.

A width choice is one whose change leaves the realized graph's nodes and ops as they are and
alters only channel counts (``c`` of convs, ``n`` of linears, ``expand`` of an mbconv). The
weights follow :mod:`nasl.morph.channels`.
"""
from __future__ import annotations

from numbers import Integral

import torch

from nasl.compiler.node_identity import copy_all
from nasl.ir.errors import NaslError
from nasl.morph.channels import PASS, RULES, Chooser
from nasl.morph.graphs import (Built, Morph, Realized, check_weights, child_of, count, fresh, is_number, moved,
                               next_value)

WIDTH_PARAMS = {"c", "n", "expand"}


def net2wider(space, arch, state: dict, path: str, value=None, *, noise: float = 0.0, seed: int = 0,
              input_shape=None, built: Built | None = None) -> Morph:
    """Widen the layers that choice ``path`` sizes, to ``value`` (default: the next larger one).

    New units replicate random old ones and the next layers' input weights are divided by the
    replication counts, so the child computes the parent's function (exactly with ``noise=0``;
    ``noise`` adds Gaussian noise of that many weight standard deviations to the replicas, to
    break their symmetry, and the child then only nearly preserves it).

    Every transformation takes ``input_shape`` (overriding the declared input, as for
    ``nasl.compile``) and ``built`` (:class:`~nasl.morph.graphs.Built`: the child as the caller
    already realized and compiled it, which is then not done twice).
    """
    return _rewidth(space, arch, state, path, value, "widen", noise, seed, input_shape, built)


def shrink(space, arch, state: dict, path: str, value=None, *, seed: int = 0, input_shape=None,
           built: Built | None = None) -> Morph:
    """N2N's layer shrinkage: narrow the layers that ``path`` sizes, keeping the units of largest
    L1 norm (of their incoming weights; where one choice sizes many layers, the first layer's
    norms decide for all, since merged tensors must keep the same channels).

    Not function-preserving: the dropped units' contributions are lost, so the child's
    ``preserving`` is False and it needs training (N2N fine-tunes it by distillation).
    """
    return _rewidth(space, arch, state, path, value, "shrink", 0.0, seed, input_shape, built)


def _rewidth(space, arch, state, path, value, mode, noise, seed, input_shape, built) -> Morph:
    what = "net2wider" if mode == "widen" else "shrink"
    if not is_number(noise) or not 0 <= noise <= 1e3:   # NaN fails too
        raise NaslError(f"{what}: noise is a number of standard deviations >= 0, not {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise NaslError(f"{what}: seed is an int, not {seed!r}")
    parent = Realized(space, arch, state, input_shape=input_shape)
    value = next_value(space, parent.arch, path, value, grow=mode == "widen")
    child = child_of(space, moved(space, parent.arch, path, value, what), what, input_shape, built)
    old = parent.arch[path]
    if not (is_number(value) and is_number(old)):
        raise NaslError(f"{what}: '{path}' = {value!r} is not a width (a number)", path=path)
    if (value > old) != (mode == "widen") or value == old:
        raise NaslError(f"{what}: '{path}' = {value!r} does not {'widen' if mode == 'widen' else 'narrow'} "
                        f"the current {old!r}", path=path)
    check_weights(parent)
    _same_structure(parent, child, path, what)
    ch = Chooser(mode, seed, noise)
    maps: dict = {n: None for n in parent.graph.graph.get("inputs", [])}
    state = fresh(child)
    with torch.no_grad():
        derived = _derive(parent, child, ch, maps, state, path, what)
    total = count(state)
    return Morph(child.arch, state, f"{what}({path}: {old} -> {value})",
                 preserving=mode == "widen" and not noise, inherited=derived / total if total else 1.0)


def _derive(parent: Realized, child: Realized, ch: Chooser, maps: dict, state: dict, path: str, what: str) -> int:
    """Write each parent layer's resized tensors into the child's ``state``; the elements derived."""
    derived, dst, src = 0, [], []
    pt, ct, inputs = parent.table, child.table, parent.table.plan.inputs
    for n in parent.ops:
        pp, pc, op = pt.params(n), ct.params(n), pt.op(n)
        m_ins = [maps[u] for u in inputs[n]]
        T = parent.tensors(n)
        if op in PASS:
            maps[n], new = m_ins[0] if m_ins else None, dict(T)
        elif op in RULES:
            maps[n], new = RULES[op](ch, n, pp, pc, m_ins, T, parent.in_shapes(n))
        elif all(m is None for m in m_ins) and pp == pc:
            maps[n], new = None, dict(T)
        else:
            raise NaslError(f"{what}: '{path}' resizes '{n}', an op '{op}' that {what} does not know how to "
                            f"resize (it handles {', '.join(sorted(RULES))} and per-channel ops)", path=path)
        prefix = ct.paths.get(n)
        for suffix, t in new.items():
            into = state.get(f"{prefix}.{suffix}")
            if into is None or into.shape != t.shape:
                raise NaslError(f"{what}: internal mismatch at '{prefix}.{suffix}'")
            dst.append(into)             # the child's own tensor (a built model's): the parent's are only read
            src.append(t)
            if t.is_floating_point():
                derived += t.numel()
    copy_all(dst, src)
    return derived


def _same_structure(parent: Realized, child: Realized, path: str, what: str):
    if parent.ops != child.ops or any(parent.op(n) != child.op(n) for n in parent.ops):
        raise NaslError(f"{what}: '{path}' changes the layers of the network, not only their widths "
                        f"(use net2deeper or inherit)", path=path)
    pt, ct = parent.table, child.table
    for n in parent.ops:
        pp, pc = pt.params(n), ct.params(n)
        if pp == pc:
            continue
        diff = {k for k in set(pp) | set(pc) if pp.get(k) != pc.get(k)}
        if diff - WIDTH_PARAMS:
            raise NaslError(f"{what}: '{path}' changes {', '.join(sorted(diff - WIDTH_PARAMS))} of '{n}', "
                            f"not only its width", path=path)
