"""Channel maps: the weights of a graph whose widths changed, derived from the old ones.

A map is an index tensor ``src`` over a tensor's channels: new channel ``j`` holds old channel
``src[j]`` (``None``: unchanged). Net2Wider (Chen et al. 2016) draws ``src`` as the old channels
followed by random replicas; N2N's shrink keeps the channels of largest L1 norm. Walking the
graph in execution order, each op rule maps its own tensors: output units are selected by the
output map, and input weights by the input map *divided by the replication count*, so a layer
that sums over its inputs sees the old sum. Per-channel ops (BN, activations, pools, depthwise
convs) carry their input's map through, with BN's stats and affine replicated.

Sums need one map on every input, so maps are shared by ``(old width, new width)``: every layer
that grows from 16 to 24 replicates the same channels (in NAS spaces widths are usually shared
by one choice, e.g. digits' ``width``). A node whose inputs disagree is refused.
"""
from __future__ import annotations

import torch

from nasl.compiler.shapes_ext import mbconv_widths
from nasl.ir.errors import NaslError

# ops that act per channel and have no weights: the output's map is the input's
PASS = {"relu", "relu6", "hswish", "hsigmoid", "swish", "silu", "gelu", "sigmoid", "tanh", "identity",
        "avg_pool", "max_pool", "global_avg_pool", "dropout", "zero", "none"}
MERGE = {"sum", "add", "mean"}


class Chooser:
    """Picks the map for a width change; one per ``key``, so that merged tensors agree."""

    def __init__(self, mode: str = "widen", seed: int = 0, noise: float = 0.0):
        self.mode, self.noise = mode, float(noise)
        self.gen = torch.Generator().manual_seed(int(seed))
        self.maps: dict = {}
        self._counts: dict = {}      # (id(map), dtype) -> (map, counts)

    def pick(self, key, old: int, new: int, norms: torch.Tensor | None = None) -> torch.Tensor:
        if key in self.maps:
            return self.maps[key]
        if new >= old:       # Net2Wider: keep every unit, replicate random ones
            extra = torch.randint(0, old, (new - old,), generator=self.gen)
            m = torch.cat([torch.arange(old), extra])
        else:                # N2N shrink: the units of largest L1 norm, in their old order
            score = norms if norms is not None else torch.arange(old, 0, -1, dtype=torch.float)
            m = torch.sort(torch.topk(score, new).indices).values
        self.maps[key] = m
        return m

    def counts(self, m: torch.Tensor, dtype) -> torch.Tensor:
        """How many times each entry of map ``m`` is replicated, per entry, as ``dtype`` (once per
        map: the maps are shared by every layer of one width change)."""
        got = self._counts.get((id(m), dtype))
        if got is None or got[0] is not m:
            got = (m, torch.bincount(m, minlength=int(m.max()) + 1)[m].to(dtype))
            self._counts[(id(m), dtype)] = got
        return got[1]


def take_out(t: torch.Tensor, m, dim: int = 0) -> torch.Tensor:
    return t if m is None else t.index_select(dim, m)


def take_in(t: torch.Tensor, m, ch: Chooser, dim: int = 1) -> torch.Tensor:
    """Input weights of a summing layer: replicas share their unit's weight, divided by the count."""
    if m is None:
        return t
    shape = [1] * t.dim()
    shape[dim] = -1
    counts = ch.counts(m, t.dtype).view(shape)
    out = t.index_select(dim, m) / counts
    if ch.noise and ch.mode == "widen":      # break the replicas' symmetry (then only near-preserving)
        out = out + ch.noise * out.std() * torch.randn(out.shape, generator=ch.gen) * (counts > 1)
    return out


def _conv(T: dict, pre: str, m_in, m_out, ch, depthwise=False) -> dict:
    out = {}
    w = T[pre + "weight"]
    out[pre + "weight"] = take_out(w, m_out) if depthwise else take_in(take_out(w, m_out), m_in, ch)
    if pre + "bias" in T:
        out[pre + "bias"] = take_out(T[pre + "bias"], m_out)
    return out


def _bn(T: dict, pre: str, m) -> dict:
    out = {}
    for s in ("weight", "bias", "running_mean", "running_var"):
        if pre + s in T:
            out[pre + s] = take_out(T[pre + s], m)
    if pre + "num_batches_tracked" in T:
        out[pre + "num_batches_tracked"] = T[pre + "num_batches_tracked"].clone()
    return out


def _out_map(ch, node, old: int, new: int, w: torch.Tensor):
    if old == new:
        return None
    if ch.mode == "widen" or (old, new) in ch.maps:      # only shrink ranks units by their norms
        return ch.pick((old, new), old, new)
    return ch.pick((old, new), old, new, norms=w.abs().flatten(1).sum(1))


