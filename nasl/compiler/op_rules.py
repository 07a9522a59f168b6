"""The registries of nasl's own op library: PyTorch builders, shape rules and cost rules, by op name.

A user op keeps all three on its one registration (``nasl.register_op(builder=, shape=, cost=)``,
the documented way); the ``get_*`` functions fall back to it. nasl's library registers its code
with the decorators :func:`torch_op`, :func:`shape_rule` and :func:`cost_rule`, in the modules that
each registry imports before it is first read (its ``builtins``): so no module of the library has
to import the others to have them registered, and they form no import cycle. This module imports
neither torch nor any of them.
"""
from __future__ import annotations

from nasl.ir.oplib import get_op
from nasl.registry import Registry

# builder(params, in_shapes) -> (impl, out_shape): imports torch, so only a build reads it
BUILDERS = Registry("op builder", "nasl.ops", builtins=(
    "nasl.compiler.layers", "nasl.compiler.blocks", "nasl.compiler.merges", "nasl.compiler.rnn_ops",
    "nasl.compiler.layers_ext", "nasl.compiler.transformer"))
# rule(params, in_shapes) -> out_shape, torch-free
SHAPE_RULES = Registry("shape rule", "nasl.ops", builtins=(
    "nasl.compiler.shapes", "nasl.compiler.rnn_shapes", "nasl.compiler.shapes_ext"))
# rule(params, in_shapes, out_shape) -> OpCost, torch-free
COST_RULES = Registry("cost rule", "nasl.ops", builtins=("nasl.compiler.cost", "nasl.compiler.cost_ext"))


def _decorator(registry: Registry, names, replace: bool):
    def deco(fn):
        for name in names:
            registry.register(name, fn, replace=replace)
        return fn
    return deco


def torch_op(*names: str, replace: bool = False):
    """Register the PyTorch builder of the library ops ``names`` (aliases share one builder; their
    signatures live in ``nasl.ir.oplib``). A user op passes ``builder=`` to ``nasl.register_op``."""
    return _decorator(BUILDERS, names, replace)


def shape_rule(*names: str, replace: bool = False):
    """Register ``fn(params, in_shapes) -> out_shape`` for the library ops ``names``."""
    return _decorator(SHAPE_RULES, names, replace)


def cost_rule(*names: str, replace: bool = False):
    """Register ``fn(params, in_shapes, out_shape) -> OpCost`` for the library ops ``names``."""
    return _decorator(COST_RULES, names, replace)


def _own_or_signatures(registry: Registry, name: str, field: str):
    fn = registry.find(name)
    if fn is None:
        sig = get_op(name)
        fn = getattr(sig, field) if sig is not None else None
    return fn


def get_builder(name: str):
    """The builder of ``name``: one registered with :func:`torch_op`, else ``register_op(builder=)``'s."""
    return _own_or_signatures(BUILDERS, name, "builder")


def get_shape_rule(name: str):
    """The shape rule of ``name``: one registered with :func:`shape_rule`, else ``register_op(shape=)``'s."""
    return _own_or_signatures(SHAPE_RULES, name, "shape")


def raw_cost_rule(name: str):
    """The cost rule of ``name`` as registered (``nasl.compiler.cost.get_cost_rule`` wraps a user's)."""
    return _own_or_signatures(COST_RULES, name, "cost")


def run_impl(impl, inputs: list):
    """Apply a built op to tensors, eagerly (tests, meta shape inference)."""
    return impl(*inputs)


__all__ = ["BUILDERS", "SHAPE_RULES", "COST_RULES", "torch_op", "shape_rule", "cost_rule", "get_builder",
           "get_shape_rule", "raw_cost_rule", "run_impl"]
