"""The torch supernet of a ``SuperGraph``: shared candidate modules, architecture parameters, forwards.

Every op node of the SuperGraph gets the compiler's own module (the builder
``nasl.compile`` uses) at the maximum of its ``Elastic`` parameters, under a
submodule path made from its super node id by ``module_paths``, so that
``state_dict`` keys are deterministic and readable. Two forwards share them:

- the *relaxed* forward (darts, snas, gdas, pcdarts, proxyless) walks the
  SuperGraph; a select mixes its branches by the mode's weights
  (:mod:`nasl.oneshot.mixed`); a node owned by one branch runs only when that
  branch must (GDAS runs one);
- the *architecture* forward (``sn(x, arch)``, ``with sn.use(arch)``, every
  sampled mode) runs ``restrict(arch)``'s ArchGraph, which equals
  ``space.realize(arch)``, with the shared modules: only that architecture's
  candidates execute, and an elastic op runs its template on sliced tensors
  (:mod:`nasl.oneshot.elastic`). Its subnet (``nasl.compile`` with
  :meth:`Supernet.sub_state_dict`) computes the same function.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from nasl.compiler.build import nest_modules, compile_graph, module_paths
from nasl.compiler.infer import infer_shapes, input_shapes
from nasl.compiler.layers import get_builder
from nasl.compiler.plan import plan_graph
from nasl.ir.architecture import Architecture
from nasl.ir.errors import InvalidArchitecture, NaslError
from nasl.oneshot import derive as _derive
from nasl.oneshot import relaxed_forward as _rf
from nasl.oneshot.elastic import Templates, run_sliced, sliced_state
from nasl.oneshot.graph import analyse, at_max, infer, pick_tables
from nasl.oneshot.sliced import compile_sliced
from nasl.oneshot.params import AlphaDict, prepare_module, reference_state


class Supernet(nn.Module):
    """A weight-sharing supernet (see the module doc and docs/oneshot.md); built by :func:`build`."""

    relaxed = False         # architecture parameters: derive, probs, expected_cost
    mixture = False         # sn(x) without an architecture walks the SuperGraph (relaxed modes, oneshot)

    def __init__(self, sg, mode: str, space=None, *, affine: bool = True, conv_bias: bool = False,
                 policy: dict | None = None, input_shape=None, k: int = 4, tau: float = 1.0, seed=None,
                 init_std: float = 1e-3):
        super().__init__()
        self.mode, self.space, self.sg = mode, space, sg
        self.policy = dict(policy or {})
        self.k, self.tau = int(k), float(tau)
        self.affine, self.conv_bias = bool(affine), bool(conv_bias)
        self._arch = None
        self._plans: dict = {}
        self._generator = torch.Generator().manual_seed(seed) if seed is not None else None
        self.an = analyse(sg)
        self.edges, self.picks = pick_tables(sg, self.an)
        self.inputs = list(sg.graph.get("inputs", []))
        self.outputs = list(sg.graph.get("outputs", []))
        self.in_shapes = input_shapes(sg, input_shape)
        self.shapes = infer(sg, self.an, self.in_shapes, self._rewrite, self._select_shape)
        self._nonaffine = self._cell_ops() if not self.affine else set()
        self._impl: dict = {}
        modules = {}
        paths = module_paths(sg)
        for n in self.an.order:
            d = sg.nodes[n]
            if d.get("kind") != "op":
                continue
            ins = [self.shapes[p.src] for p in self.an.inputs[n] if p.src is not None]
            params, ins = self._rewrite(n, at_max(d.get("params")), ins, self.shapes)
            builder = get_builder(d["op"])
            if builder is None:
                raise NaslError(f"op '{d['op']}' has no PyTorch builder", d.get("span"), path=n)
            impl, _ = builder(params, ins)
            if isinstance(impl, nn.Module):
                impl = self._prepare(n, impl)
                modules[paths[n]] = impl
            self._impl[n] = impl
        self.paths = paths
        self.net = nest_modules(nn.Module(), modules)
        self._templates = Templates(self._prepare)
        self._plain = Templates()
        self.alpha = AlphaDict()
        self.beta = AlphaDict()
        if self.relaxed:
            self._init_alpha(init_std)

    # ------------------------------------------------------------------ build helpers
    def _rewrite(self, n, params, ins, shapes):
        return params, ins                  # PC-DARTS builds candidates at C/K channels (modes.py)

    def _select_shape(self, n, shape, shapes):
        return shape

    def _cell_ops(self) -> set:
        """The ops whose BatchNorms ``affine=False`` strips: candidates (ops owned by a branch) and the
        ops that only feed candidates (a DARTS cell's preprocessing). A ``bn`` op keeps its own flag."""
        sg, an = self.sg, self.an
        out = set()
        users: dict = {}
        for n in an.order:
            for i, p in enumerate(an.inputs[n]):
                if p.src is not None:
                    users.setdefault(p.src, []).append(n)
        for n in an.order:
            d = sg.nodes[n]
            if d.get("kind") != "op" or d.get("op") == "bn":
                continue
            us = users.get(n, [])
            if n in an.owner or (us and all(sg.nodes[u].get("kind") == "select" or u in an.owner for u in us)):
                out.add(n)
        return out

    def _prepare(self, n, m: nn.Module) -> nn.Module:
        return prepare_module(m, n in self._nonaffine, self.conv_bias and n in self._nonaffine)

    def _init_alpha(self, std: float):
        table = self.sg.graph.get("alpha") or {}
        for path, (rows, labels) in table.items():
            if path in self.policy:
                continue
            shape = (len(labels),) if rows is None else (rows, len(labels))
            self.alpha[path] = nn.Parameter(std * torch.randn(shape, generator=self._generator))
        if not len(self.alpha):
            raise NaslError(f"nothing to relax: the space has no choice mode '{self.mode}' can relax"
                            + (" (the policy fixes or samples all of them)" if self.policy else ""))

    # ------------------------------------------------------------------ parameter groups
    def arch_parameters(self):
        return list(self.alpha.parameters()) + list(self.beta.parameters())

    def weights(self):
        return list(self.net.parameters())

    # ------------------------------------------------------------------ forwards
    @contextlib.contextmanager
    def use(self, arch):
        """Run ``arch`` in the forwards inside the ``with`` block."""
        before, self._arch = self._arch, self._check(arch)
        try:
            yield self
        finally:
            self._arch = before

    def forward(self, *xs, arch=None):
        if len(xs) > len(self.inputs) and arch is None and not torch.is_tensor(xs[-1]):
            *xs, arch = xs
        arch = self._check(arch) if arch is not None else self._arch
        if arch is not None:
            return self._run_arch(arch, xs)
        if not self.mixture:
            raise NaslError(f"a '{self.mode}' supernet runs one architecture: call sn(x, arch), use "
                            f"'with sn.use(arch):', or draw one with sn.sample_arch(rng)")
        return _rf.run(self, xs)

    def _check(self, arch) -> Architecture:
        if self.space is not None:
            try:
                return self.space.validate(arch)
            except NaslError as e:
                raise InvalidArchitecture(f"an architecture outside the supernet's space: {e.message}",
                                          e.span, path=e.path, source=e.source) from None
        return arch if isinstance(arch, Architecture) else Architecture(dict(arch))

    def _plan(self, arch):
        """(ArchGraph, plan, [(node, super node, runner)]) of ``arch``, cached."""
        key = arch.id if hasattr(arch, "id") else repr(sorted(dict(arch).items()))
        got = self._plans.get(key)
        if got is not None:
            return got
        ag, node_map = self.sg.restrict(dict(arch))
        plan = plan_graph(ag)
        shapes = infer_shapes(ag, {k: self.in_shapes[k] for k in ag.graph.get("inputs", [])}, plan)
        steps = []
        for n in plan.order:
            d = ag.nodes[n]
            if d.get("kind") != "op":
                continue
            s = node_map.get(n)
            params, ins = d.get("params") or {}, [shapes[u] for u in plan.inputs[n]]
            if s is None or s not in self._impl:
                # an op restrict makes without a super node (a dag node whose edges are all zero): no weights
                small = get_builder(d["op"])(params, ins)[0]
                if isinstance(small, nn.Module) and any(True for _ in small.parameters()):
                    raise NaslError(f"internal: '{n}' ({d['op']}) has weights but no super node", d.get("span"))
                s = None
            else:
                sd = self.sg.nodes[s]
                big = self._impl[s]
                same = (params == at_max(sd.get("params"))
                        and ins == [self.shapes[p.src] for p in self.an.inputs[s] if p.src is not None])
                if same or not isinstance(big, nn.Module):
                    small = big if same else get_builder(d["op"])(params, ins)[0]
                else:
                    small = self._templates.get(d["op"], params, ins, node=s)
                    small = compile_sliced(big, small) or small       # which slices: fixed once per plan
            steps.append((n, s, small, params, ins, n in plan.live))
        got = self._plans[key] = (ag, plan, steps)
        if len(self._plans) > 4096:
            self._plans.pop(next(iter(self._plans)))
        return got

    def _run_arch(self, arch, xs):
        ag, plan, steps = self._plan(arch)
        vals = dict(zip(ag.graph.get("inputs", []), xs))
        for n, s, small, _, _, live in steps:
            if live:
                ins = [vals[u] for u in plan.inputs[n]]
                vals[n] = run_sliced(self._impl[s], small, ins) if s is not None else small(*ins)
        outs = [vals[plan.inputs[o][0]] for o in ag.graph.get("outputs", [])]
        return outs[0] if len(outs) == 1 else tuple(outs)

    # ------------------------------------------------------------------ architectures
    def sample_arch(self, rng=None) -> Architecture:
        """A uniformly drawn valid architecture (``space.sample``); a ``fixed`` policy path keeps its
        value (the first label, or the one the policy gives). Without a space: per choice."""
        table = self.sg.graph.get("alpha") or {}
        fixed = {p: (list(table[p][1])[0] if how == "fixed" else how)
                 for p, how in self.policy.items() if how != "sample" and p in table}
        if self.space is None:
            import random
            r = rng if isinstance(rng, random.Random) else random.Random(rng)
            return Architecture({p: fixed.get(p, r.choice(list(labels))) for p, (_, labels) in table.items()})
        arch = self.space.sample(rng)
        if fixed:
            arch = self._check(arch.replace({p: v for p, v in fixed.items() if p in arch.keys()}))
        return arch

    def probs(self) -> dict:
        return _derive.probs(self)

    def derive(self) -> Architecture:
        return _derive.derive(self)

    def expected_cost(self, metric: str = "flops"):
        return _derive.expected_cost(self, metric)

    def set_temperature(self, tau: float):
        self.tau = float(tau)

    # ------------------------------------------------------------------ subnets
    def sub_state_dict(self, arch) -> dict:
        """The ``state_dict`` of ``nasl.compile(space, arch)``, from the shared tensors (sliced)."""
        arch = self._check(arch)
        ag, plan, steps = self._plan(arch)
        paths = module_paths(ag)
        out = {}
        for n, s, small, params, ins, _ in steps:
            big = self._impl.get(s)
            if not isinstance(big, nn.Module):
                continue
            ref = self._plain.get(ag.nodes[n]["op"], params, ins)      # what nasl.compile builds
            state = sliced_state(big, ref)
            for key, t in reference_state(big, ref, state).items():
                out[f"{paths[n]}.{key}"] = t.detach().clone()
        return out

    def subnet(self, arch) -> nn.Module:
        """``nasl.compile(space, arch)`` holding the supernet's weights for ``arch``."""
        arch = self._check(arch)
        if self.space is not None:
            from nasl.compiler.build import compile as _compile
            m = _compile(self.space, arch)
        else:
            m = compile_graph(self.sg.restrict(dict(arch))[0])
        m.load_state_dict(self.sub_state_dict(arch), strict=True)
        return m


__all__ = ["Supernet"]
