"""Functions available in every ``.nas`` file (besides ops and choice forms)."""
from __future__ import annotations

import re

from nasl.dsl.context import MAX_LENGTH
from nasl.dsl.values import PLACEHOLDER, Builtin, OpSym, Sym, Tensor, Unknown
from nasl.ir.errors import NaslTypeError


def _lift(name, fn):
    """A pure function that builds a symbol when an argument depends on a choice."""

    def call(interp, ctx, node, *args, **kwargs):
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, Unknown):
                return a
        if any(isinstance(a, Sym) for a in args):
            if kwargs:
                raise NaslTypeError(f"{name}(...) of a choice takes no keyword arguments", node.span)
            return OpSym(fn, tuple(args), name)
        try:
            return fn(*args, **kwargs)
        except (TypeError, ValueError, IndexError) as err:
            # "_enumerate() missing 1 required ...": the Python function's name is not the user's
            raise NaslTypeError(f"{name}(...): {re.sub(r'^[_a-z]+[(][)] ', '', str(err))}", node.span) from None

    return Builtin(name, call)


def _range(*args):
    for a in args:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"expected ints, got {a!r}")
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:       # more items than a machine word counts
        n = (r.stop - r.start) // r.step
    if n > MAX_LENGTH:
        raise ValueError(f"{n:,} items is more than the {MAX_LENGTH:,} a range may have")
    return list(r)


def _enumerate(xs, start=0):
    return [(i + start, x) for i, x in enumerate(xs)]


def _zip(*xss):
    return [tuple(t) for t in zip(*xss)]


def _select(interp, ctx, node, items, chosen):
    """The items at the chosen indices: select(layers, skips)."""
    if not isinstance(items, (list, tuple)):
        raise NaslTypeError("select(items, indices) needs a list of items", node.span)
    if isinstance(chosen, Sym):
        if all(isinstance(x, Tensor) for x in items):
            return [PLACEHOLDER]
        return OpSym(lambda c: [items[i] for i in c], (chosen,), "select")
    try:
        return [items[i] for i in chosen]
    except (TypeError, IndexError) as err:
        raise NaslTypeError(f"select(...): {err}", node.span) from None


def _uses(interp, ctx, node, *args):
    """``uses(x)``: the network's output depends on input ``x``."""
    from nasl.ir.symbols import GraphSym
    if len(node.args) != 1 or type(node.args[0]).__name__ != "Name":
        raise NaslTypeError("uses(x) takes the name of a network input", node.span)
    name = node.args[0].id

    def check(g):
        import networkx as nx
        if name not in g:
            return False
        return any(nx.has_path(g, name, out) for out in g.graph["outputs"])
    return GraphSym(check, f"uses({name})")


def _net_edges(interp, ctx, node):
    """``edges()`` outside a dag: connections between the network's layers."""
    from nasl.ir.symbols import GraphSym
    return GraphSym(lambda g: sum(1 for _, v in g.edges() if g.nodes[v].get("kind") == "op"), "edges()")


def _net_nodes(interp, ctx, node):
    """``nodes()`` outside a dag: the number of layers."""
    from nasl.ir.symbols import GraphSym
    return GraphSym(lambda g: sum(1 for _, d in g.nodes(data=True) if d.get("kind") == "op"), "nodes()")


def make_builtins() -> dict:
    from nasl.dsl.dag import builtin_pick
    b = {
        "range": _lift("range", _range),
        "len": _lift("len", len),
        "enumerate": _lift("enumerate", _enumerate),
        "zip": _lift("zip", _zip),
        "min": _lift("min", min),
        "max": _lift("max", max),
        "abs": _lift("abs", abs),
        "list": _lift("list", list),
        "select": Builtin("select", _select),
        "pick": Builtin("pick", builtin_pick),
        "uses": Builtin("uses", _uses),
        "edges": Builtin("edges", _net_edges),
        "nodes": Builtin("nodes", _net_nodes),
    }
    return b


BUILTIN_NAMES = frozenset(make_builtins()) | {"edges", "connected", "nodes", "uses"}
