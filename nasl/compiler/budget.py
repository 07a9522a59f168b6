"""Refuse a model whose weights cannot fit in memory before building it.

``conv(10000000000)`` or ``-D C=10000000000`` is a valid space, but
building it asks torch for terabytes: the allocation fails with a raw
``RuntimeError`` or, worse, succeeds lazily and the kernel kills the process
when the weights are initialized. The cost rules (:mod:`nasl.compiler.cost`)
give every op's parameter count from the shapes alone, so the compiler checks
them first and names the op at fault. Ops without a cost rule (user ops) are
not measured here; an allocation failure while building them becomes the same
error (:func:`allocation_error`).

The limit is the machine's physical memory: weights larger than that can
never be trained here (gradients and optimizer state need more again).
"""
from __future__ import annotations

import os

from nasl.ir.errors import NaslError


def memory_limit() -> int | None:
    """Bytes of physical memory, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _bytes_per_param() -> int:
    import torch
    return torch.empty((), dtype=torch.get_default_dtype()).element_size()


def _gib(n: int) -> str:
    return f"{n / 2 ** 30:,.1f} GiB"


def check_weights(graph, plan, shapes, limit: int | None = None) -> None:
    """Raise a NaslError when the weights of ``graph``'s ops with a cost rule exceed ``limit`` bytes."""
    from nasl.compiler.op_rules import raw_cost_rule
    limit = memory_limit() if limit is None else limit
    if limit is None:
        return
    per = _bytes_per_param()
    total, biggest = 0, None
    nodes = graph.nodes
    for n in plan.order:
        d = nodes[n]
        if d.get("kind") != "op":
            continue
        rule = raw_cost_rule(d["op"])
        if rule is None:
            continue
        c = rule(d.get("params") or {}, [tuple(shapes[u]) for u in plan.inputs[n]], tuple(shapes[n]))
        params = int(c["params"]) if isinstance(c, dict) else c.params      # a user's rule may give a dict
        total += params
        if biggest is None or params > biggest[1]:
            biggest = (n, params)
        if params * per > limit:
            raise _too_big(f"op '{d['op']}' ({n})", d, n, params, per, limit)
    if total * per > limit:
        n, params = biggest
        raise _too_big("the network", nodes[n], n, total, per, limit,
                       f"the largest op is '{nodes[n]['op']}' ({n}, here) with {params:,} parameters")


def _too_big(who, d, node, params, per, limit, hint=None) -> NaslError:
    return NaslError(f"{who} cannot be built: its weights need {params:,} parameters "
                     f"({_gib(params * per)}), more than this machine's {_gib(limit)} of memory",
                     d.get("span"), path=node, hint=hint or "lower its channel count or width")


def allocation_error(d, node, err: BaseException) -> NaslError | None:
    """The NaslError for torch failing to allocate op ``node``'s weights, or None for other errors."""
    text = str(err)
    if isinstance(err, MemoryError) or "allocate" in text or "out of memory" in text:
        first = text.splitlines()[0] if text else type(err).__name__
        return NaslError(f"op '{d['op']}' ({node}) cannot be built: not enough memory for its weights ({first})",
                         d.get("span"), path=node, hint="lower its channel count or width")
    return None
