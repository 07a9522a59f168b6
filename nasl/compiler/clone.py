"""Build repeated ops by copying the first one instead of running its constructor again.

A NAS network repeats a few op configurations many times (NB201: 15 cells,
5 edges each, 3 widths). ``nn.Module.__init__`` and ``Module.__setattr__``
are slow Python, so constructing ``Sequential(ReLU, Conv2d, BatchNorm2d)``
costs about 250 µs, while copying the module's attribute dicts, giving it
fresh parameter tensors and calling the leaves' own ``reset_parameters()``
costs about 100 µs. :class:`ModuleFactory` does that within one compile:
the first op of each (name, params, input shapes) is built by its builder,
and the later ones are copies of it, made before anything has run it.

A copy is indistinguishable from a fresh module: the same classes and
attributes, its own parameters and buffers, and the same initial values as
a fresh one for the same random state, because ``reset_parameters()`` runs
on the same leaves in the same order as their constructors would (tested);
torch's Conv and Linear layers draw their values as they are copied instead,
from bounds worked out once per prototype (:mod:`nasl.compiler.fast_init`).
That only holds for modules whose constructor does nothing else, so copying
is limited to the classes in :data:`CLONEABLE` (torch's plain layers and
the compiler's own blocks); any other module, a user op's for instance, is
built by its builder every time. It is also off while a global module
registration hook or a torch function mode (``with torch.device(...)``) is
active, since a copy would bypass them.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn.modules import module as _module

from nasl.compiler import fast_init

CLONEABLE: set = {
    nn.Conv1d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.Linear, nn.LayerNorm,
    nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.Tanh, nn.Identity, nn.Dropout, nn.Flatten,
    nn.AvgPool2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d, nn.Sequential, nn.ModuleList, nn.ModuleDict,
}
# reset_parameters() of these draws nothing at random: fixed ones and zeros
DETERMINISTIC_INIT = {nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm}
_CONTAINERS = (dict, OrderedDict, set, list)


def cloneable(cls):
    """Class decorator: ``cls``'s constructor only stores plain attributes and builds
    submodules (whose parameters their own ``reset_parameters()`` initializes)."""
    CLONEABLE.add(cls)
    return cls


def _hooks_active() -> bool:
    hooks = (getattr(_module, name, None) for name in ("_global_module_registration_hooks",
             "_global_parameter_registration_hooks", "_global_buffer_registration_hooks"))
    if any(hooks):
        return True
    stack = getattr(torch._C, "_len_torch_function_stack", None)
    return stack is None or stack() > 0


def _can_copy(m: nn.Module) -> bool:
    for sub in m.modules():
        if type(sub) not in CLONEABLE:
            return False
        if any(p is not None and type(p) is not nn.Parameter for p in sub._parameters.values()):
            return False
    return True


def _copy_plan(proto: nn.Module, fast: bool = True) -> tuple:
    """What :func:`_copy` does to each module of ``proto``'s tree, worked out once per prototype:
    ``(class, container attributes, parameters, buffers, draw, ((name, plan of the child), ...))``,
    where ``draw`` is False (copy the tensors), True (``reset_parameters()`` after the copy) or
    the bounds each parameter is drawn from as it is made (:mod:`nasl.compiler.fast_init`)."""
    cls = type(proto)
    # The prototype has never run, so its tensors hold initial values. Where those are not
    # random (BatchNorm, LayerNorm), copying them is the same as resetting; otherwise the
    # module's reset_parameters() draws them (and, for BatchNorm, would reset the buffers).
    # (Asked of the class: a miss on the instance goes through Module.__getattr__, which
    # builds and raises an AttributeError, for every ReLU and pool copied.)
    draw = cls not in DETERMINISTIC_INIT and hasattr(cls, "reset_parameters")
    if draw and fast:
        draw = fast_init.bounds(proto) or True
    d = proto.__dict__
    plan = (cls, tuple(k for k, v in d.items() if type(v) in _CONTAINERS),
            tuple(k for k, p in d["_parameters"].items() if p is not None),
            tuple(k for k, b in d["_buffers"].items() if b is not None), draw,
            tuple((k, _copy_plan(sub, fast)) for k, sub in d["_modules"].items() if sub is not None))
    if fast and _draws(plan) == {tuple, bool}:
        # draws made during the copy and resets after it would change the order of the draws
        return _copy_plan(proto, False)
    return plan


def _draws(plan: tuple, out: set | None = None) -> set:
    """The kinds of random draw in a plan's tree: ``tuple`` (as made) and ``bool`` (a reset)."""
    out = set() if out is None else out
    if plan[4] is not False:
        out.add(type(plan[4]))
    for _, sub in plan[5]:
        _draws(sub, out)
    return out


def _copy(proto: nn.Module, plan: tuple, resets: list) -> nn.Module:
    """A copy of ``proto`` with tensors of its own; appends the modules whose
    ``reset_parameters()`` must run to ``resets``, in pre-order."""
    cls, containers, params, buffers, draw, subs = plan
    m = cls.__new__(cls)
    d = m.__dict__
    d.update(proto.__dict__)
    for k in containers:                # the attribute dicts (parameters, hooks, ...) of its own
        d[k] = d[k].copy()
    if params:
        ps = d["_parameters"]
        if type(draw) is tuple:         # drawn now, in reset_parameters()'s order
            for k, bound in zip(params, draw):
                ps[k] = fast_init.draw(ps[k], bound)
        else:
            fresh = torch.empty_like if draw else torch.clone
            for k in params:
                p = ps[k]
                ps[k] = nn.Parameter(fresh(p), p.requires_grad)
    if buffers:
        bs = d["_buffers"]
        for k in buffers:
            bs[k] = bs[k].clone()
    if draw is True:
        resets.append(m)
    if subs:
        ms, children = d["_modules"], proto.__dict__["_modules"]
        for k, sub_plan in subs:
            ms[k] = _copy(children[k], sub_plan, resets)
    return m


def container_factory():
    """A function that returns new empty ``nn.Module`` containers, as copies of one built here
    (``nn.Module()`` sets its eighteen attributes through ``Module.__setattr__``; a copy updates
    one dict). ``nn.Module()`` itself while registration hooks are active."""
    if _hooks_active():
        return nn.Module
    template = nn.Module()
    plan = _copy_plan(template)
    return lambda: _copy(template, plan, [])


def _key(op: str, params: dict, in_shapes: list):
    try:
        key = (op, tuple(params.items()), tuple(map(tuple, in_shapes)))
        hash(key)
        return key
    except TypeError:                       # a list-valued param: build this op every time
        return None


class ModuleFactory:
    """Calls op builders, copying modules already built in this compile (see the module doc)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and not _hooks_active()
        self._protos: dict = {}             # key -> (first module built, its copy plan), or None

    def build(self, builder, op: str, params: dict, in_shapes: list):
        """``builder(params, in_shapes)[0]``, or a fresh copy of the module it built before."""
        key = _key(op, params, in_shapes) if self.enabled else None
        proto = self._protos.get(key) if key is not None else None
        if proto is not None:
            resets: list = []
            m = _copy(*proto, resets)
            for sub in resets:              # pre-order: the order in which the constructors ran
                sub.reset_parameters()
            return m
        impl, _ = builder(params, in_shapes)
        if key is not None and key not in self._protos:
            self._protos[key] = (impl, _copy_plan(impl)) if isinstance(impl, nn.Module) and _can_copy(impl) else None
        return impl


__all__ = ["CLONEABLE", "ModuleFactory", "cloneable", "container_factory"]
