"""Realize repeated dag cells once per architecture, and copy the others.

A network applies the same cell many times: NAS-Bench-201 builds 15 cells
from one tied genotype, DARTS 20 from two. Within one realization, two
applications of one dag with the same choice prefix (so the same answers),
the same closure values and the same number of inputs add the same ops
with the same parameters and the same wiring; only the node names (the
cell's scope, ``cell[0][2]`` against ``cell[1][0]``) and the input tensors
differ. So the first application runs the interpreter and is recorded, and
the later ones replay the record through the same ``GraphBuilder.add_op``
calls, in the same order, with the new scope and inputs. The graph is the
one the interpreter would build, node for node (tested on every example).

Nothing outlives one realization: the memo belongs to the ``GraphBuilder``.
Closure values are compared as plain data (numbers, strings, booleans,
tuples of them) or, for anything else (an op, a definition), by identity.
An application that does anything a replay could not repeat (taps, outputs,
ops outside its own scope, a result that is not tensors) or that is given
one tensor twice is never replayed; it simply runs every time.
"""
from __future__ import annotations

from itertools import islice

from nasl.dsl.values import Tensor

_PLAIN = (int, float, str, bool, type(None))
_NEVER = object()           # a key whose applications always run the interpreter
ENABLED = True              # tests switch replays off to compare with the interpreter's graph


def _frozen(v, keep: list):
    """A hashable stand-in for a closure value: plain data by value, anything else by identity."""
    if isinstance(v, _PLAIN):
        return (type(v), v)
    if isinstance(v, tuple):
        return tuple(_frozen(x, keep) for x in v)
    keep.append(v)          # held by the memo entry, so its id cannot be reused during the realization
    return ("id", id(v))


def memo_key(d, prefix: str, env: dict, names, n_args: int, depth: int):
    keep: list = []
    try:
        items = tuple(sorted((k, _frozen(v, keep)) for k, v in env.items()))
    except TypeError:       # unorderable keys: never the case for a dag's environment, but stay safe
        return None, None
    return (id(d), prefix, id(names), items, n_args, depth), keep


class _Record:
    __slots__ = ("ops", "result", "checks", "keep")

    def __init__(self, ops, result, checks, keep):
        self.ops, self.result, self.checks, self.keep = ops, result, checks, keep


def _ref(node: str, args_at: dict, local: dict):
    if node in args_at:
        return ("arg", args_at[node])
    if node in local:
        return ("local", local[node])
    return ("outer", node)


def _record(builder, before: tuple, nprefix: str, args, result, keep):
    """The record of what one application added, or None when a replay could not repeat it."""
    g = builder.g
    n_before, checks_before, io_before = before
    if builder.io_count() != io_before:
        return None             # taps or outputs
    args_at = {a.node: k for k, a in enumerate(args)}     # distinct: realize_once checked
    new = list(islice(g.nodes, n_before, None))
    local = {n: i for i, n in enumerate(new)}
    cut = len(nprefix)
    ops = []
    for n in new:
        a = g.nodes[n]
        scope = a["scope"]
        if a.get("kind") != "op" or not (scope == nprefix or scope.startswith(nprefix + ".") or not nprefix):
            return None
        ins = sorted(((p.get("port", 0), u) for u, _, p in g.in_edges(n, data=True)))
        ops.append((scope[cut:], a["op"], dict(a["params"]), a.get("span"),
                    tuple(_ref(u, args_at, local) for _, u in ins)))
    if isinstance(result, Tensor):
        out = _ref(result.node, args_at, local)
    elif isinstance(result, (tuple, list)) and all(isinstance(t, Tensor) for t in result):
        out = (type(result), tuple(_ref(t.node, args_at, local) for t in result))
    else:
        return None
    return _Record(ops, out, builder.checks[checks_before:], keep)


def _replay(builder, rec: _Record, nprefix: str, args):
    made: list = []

    def tensor(ref):
        kind, v = ref
        if kind == "arg":
            return args[v]
        if kind == "local":
            return made[v]
        return Tensor(v)

    for rel, op, params, span, ins in rec.ops:
        made.append(builder.add_op(nprefix + rel, op, params, [tensor(r) for r in ins], span))
    builder.checks.extend(rec.checks)
    out = rec.result
    if isinstance(out[0], str):
        return tensor(out)
    kind, refs = out
    return kind(tensor(r) for r in refs)


def realize_once(builder, key, keep, nprefix: str, args, run):
    """``run()``, or a replay of the recorded first application with the same ``key``."""
    if not ENABLED or key is None or len({a.node for a in args}) != len(args):
        return run()            # one tensor given twice: wiring by position would be ambiguous
    memo = builder.memo
    rec = memo.get(key)
    if rec is _NEVER:
        return run()
    if rec is not None:
        return _replay(builder, rec, nprefix, args)
    before = (builder.g.number_of_nodes(), len(builder.checks), builder.io_count())
    result = run()
    rec = _record(builder, before, nprefix, args, result, keep)
    memo[key] = _NEVER if rec is None else rec
    return result


__all__ = ["memo_key", "realize_once"]
