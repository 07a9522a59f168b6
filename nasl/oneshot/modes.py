"""The supernet modes: ``build(space, mode, **options)``, the function ``nasl.oneshot.MODES`` names.

Relaxed (gradient) modes: ``darts``, ``snas``, ``gdas``, ``pcdarts``, ``proxyless``.
Sampled modes, which run one architecture per forward: ``spos``, ``enas``,
``oneshot`` and ``ofa`` (their training differs in the loops, not here:
SPOS draws uniformly, ENAS asks a controller, OFA shrinks the domains).

Options: ``affine`` (False: DARTS's BatchNorms without affine parameters in
candidates and in the ops that only feed them), ``conv_bias`` (AutoDL's
``bias=not affine``), ``policy`` (``{path: "fixed" | "sample" | value}``),
``k`` (PC-DARTS partial channels, 4), ``tau`` (snas/gdas temperature),
``seed`` (alpha init and Gumbel noise), ``input_shape``.
"""
from __future__ import annotations

from nasl.compiler.shapes import op_shape
from nasl.ir.errors import NaslError, NotRelaxable
from nasl.oneshot.graph import at_labels, branch_source, elastic_paths, is_zero_branch
from nasl.oneshot.mixed import RELAXED
from nasl.oneshot.params import AlphaDict
from nasl.oneshot.supernet import Supernet
import torch
from torch import nn

SAMPLED = ("spos", "enas", "oneshot", "ofa")
_OPTIONS = {"affine", "conv_bias", "policy", "input_shape", "k", "tau", "seed", "init_std", "drop_rate",
            "kernel_transform"}


class Relaxed(Supernet):
    relaxed = True
    mixture = True

    def __init__(self, sg, mode, space=None, **options):
        super().__init__(sg, mode, space, **options)
        self._policy_el: dict = {}          # op -> path: a kernel (or inner width) a policy sets
        self._masks = self._elastic_masks()
        for sel in self.an.padded:          # forks of different sizes mix zero-padded, channels only
            got = {tuple(self.shapes[p.src]) for p in self.an.inputs[sel] if p.src is not None}
            d = sg.nodes[sel]
            varying = [i for i in range(len(self.shapes[sel])) if len({s[i] for s in got}) > 1]
            if len(self.shapes[sel]) == 3 and any(i > 0 for i in varying):
                raise NotRelaxable(f"the branches of choice '{d.get('path')}' differ in spatial size "
                                   f"({', '.join(str(list(s)) for s in sorted(got))}); mode '{mode}' cannot "
                                   f"mix them; give it a policy or use a sampled mode", d.get("span"),
                                   path=d.get("path"))

    def _elastic_masks(self) -> dict:
        """FBNetV2 masks: ``{op: (path, output channels per label)}`` for elastic widths."""
        out = {}
        for n in self.an.order:
            d = self.sg.nodes[n]
            el = elastic_paths(d.get("params"))
            if d.get("kind") != "op" or not el:
                continue
            paths = {e.path for e in el.values()}
            if paths <= set(self.policy) and self._keeps_shape(n, d):
                self._policy_el[n] = paths  # the policy sets them all: run the template at its labels
                continue
            path = sorted(paths - set(self.policy))[0] if paths - set(self.policy) else sorted(paths)[0]
            if len(paths) > 1 or path not in self.sg.graph.get("alpha", {}):
                raise NotRelaxable(f"several choices set the sizes of '{n}' ({', '.join(sorted(paths))}); "
                                   f"mode '{self.mode}' can mix one width per op; give the others a policy "
                                   f"(fixed or sample) or use a sampled mode (spos, ofa)", d.get("span"), path=path)
            ins = [self.shapes[p.src] for p in self.an.inputs[n] if p.src is not None]
            labels = list(self.sg.graph["alpha"][path][1])
            shapes = [op_shape(d["op"], at_labels(d["params"], {path: lab}), ins) for lab in labels]
            if len({tuple(s) for s in shapes}) == 1 and len(labels) == 1:
                continue                    # one value: nothing to mix
            if len({tuple(s[1:]) for s in shapes}) > 1 or all(tuple(s) == tuple(self.shapes[n]) for s in shapes):
                raise NotRelaxable(f"'{path}' sets a size inside '{n}' ({d['op']}: a kernel or an inner "
                                   f"width) that mode '{self.mode}' cannot mix; give '{path}' a policy "
                                   f"(fixed or sample) or use a sampled mode (spos, ofa)",
                                   d.get("span"), path=path)
            out[n] = (path, [s[0] for s in shapes])
        # FBNetV2 masks every feature map of an elastic width, not only the op that sets it: a
        # BatchNorm after a masked conv would renormalise the mask away (and a channel-wise
        # scale through BatchNorm has no gradient)
        from nasl.oneshot.derive import shapes_per_label
        per = shapes_per_label(self)
        table = self.sg.graph.get("alpha") or {}
        for n in self.an.order:
            if n in out or n in self._policy_el or self.sg.nodes[n].get("kind") != "op":
                continue
            for path in sorted({p for p, _ in per}):
                widths = [per[(path, lab)][n][0] for lab in table[path][1]]
                if len(set(widths)) > 1 and len(self.shapes[n]) >= 1:
                    out[n] = (path, widths)
                    break
        return out


    def _keeps_shape(self, n, d) -> bool:
        import itertools
        el = elastic_paths(d.get("params"))
        paths = sorted({e.path for e in el.values()})
        table = self.sg.graph.get("alpha") or {}
        if any(p not in table for p in paths):
            return False
        ins = [self.shapes[p.src] for p in self.an.inputs[n] if p.src is not None]
        for combo in itertools.product(*(table[p][1] for p in paths)):
            if tuple(op_shape(d["op"], at_labels(d["params"], dict(zip(paths, combo))), ins)) != tuple(self.shapes[n]):
                return False
        return True