def rule_conv(ch, node, pp, pc, m_ins, T, ins_p):
    m_in = m_ins[0]
    c_in = ins_p[0][0]
    g = pp.get("groups", 1)
    if g != 1:
        if g == c_in == pp["c"] and pc.get("groups") == pc["c"]:      # depthwise: one unit per channel
            return m_in, _conv(T, "", m_in, m_in, ch, depthwise=True)
        if m_in is None and pp["c"] == pc["c"]:
            return None, dict(T)
        raise NaslError(f"'{node}': a grouped conv cannot be widened", path=node)
    m_out = _out_map(ch, node, pp["c"], pc["c"], T["weight"])
    return m_out, _conv(T, "", m_in, m_out, ch)


def rule_linear(ch, node, pp, pc, m_ins, T, ins_p):
    m_out = _out_map(ch, node, pp["n"], pc["n"], T["weight"])
    return m_out, _conv(T, "", m_ins[0], m_out, ch)


def rule_bn(ch, node, pp, pc, m_ins, T, ins_p):
    return m_ins[0], _bn(T, "", m_ins[0])


def rule_relu_conv_bn(ch, node, pp, pc, m_ins, T, ins_p):     # also conv_bn_relu: same tensors
    m_out = _out_map(ch, node, pp["c"], pc["c"], T["conv.weight"])
    return m_out, {**_conv(T, "conv.", m_ins[0], m_out, ch), **_bn(T, "bn.", m_out)}


def rule_dw_conv(ch, node, pp, pc, m_ins, T, ins_p):
    return m_ins[0], _conv(T, "", m_ins[0], m_ins[0], ch, depthwise=True)


def rule_mbconv(ch, node, pp, pc, m_ins, T, ins_p):
    m_in, c_in = m_ins[0], ins_p[0][0]
    if pp.get("groups", 1) != 1:
        if m_in is None and pp == pc:
            return None, dict(T)
        raise NaslError(f"'{node}': a grouped mbconv cannot be widened", path=node)
    c_in_new = c_in if m_in is None else len(m_in)
    mid_p, se_p = mbconv_widths(pp, c_in)
    mid_c, se_c = mbconv_widths(pc, c_in_new)
    out: dict = {}
    if pp["expand"] != 1:
        # the hidden units are the op's own: each node draws its own replicas
        m_mid = None if mid_p == mid_c else ch.pick(("mid", node), mid_p, mid_c)
        out.update(_conv(T, "body.expand.conv.", m_in, m_mid, ch))
        out.update(_bn(T, "body.expand.bn.", m_mid))
    elif pc["expand"] != 1:
        raise NaslError(f"'{node}': an mbconv without expansion cannot grow one", path=node)
    else:
        m_mid = m_in
    out.update(_conv(T, "body.depthwise.conv.", m_mid, m_mid, ch, depthwise=True))
    out.update(_bn(T, "body.depthwise.bn.", m_mid))
    if "body.se.reduce.weight" in T:
        m_se = None if se_p == se_c else ch.pick(("se", node), se_p, se_c)
        out.update(_conv(T, "body.se.reduce.", m_mid, m_se, ch))
        out.update(_conv(T, "body.se.expand.", m_se, m_mid, ch))
    residual = bool(pc.get("residual", True)) and pc["stride"] == 1 and c_in_new == pc["c"]
    if residual:         # x + body(x): the body's output must carry the input's map
        m_out = m_in
    else:
        m_out = _out_map(ch, node, pp["c"], pc["c"], T["body.project.conv.weight"])
    out.update(_conv(T, "body.project.conv.", m_mid, m_out, ch))
    out.update(_bn(T, "body.project.bn.", m_out))
    return m_out, out


def rule_merge(ch, node, pp, pc, m_ins, T, ins_p):
    first = m_ins[0]
    for m in m_ins[1:]:
        if (first is None) != (m is None) or (first is not None and not torch.equal(first, m)):
            raise NaslError(f"'{node}' merges inputs whose channels were widened differently", path=node)
    return first, {}


def rule_concat(ch, node, pp, pc, m_ins, T, ins_p):
    if all(m is None for m in m_ins):
        return None, {}
    parts, off = [], 0
    for m, s in zip(m_ins, ins_p):
        parts.append((torch.arange(s[0]) if m is None else m) + off)
        off += s[0]
    return torch.cat(parts), {}


RULES = {"conv": rule_conv, "linear": rule_linear, "bn": rule_bn, "relu_conv_bn": rule_relu_conv_bn,
         "conv_bn_relu": rule_relu_conv_bn, "dw_conv": rule_dw_conv, "mbconv": rule_mbconv,
         "concat": rule_concat, **{m: rule_merge for m in MERGE}}
