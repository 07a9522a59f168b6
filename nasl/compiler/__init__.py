"""The compiler: realized architectures to PyTorch modules through torch.fx.

Importing this package imports torch; ``import nasl`` does not import it.
"""
from nasl.compiler.build import compile, compile_graph, count_params, module_paths
from nasl.compiler.layers import build_op, get_builder, torch_op, torch_ops
from nasl.compiler.infer import infer_shapes
from nasl.compiler.shapes import ShapeError, op_shape, shape_rule
from nasl.compiler.export_onnx import to_onnx
from nasl.compiler.export_python import to_python

__all__ = ["compile", "compile_graph", "count_params", "module_paths", "build_op", "get_builder", "torch_op",
           "torch_ops", "ShapeError", "infer_shapes", "op_shape", "shape_rule", "to_onnx", "to_python"]
