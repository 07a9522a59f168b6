"""The relaxed forward: walk the SuperGraph, mixing each select's branches by the mode's weights.

Nodes that no branch owns run in order. A node owned by branch ``i`` of a
select runs when the select asks for branch ``i`` (all of them for DARTS,
the sampled one for GDAS, two for ProxylessNAS), so a branch that is not
taken costs nothing. A 2-D alpha (DARTS's ``[sources, ops]`` per node) gives
each per-source select its row; PC-DARTS scales each row's select by the
softmax of the node's edge weights ``beta`` and runs its branches on C/K
channels (:func:`nasl.oneshot.mixed.partial_channels`). An elastic width
multiplies the max module's output by FBNetV2's mask.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from nasl.oneshot.elastic import apply_mask, channel_mask, run_sliced
from nasl.oneshot.graph import at_labels, at_max
from nasl.oneshot.mixed import label_weights, mix


def _alpha_row(sn, d):
    path, row = d.get("path"), d.get("row")
    a = sn.alpha[path]
    return a if row is None else a[row]


def policy_labels(sn) -> dict:
    """The label of each policy path for one forward: ``fixed`` the first (or the value given),
    ``sample`` a uniform draw (one per forward, so every use of the path agrees)."""
    table = sn.sg.graph.get("alpha") or {}
    out = {}
    for path, how in sn.policy.items():
        if path not in table:
            continue
        labels = list(table[path][1])
        if how == "sample":
            out[path] = labels[int(torch.randint(len(labels), (), generator=sn._generator))]
        else:
            out[path] = labels[0] if how == "fixed" else how
    return out


def weights_of(sn, path, labels, d=None, chosen=None):
    """``(w, run)`` for the labels of ``path`` (``d``: the select node, for its alpha row)."""
    if chosen is not None and path in chosen:
        w = torch.zeros(len(labels))
        i = list(labels).index(chosen[path])
        w[i] = 1.0
        return w, [i]
    if sn.mode == "oneshot":
        return path_dropout(sn, len(labels))
    alpha = _alpha_row(sn, d) if d is not None else sn.alpha[path]
    return label_weights(sn.mode, alpha, sn.tau, sn.training, sn._generator)


def path_dropout(sn, n: int):
    """Bender et al. 2018: every candidate runs and their outputs add up, each dropped (in training)
    with the rate ``sn.drop_rate``, keeping at least one."""
    if not sn.training or sn.drop_rate <= 0:
        return torch.ones(n), None
    keep = torch.rand(n, generator=sn._generator) >= sn.drop_rate
    if not bool(keep.any()):
        keep[int(torch.randint(n, (), generator=sn._generator))] = True
    return keep.float(), [int(i) for i in torch.nonzero(keep).flatten()]


def branch_matrix(sg, an, sel):
    """``[branches, labels]`` 0/1: which labels take each branch (cached on the analysis)."""
    cache = an.__dict__.setdefault("_matrices", {})
    m = cache.get(sel)
    if m is None:
        d = sg.nodes[sel]
        labels = list(d.get("labels") or ())
        ports = an.inputs[sel]
        m = torch.zeros(len(ports), len(labels))
        for i, p in enumerate(ports):
            got = p.labels or (labels[i],)
            for label in got:
                m[i, labels.index(label)] = 1.0
        cache[sel] = m
    return m


def run(sn, xs):
    sg, an = sn.sg, sn.an
    vals = dict(zip(sn.inputs, xs))
    chosen = policy_labels(sn)
    drawn: dict = {}        # (path, row) -> (w, run): one draw per forward, shared by every use

    def weights(path, labels, d=None):
        if sn.mode == "oneshot":            # path dropout is per candidate, not per choice
            w, run_ = weights_of(sn, path, labels, d, chosen)
            return w.to(like.device), run_
        key = (path, d.get("row") if d is not None else None)
        got = drawn.get(key)
        if got is None:
            w, run_ = weights_of(sn, path, labels, d, chosen)
            got = drawn[key] = (w.to(like.device), run_)
        return got

    batch = xs[0].shape[0]
    like = xs[0]

    def value(n):
        if n not in vals:
            vals[n] = node(n)
        return vals[n]

    def node(n):
        d = sg.nodes[n]
        kind = d.get("kind")
        if kind == "output":
            return value(an.inputs[n][0].src)
        if kind == "op":
            ins = [value(p.src) for p in an.inputs[n] if p.src is not None]
            fixed = sn._policy_el.get(n) if hasattr(sn, "_policy_el") else None
            params = at_labels(d["params"], chosen) if fixed is not None else None
            if fixed is not None and params != at_max(d["params"]):
                # a kernel the policy sets: the template on the cropped weights
                y = run_sliced(sn._impl[n], sn._templates.get(d["op"], params, [
                    tuple(sn.shapes[p.src]) for p in an.inputs[n] if p.src is not None], node=n), ins)
            else:
                y = sn._impl[n](*ins)
            mask = sn._masks.get(n) if hasattr(sn, "_masks") else None
            if mask is not None:
                path, widths = mask
                w, _ = weights(path, sg.graph["alpha"][path][1])
                y = apply_mask(y, channel_mask(w, widths, y.shape[1]))
            return y
        return select(n, d)

    def select(n, d):
        labels = d.get("labels") or ()
        w, run_labels = weights(d.get("path"), labels, d)
        m = branch_matrix(sg, an, n).to(w)
        wb = m @ w
        if run_labels is None:
            branches = list(range(m.shape[0]))
        else:
            branches = sorted({int(i) for lab in run_labels for i in torch.nonzero(m[:, lab]).flatten()})
        zeros = lambda: like.new_zeros((batch,) + tuple(sn.shapes[n]))  # noqa: E731
        partial = sn._partial.get(n) if hasattr(sn, "_partial") else None
        if partial is not None:
            out = _partial(sn, n, partial, wb, branches, value, vals)
        else:
            outs = {i: (value(an.inputs[n][i].src) if an.inputs[n][i].src is not None else None)
                    for i in branches}
            if n in an.padded:              # a width fork: the narrower branches get zero channels
                outs = {i: _pad_to(h, sn.shapes[n]) for i, h in outs.items()}
            out = mix(wb, branches, outs, zeros)
        beta = sn._beta_of.get(n) if hasattr(sn, "_beta_of") else None
        if beta is not None:
            path, index = beta
            out = out * F.softmax(sn.beta[path], dim=-1)[index]
        return out

    try:
        for n in an.order:
            if n in vals or n in an.owner:
                continue
            vals[n] = node(n)
        outs = [vals[o] for o in sn.outputs]
    finally:
        # value/node/select are closures over each other and over vals: a reference cycle that would
        # keep every intermediate tensor alive until the garbage collector runs (1.8x the memory)
        vals.clear()
        drawn.clear()
    return outs[0] if len(outs) == 1 else tuple(outs)


def _pad_to(h, shape):
    if h is None or tuple(h.shape[1:]) == tuple(shape):
        return h
    pad = []
    for have, want in zip(reversed(h.shape[1:]), reversed(tuple(shape))):
        pad += [0, want - have]
    return F.pad(h, pad)


def _partial(sn, n, source, wb, branches, value, vals):
    """PC-DARTS: the branches of select ``n`` read the first C/K channels of ``source``."""
    from nasl.oneshot.mixed import partial_channels
    an = sn.an
    x = value(source)

    def run_head(head):
        # the branch ops read `source`; give them the head instead, in a scratch copy of the values
        local = dict(vals)
        local[source] = head
        outs = {}
        for i in branches:
            src = an.inputs[n][i].src
            outs[i] = None if src is None else _eval_owned(sn, src, local)
        zeros = lambda: head.new_zeros(tuple(head.shape[:2]) + tuple(sn.shapes[n][1:]))  # noqa: E731
        return mix(wb, branches, outs, zeros)

    return partial_channels(x, sn.k, run_head, None)


def _eval_owned(sn, n, local):
    if n in local:
        return local[n]
    d = sn.sg.nodes[n]
    ins = [_eval_owned(sn, p.src, local) for p in sn.an.inputs[n] if p.src is not None]
    local[n] = sn._impl[n](*ins) if d.get("kind") == "op" else None
    return local[n]


__all__ = ["run", "weights_of", "branch_matrix"]
