"""The compiler: realized architectures to PyTorch modules through torch.fx.

The names below import torch when first used; shape inference
(``nasl.compiler.infer``, ``nasl.compiler.shapes``) and cost
(``nasl.compiler.cost``) do not need it, so ``nasl check`` stays light.
"""
from __future__ import annotations

import importlib

# name -> the submodule that defines it
_WHERE = {
    "compile": "build", "compile_graph": "build", "count_params": "build", "module_paths": "build",
    "build_op": "layers", "get_builder": "layers", "torch_op": "layers", "torch_ops": "layers",
    "infer_shapes": "infer", "ShapeError": "shapes", "op_shape": "shapes", "shape_rule": "shapes",
    "to_onnx": "export_onnx", "to_python": "export_python",
}


def __getattr__(name):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'nasl.compiler' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"nasl.compiler.{where}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


__all__ = ["compile", "compile_graph", "count_params", "module_paths", "build_op", "get_builder", "torch_op",
           "torch_ops", "ShapeError", "infer_shapes", "op_shape", "shape_rule", "to_onnx", "to_python"]
