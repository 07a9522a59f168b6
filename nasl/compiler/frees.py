"""Where the generated forward frees its intermediate tensors.

torch.fx's code generator frees every value right after its last use
(``...;  a = b = None``). For the compiled cell networks that order makes
glibc's allocator hand large activation blocks back to the kernel and map
them again at a rate that varies from process to process (BENCHMARKS.md,
sections 14 and 15): at batch 64, a third of a forward's time can go to
minor page faults. A hand-written cell keeps its nodes in a list until the
cell returns, which frees them in larger, steadier batches.

This module moves the frees of a cell's *states* to the cell's end, as the
hand-written loops do. A scope is the first segment of an op's ``ArchGraph``
node id (``cell[0][2]`` for ``cell[0][2].edge[0->1].relu_conv_bn``); a
top-level op (``conv``, ``bn``) is its own scope. A state is the result of
a merge of several inputs (a node's sum, a concat), tagged ``STATE_KEY`` by
the builder. Then:

* a state, a network input, and any value read in another scope than its
  own (a cell's input, a cell's output) is freed right after the last line
  of the scope of its last use: a cell's states and input when the cell
  ends, its output when the next cell ends (the hand-written cell keeps
  these in its ``nodes`` / ``states`` list until it returns);
* any other value (an edge's output, read only in its own scope) is freed
  at its last use, as torch.fx does.

``FREE_ALL = True`` keeps every value of a scope until the scope ends (an
alternative that was measured; BENCHMARKS.md section 15).

It is a body transformer registered with torch.fx's public
``Graph.on_generate_code``: it only moves ``name = None`` statements, so
``print(model.code)`` keeps one readable line per op, and the lines, their
order and the arithmetic are those of torch.fx. The transformer is a plain
object holding the free plan by node name; it is copied with the graph, and
if the code it is given does not assign exactly the names of the plan (the
graph was edited after compiling), it leaves torch.fx's frees as they are.
"""
from __future__ import annotations

import re

from torch import fx

SCOPE_KEY = "nasl_scope"    # fx node meta: the scope of the op that emitted the node
STATE_KEY = "nasl_state"    # fx node meta: the value is a cell state (a merge of several inputs)
FREE_ALL = False            # experiment switch: True keeps every value of a scope until its end
_FREE_SUFFIX = re.compile(r";  (?:\w+ = )+None$")
_ASSIGN = re.compile(r"^(\w+) = ")


def scope_ends(graph: fx.Graph) -> dict:
    """``{name of a scope's last node: scope}`` for the scopes tagged in the nodes' meta."""
    last: dict = {}
    for n in graph.nodes:
        if SCOPE_KEY in n.meta:
            last[n.meta[SCOPE_KEY]] = n.name
    return {name: scope for scope, name in last.items()}


def free_plan(graph: fx.Graph) -> dict:
    """``{node name: [names to free after its line]}``: states, inputs and values read
    outside their scope at the end of their last user's scope, other values (edges) at
    their last use (see the module docstring)."""
    nodes = [n for n in graph.nodes if n.op not in ("placeholder", "output")]
    scope_end: dict = {}            # scope -> name of its last node in program order
    for n in nodes:
        scope_end[n.meta.get(SCOPE_KEY, n.name)] = n.name
    position = {n.name: i for i, n in enumerate(nodes)}
    plan: dict = {n.name: [] for n in nodes}
    values = [n for n in graph.nodes if n.op != "output"]
    for v in values:
        users = list(v.users)
        if any(u.op == "output" for u in users):
            continue                # returned: never freed
        if not users:
            if v.op != "placeholder":
                plan[v.name].append(v.name)     # as torch.fx does for an unused value
            continue
        own = v.meta.get(SCOPE_KEY, v.name)
        if (not FREE_ALL and not v.meta.get(STATE_KEY) and v.op != "placeholder"
                and all(u.meta.get(SCOPE_KEY, u.name) == own for u in users)):
            at = max((u.name for u in users), key=position.__getitem__)     # an edge's output: last use
        else:   # a state or a scope's input: the end of the last user's scope (which may end last)
            at = max((scope_end[u.meta.get(SCOPE_KEY, u.name)] for u in users), key=position.__getitem__)
        plan[at].append(v.name)
    return plan


class ScopeFrees:
    """A torch.fx body transformer that places the frees by :func:`free_plan`.

    Parameters
    ----------
    plan : dict
        ``{node name: [names to free after that node's line]}``.
    ends : dict, optional
        ``{node name: scope}`` for the last node of each scope; their frees go on a
        line of their own, commented with the scope (``# end of cell[0][2]``).
    """

    def __init__(self, plan: dict, ends: dict | None = None):
        self.plan = {k: list(v) for k, v in plan.items()}
        self.ends = dict(ends or {})

    def __call__(self, body: list) -> list:
        lines = "".join(body).split("\n")
        assigned = {m.group(1) for m in map(_ASSIGN.match, lines) if m}
        if assigned != set(self.plan):
            return body             # the graph changed since the plan was made: keep fx's frees
        out = []
        for line in lines:
            m = _ASSIGN.match(line)
            if not m:
                out.append(line)
                continue
            line = _FREE_SUFFIX.sub("", line)
            names = self.plan[m.group(1)]
            scope = self.ends.get(m.group(1))
            if names and scope is None:         # a top-level op: torch.fx's own style
                line += ";  " + " = ".join(names) + " = None"
            out.append(line)
            if names and scope is not None:     # a scope ends: its frees on a line of their own
                out.append(" = ".join(names) + f" = None  # end of {scope}")
        return ["\n".join(out)]


def free_at_scope_ends(graph: fx.Graph) -> fx.Graph:
    """Register :class:`ScopeFrees` on ``graph`` (call before the ``GraphModule`` generates its code)."""
    graph.on_generate_code(lambda _previous: ScopeFrees(free_plan(graph), scope_ends(graph)))
    return graph


__all__ = ["SCOPE_KEY", "STATE_KEY", "ScopeFrees", "free_plan", "scope_ends", "free_at_scope_ends"]
