"""Functions available in every ``.nas`` file (besides ops and choice forms)."""
from __future__ import annotations

import functools
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
            if any(isinstance(v, Sym) for v in kwargs.values()):
                raise NaslTypeError(f"{name}(...): a keyword argument may not depend on a choice", node.span)
            return OpSym(functools.partial(fn, **kwargs) if kwargs else fn, tuple(args), name)
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


def _number(x, what: str):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{what} must be a number, got {x!r}")


def _int(x):
    """``int(x)``: a number towards zero (a width multiplier's result as a channel count)."""
    _number(x, "int(x): x")
    return int(x)


def _round(x, ndigits=None):
    """``round(x)``: the nearest int (halves to even, as Python does); ``round(x, n)`` a float."""
    _number(x, "round(x): x")
    if ndigits is not None and (isinstance(ndigits, bool) or not isinstance(ndigits, int)):
        raise TypeError(f"round(x, ndigits): ndigits must be an int, got {ndigits!r}")
    return round(x) if ndigits is None else round(x, ndigits)


def make_divisible(v, divisor=8, min_value=None):
    """MobileNet's channel rule: ``v`` rounded to a multiple of ``divisor``, at least ``min_value``
    (default ``divisor``), and never more than 10% below ``v`` (one ``divisor`` more if it would be)."""
    _number(v, "make_divisible(v): v")
    for n, x in (("divisor", divisor), ("min_value", min_value)):
        if x is not None and (isinstance(x, bool) or not isinstance(x, int) or x <= 0):
            raise TypeError(f"make_divisible(...): {n} must be a positive int, got {x!r}")
    floor = divisor if min_value is None else min_value
    out = max(floor, int(v + divisor / 2) // divisor * divisor)
    if out < 0.9 * v:
        out += divisor
    return out


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
        "int": _lift("int", _int),
        "round": _lift("round", _round),
        "make_divisible": _lift("make_divisible", make_divisible),
        "select": Builtin("select", _select),
        "pick": Builtin("pick", builtin_pick),
        "uses": Builtin("uses", _uses),
        "edges": Builtin("edges", _net_edges),
        "nodes": Builtin("nodes", _net_nodes),
    }
    return b


BUILTIN_NAMES = frozenset(make_builtins()) | {"edges", "connected", "nodes", "uses"}
