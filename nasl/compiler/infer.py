"""Shape inference over a whole :class:`~nasl.ir.archgraph.ArchGraph`.

:func:`infer_shapes` walks the graph in execution order, before any module
is built, and applies each op's shape rule (:mod:`nasl.compiler.shapes`);
a rule's :class:`~nasl.compiler.shapes.ShapeError` becomes a
:class:`~nasl.ir.errors.NaslError` at the op's span. Dead nodes (that reach
no output) are checked too: a mistake is reported even where it would not
be built.
"""
from __future__ import annotations

from nasl.compiler.plan import Plan, plan_graph
from nasl.compiler.shapes import NoBuilder, ShapeError, op_shape
from nasl.compiler.user_ops import reraise
from nasl.ir.errors import NaslError


def input_shapes(graph, input_shape=None) -> dict:
    """The shapes of the network's inputs, from the graph or an override.

    ``input_shape`` is one shape (for a single input), a list with one shape
    per input, or a dict ``{input name: shape}``.
    """
    names = list(graph.graph.get("inputs", []))
    given: dict = {}
    if input_shape is not None:
        if isinstance(input_shape, dict):
            given = dict(input_shape)
        elif input_shape and all(isinstance(d, int) for d in input_shape):
            if len(names) != 1:
                raise NaslError(f"input_shape gives one shape but the network has {len(names)} inputs "
                                f"({', '.join(names)}); pass a dict or a list of shapes")
            given = {names[0]: input_shape}
        else:
            if len(input_shape) != len(names):
                raise NaslError(f"input_shape gives {len(input_shape)} shapes for {len(names)} inputs")
            given = dict(zip(names, input_shape))
    out = {}
    for n in names:
        s = given.get(n, graph.nodes[n].get("shape"))
        if s is None:
            raise NaslError(f"the shape of input '{n}' is not known; declare it (input {n}: [C, H, W]) "
                            f"or pass input_shape")
        s = tuple(s)
        if not s or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in s):
            raise NaslError(f"the shape of input '{n}' must be positive ints, got {list(s)}")
        out[n] = s
    return out


def infer_shapes(graph, input_shape=None, plan: Plan | None = None, missing_ok: bool = False) -> dict:
    """``{node: shape}`` for every node of ``graph``, in execution order.

    Raises :class:`NaslError` at the span of the first op whose inputs do not
    fit it. ``plan`` is the graph's :func:`~nasl.compiler.plan.plan_graph`,
    when the caller has it already. With ``missing_ok``, an op that has no
    shape rule nor builder (registered for counting only) ends the walk
    instead: ``nasl check`` checks what it can.
    """
    plan = plan or plan_graph(graph)
    shapes = input_shapes(graph, input_shape)
    nodes = graph.nodes
    for n in plan.order:
        d = nodes[n]
        kind = d.get("kind")
        if kind == "input":
            continue
        ins = [shapes[u] for u in plan.inputs[n]]
        if kind == "output":
            shapes[n] = ins[0]
            continue
        try:
            shapes[n] = op_shape(d["op"], d.get("params") or {}, ins)
        except NoBuilder as e:
            if missing_ok:
                return shapes
            raise NaslError(str(e), d.get("span"), path=n,
                            hint="pass builder= (and shape=) to nasl.register_op") from None
        except ShapeError as e:
            raise _mismatch(graph, n, d, plan.inputs[n], ins, e) from None
        except Exception as e:  # noqa: BLE001 - a user op's own code failed (see user_ops)
            if isinstance(e, (RuntimeError, MemoryError)):      # a user op without shape rule is built for its shape
                from nasl.compiler.budget import allocation_error
                alloc = allocation_error(d, n, e)
                if alloc is not None:
                    raise alloc from None
            reraise(e, n, d, "during shape inference")
    return shapes


def _mismatch(graph, n, d, inputs, ins, e) -> NaslError:
    """The error of op ``n`` whose inputs do not fit it.

    A merge of tensors that disagree is usually right and one of its inputs
    wrong: the op that made the input that differs from the first one (the
    main path of ``add(h, h >> conv(c))``) is the place to fix, so the error
    points there and the hint says where they merge.
    """
    shapes = ", ".join(str(list(s)) for s in ins)
    message = f"shape mismatch at '{n}' ({d['op']}): {e}"
    culprit = _odd_input(graph, d, inputs, ins)
    if culprit is None:
        return NaslError(message, d.get("span"), path=n, hint="input shapes: " + shapes)
    u, shape = culprit
    ud = graph.nodes[u]
    span = d.get("span")
    merged = f" at {span.line}:{span.col}" if span is not None else ""
    return NaslError(f"{message}; '{u}' ({ud['op']}) makes {list(shape)}, where the first input has "
                     f"{list(ins[0])}", ud.get("span"), path=u,
                     hint=f"merged by '{n}' ({d['op']}){merged}; input shapes: {shapes}")


def _odd_input(graph, d, inputs, ins):
    """``(node, shape)`` of the first input of merge ``d`` unlike its first, when an op with a span made it."""
    from nasl.ir.oplib import VARIADIC, get_op
    sig = get_op(d.get("op"))
    if sig is None or sig.inputs != VARIADIC or len(ins) < 2:
        return None
    # a concatenation joins channels: only the other dimensions must agree
    key = (lambda s: tuple(s[1:])) if d["op"].startswith("concat") else tuple
    for u, s in zip(inputs[1:], ins[1:]):
        if key(s) != key(ins[0]):
            ud = graph.nodes[u]
            return (u, s) if ud.get("kind") == "op" and ud.get("span") is not None else None
    return None


__all__ = ["infer_shapes", "input_shapes"]
