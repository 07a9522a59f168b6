"""Recurrent cells from expression spaces (Schrimpf et al., 2018).

A cell space names its sources as network inputs: one input per step
(``x_t``) and state inputs ending in ``_prev`` (``h_prev``, ``c_prev``,
``x_prev`` for x_{t-1}). The next value of a state input ``s_prev`` is, in
this order of preference:

- the network output named ``s_t`` (a ``tap("s_t")`` on an internal node);
- for ``h_prev``, the network's return value ``h_t``;
- the network input ``s_t`` (so ``x_prev`` receives ``x_t``).

:func:`compile_cell` returns a :class:`RecurrentCell`, whose
``forward(x_t, state) -> (h_t, new_state)`` runs the compiled expression
once; ``state`` is a tuple of tensors in the order of ``cell.state_names``
(``None`` starts from zeros). :class:`RecurrentNet` runs a cell over a
``[T, N, F]`` sequence. A cell that uses ``PosEnc`` keeps the time step as
its last state entry (``step``, shape ``[N, 1]``), which it increments.
"""
from __future__ import annotations

import torch
from torch import nn

from nasl.compiler.build import compile_graph
from nasl.compiler.infer import infer_shapes, input_shapes
from nasl.ir.errors import NaslError

OUTPUT = "output"       # the node of the network's return value


def _state_plan(graph, shapes) -> tuple:
    """``(step input, [(state input, next-value source, 'output'|'input')])``."""
    inputs = list(graph.graph.get("inputs", []))
    outputs = list(graph.graph.get("outputs", []))
    data = [n for n in inputs if not n.endswith("_prev")]
    if len(data) != 1:
        raise NaslError(f"a recurrent cell takes one input per step besides its '_prev' state inputs; "
                        f"this network has {len(data)}: {', '.join(data) or 'none'}",
                        hint="name the state inputs h_prev, c_prev, ... and the step input x_t")
    if OUTPUT not in outputs:
        raise NaslError("a recurrent cell needs a return value (h_t)")
    plan = []
    for s in inputs:
        if not s.endswith("_prev"):
            continue
        base = s[:-len("_prev")]
        if base + "_t" in outputs:
            src, kind = base + "_t", "output"
        elif base == "h":
            src, kind = OUTPUT, "output"
        elif base + "_t" in inputs:
            src, kind = base + "_t", "input"
        else:
            raise NaslError(f"the cell reads '{s}' but nothing gives its next value",
                            graph.nodes[s].get("span"), path=s,
                            hint=f"export it from an internal node with tap(\"{base}_t\")")
        if shapes[src] != shapes[s]:
            raise NaslError(f"'{src}' has shape {list(shapes[src])} but feeds '{s}' of shape "
                            f"{list(shapes[s])} at the next step", graph.nodes[s].get("span"), path=s)
        plan.append((s, src, kind))
    return data[0], plan


def _with_step(graph) -> tuple:
    """A copy of ``graph`` whose ``PosEnc`` nodes also read a step input; ``(graph, step name)``."""
    users = [n for n, d in graph.ops() if d["op"] == "PosEnc"]
    if not users:
        return graph, None
    g = graph.copy()
    name = "step"
    while name in g:
        name = "_" + name
    g.add_node(name, kind="input", op="input", params={}, shape=(1,), scope="", span=None)
    g.graph = dict(g.graph, inputs=list(g.graph["inputs"]) + [name])
    for n in users:
        g.add_edge(name, n, port=1)
    return g, name


class RecurrentCell(nn.Module):
    """``forward(x_t, state=None) -> (h_t, new_state)`` around a compiled expression."""

    def __init__(self, net, input_name: str, plan: list, step: str | None, shapes: dict):
        super().__init__()
        self.net = net
        self.input_name = input_name
        self.state_names = tuple(s for s, _, _ in plan) + ((step,) if step else ())
        self.state_shapes = tuple(shapes[s] for s, _, _ in plan) + (((1,),) if step else ())
        self._plan = [(src, kind) for _, src, kind in plan]
        self._step = step
        self._inputs = list(net.input_shapes)
        self._outputs = list(net.output_shapes)
        self.input_size = shapes[input_name][-1]
        self.hidden_size = shapes[OUTPUT][-1]

    def init_state(self, batch: int, device=None, dtype=None) -> tuple:
        return tuple(torch.zeros((batch,) + tuple(s), device=device, dtype=dtype) for s in self.state_shapes)

    def forward(self, x_t, state=None):
        if state is None:
            state = self.init_state(x_t.shape[0], x_t.device, x_t.dtype)
        feeds = dict(zip(self.state_names, state))
        feeds[self.input_name] = x_t
        outs = self.net(*[feeds[n] for n in self._inputs])
        if len(self._outputs) == 1:
            outs = (outs,)
        named = dict(zip(self._outputs, outs))
        new = [named[src] if kind == "output" else feeds[src] for src, kind in self._plan]
        if self._step:
            new.append(feeds[self._step] + 1)
        return named[OUTPUT], tuple(new)


class RecurrentNet(nn.Module):
    """Runs a cell over a sequence: ``forward(x [T, N, F], state=None) -> (h [T, N, H], state)``."""

    def __init__(self, cell: RecurrentCell):
        super().__init__()
        self.cell = cell

    def forward(self, x, state=None):
        outs = []
        for t in range(x.shape[0]):
            h, state = self.cell(x[t], state)
            outs.append(h)
        return torch.stack(outs, 0), state


def compile_graph_cell(graph, input_shape=None) -> RecurrentCell:
    """The :class:`RecurrentCell` of a realized cell graph (see :func:`compile_cell`)."""
    given = input_shapes(graph, input_shape)
    shapes = infer_shapes(graph, given)
    x_name, plan = _state_plan(graph, shapes)
    g, step = _with_step(graph)
    if step:
        given = dict(given, **{step: (1,)})
    net = compile_graph(g, given, class_name="NaslCell")
    return RecurrentCell(net, x_name, plan, step, shapes)


def compile_cell(space, arch, input_shape=None) -> RecurrentCell:
    """Compile one architecture of an expression space into a recurrent cell.

    ``input_shape`` overrides the declared input shapes, as for
    ``nasl.compile`` (a dict by input name, e.g. ``{"x_t": (64,)}``).
    Raises ``NaslError`` when the cell's state does not close: a ``_prev``
    input without a next value, or one whose next value has another shape.
    """
    return compile_graph_cell(space.realize(arch), input_shape)


__all__ = ["compile_cell", "compile_graph_cell", "RecurrentCell", "RecurrentNet"]
