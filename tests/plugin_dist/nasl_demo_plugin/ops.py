"""The op ``demo_scale(factor=2.0)``: the input times a constant, with one registration (nasl.register_op).

Nothing here imports torch: the builder imports it when the op is built, so ``nasl check`` of a space
that uses the op stays torch-free.
"""
import nasl


def _build(params, in_shapes):
    factor = float(params["factor"])

    def scale(x):           # a function of the input tensors: traced into the generated forward
        return x * factor
    return scale, tuple(in_shapes[0])


def _shape(params, in_shapes):
    return tuple(in_shapes[0])


def _cost(params, in_shapes, out_shape):
    return {"params": 0, "flops": 0, "macs": 0}       # an elementwise product counts nothing, as relu


nasl.register_op("demo_scale", (("factor", 2.0),), doc="the input times factor (a plug-in op)",
                 builder=_build, shape=_shape, cost=_cost, example=({"factor": 3.0}, [(4, 5, 5)]))