class PCDarts(Relaxed):
    """PC-DARTS (Xu et al. 2020): partial channels, channel shuffle and edge normalisation ``beta``."""

    def _partials(self) -> dict:
        got = self.__dict__.get("_partial_cache")
        if got is None:
            got = {}
            for sel in self.an.selects:
                d = self.sg.nodes[sel]
                if d.get("how", "op") != "op":
                    continue
                srcs = {branch_source(self.sg, self.an, sel, i) for i in range(len(self.an.inputs[sel]))
                        if not is_zero_branch(self.sg, self.an, sel, i)}
                if len(srcs) == 1 and None not in srcs:
                    got[sel] = srcs.pop()
            self.__dict__["_partial_cache"] = got
        return got

    @property
    def _partial(self):
        return self._partials()

    def _rewrite(self, n, params, ins, shapes):
        if params is None:              # a select: an identity branch reads the head of the source too
            src = self._partials().get(n)
            if src is None:
                return params, ins
            c = shapes[src][0]
            return params, [(c // self.k,) + tuple(s[1:]) if s is not None and p.src == src else s
                            for s, p in zip(ins, self.an.inputs[n])]
        own = self.an.owner.get(n)
        source = self._partials().get(own[0]) if own else None
        if source is None:
            return params, ins
        k, c = self.k, shapes[source][0]
        if c % k:
            raise NaslError(f"pcdarts: '{source}' has {c} channels, not a multiple of k={k}",
                            self.sg.nodes[n].get("span"), path=n)
        srcs = [p.src for p in self.an.inputs[n] if p.src is not None]
        ins = [(s[0] // k,) + tuple(s[1:]) if u == source else s for s, u in zip(ins, srcs)]
        params = dict(params)
        if "c" in params:               # the ops' output width: C/K (PC-DARTS builds MixedOp(C // k))
            params["c"] = params["c"] // k
        return params, ins

    def _select_shape(self, n, shape, shapes):
        src = self._partials().get(n)    # the edge's output: the mixture's C/K channels + the bypassed rest
        return (shapes[src][0],) + tuple(shape[1:]) if src is not None else shape

    def __init__(self, sg, mode, space=None, **options):
        super().__init__(sg, mode, space, **options)
        self._beta_of = {}
        for path, sources in self.edges.items():        # one beta per source of each pick node
            if path in self.alpha:
                self.beta[path] = nn.Parameter(options.get("init_std", 1e-3) * torch.randn(
                    len(sources), generator=self._generator))
        for sel in self.an.selects:
            d = sg.nodes[sel]
            if d.get("path") in self.beta and d.get("row") is not None:
                self._beta_of[sel] = (d["path"], list(self.edges[d["path"]]).index(d["row"]))

    def _run_arch(self, arch, xs):
        raise NaslError("a pcdarts supernet holds candidates at C/K channels and cannot run one architecture "
                        "at full width; derive() it and train the result (as PC-DARTS does)")

    def sub_state_dict(self, arch):
        self._run_arch(arch, ())

    def subnet(self, arch):
        self._run_arch(arch, ())


class Sampled(Supernet):
    relaxed = False

    def __init__(self, sg, mode, space=None, kernel_transform: bool = False, **options):
        if not (sg.graph.get("alpha") or {}):
            raise NaslError(f"nothing to share: the space has no choice, so a '{mode}' supernet is one "
                            f"network (compile it with nasl.compile)")
        super().__init__(sg, mode, space, **options)
        self.ktrans = nn.Module()
        if kernel_transform:
            self._add_kernel_transforms()

    def _add_kernel_transforms(self):
        """OFA's kernel transforms on every conv whose kernel an elastic ``k`` sets."""
        from nasl.oneshot.elastic import KernelTransform, kernel_dims_of
        for n in self.an.order:
            d = self.sg.nodes[n]
            k = (d.get("params") or {}).get("k")
            big = self._impl.get(n)
            if k is None or not hasattr(k, "options") or not isinstance(big, nn.Module) or len(k.options) < 2:
                continue
            keys = [key for key in kernel_dims_of(big)
                    if dict(big.named_parameters())[key].shape[-1] == max(k.options)]
            if keys:
                kt = KernelTransform(keys, tuple(k.options))
                self.ktrans.add_module(self.paths[n].replace(".", "__"), kt)
                object.__setattr__(big, "_nasl_kernel_transform", kt)     # read by sliced_state

    def weights(self):
        return list(self.net.parameters()) + list(self.ktrans.parameters())

    def elastic_kinds(self) -> dict:
        """``{choice path: "kernel" | "depth" | "width"}`` read off the SuperGraph, for OFA's phases: a
        path that sets a conv's ``k`` is a kernel, one that picks a repeat's length a depth, one that
        sets ``c``, ``n`` or ``expand`` a width."""
        from nasl.ir.supergraph import Elastic
        out: dict = {}
        for n, d in self.sg.nodes(data=True):
            if d.get("kind") == "select" and d.get("how") == "depth":
                out.setdefault(d["path"], "depth")
            for k, v in (d.get("params") or {}).items():
                if isinstance(v, Elastic):
                    for dep in v.deps:
                        out.setdefault(dep, "kernel" if k == "k" else "width")
        return out

    def sort_channels(self) -> int:
        """OFA's L1 re-sorting of the expanded channels of every MBConv whose expand ratio is elastic
        (call it before the width phase; optimiser moments of those tensors are then stale).
        Returns the number of blocks sorted."""
        from nasl.oneshot.elastic import sort_middle_channels
        done = 0
        for n in self.an.order:
            e = (self.sg.nodes[n].get("params") or {}).get("expand")
            if e is not None and hasattr(e, "options") and isinstance(self._impl.get(n), nn.Module):
                done += sort_middle_channels(self._impl[n])
        return done


class OneShot(Relaxed):
    """Bender et al. 2018: ``sn(x)`` runs every candidate with path dropout (``set_drop_rate``, rising
    during training); ``sn(x, arch)`` runs one architecture. No architecture parameters: an elastic
    size is drawn per forward (the ``sample`` policy)."""

    relaxed = False
    mixture = True

    def __init__(self, sg, mode, space=None, drop_rate: float = 0.0, **options):
        from nasl.oneshot.graph import elastic_paths as _ep
        policy = dict(options.pop("policy", None) or {})
        for n, d in sg.nodes(data=True):
            for e in _ep(d.get("params")).values():
                policy.setdefault(e.path, "sample")
        super().__init__(sg, mode, space, policy=policy, **options)
        self.drop_rate = float(drop_rate)

    def _init_alpha(self, std):
        pass

    def set_drop_rate(self, rate: float):
        self.drop_rate = float(rate)


def _as_supergraph(space, policy):
    if hasattr(space, "restrict") and hasattr(space, "graph"):
        return space, None                          # a SuperGraph given directly (tests, tools)
    realize = getattr(space, "super_realize", None)
    if realize is None:
        raise NaslError(f"compile_supernet needs a Space, not {type(space).__name__}")
    return realize(), space


def build(space, mode: str, **options):
    """The supernet of ``space`` for ``mode`` (see the module doc for the options)."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        from nasl.ir.errors import did_you_mean
        raise NaslError(f"unknown supernet option '{unknown[0]}'; the options are: {', '.join(sorted(_OPTIONS))}",
                        hint=did_you_mean(unknown[0], sorted(_OPTIONS)))
    policy = options.get("policy") or {}
    for path, how in policy.items():
        if not isinstance(path, str):
            raise NaslError(f"a policy maps choice paths to 'fixed', 'sample' or a value, not {path!r}")
    drop_rate = options.pop("drop_rate", 0.0)
    kernel_transform = options.pop("kernel_transform", False)
    if kernel_transform and mode != "ofa":
        raise NaslError(f"kernel_transform is an option of mode 'ofa', not '{mode}'")
    sg, sp = _as_supergraph(space, policy)
    known = sg.graph.get("alpha") or {}
    for path in policy:
        if path not in known:
            from nasl.ir.errors import did_you_mean
            raise NaslError(f"the policy names '{path}', which is not a choice of the supernet",
                            hint=did_you_mean(path, sorted(known)))
    if mode == "pcdarts":
        return PCDarts(sg, mode, sp, **options)
    if mode in RELAXED:
        return Relaxed(sg, mode, sp, **options)
    if mode == "oneshot":
        return OneShot(sg, mode, sp, drop_rate=drop_rate, **options)
    if mode in SAMPLED:
        return Sampled(sg, mode, sp, kernel_transform=kernel_transform, **options)
    raise NaslError(f"mode '{mode}' is not built by nasl.oneshot.modes")


__all__ = ["build", "Relaxed", "PCDarts", "Sampled", "SAMPLED", "AlphaDict"]
