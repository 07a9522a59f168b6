"""Static names for the places in a body that make choices or open scopes.

Choice paths are built from these names and the loop indices, never from a
run-time counter, so a path means the same thing in every architecture: the
k-th call of ``cell`` in a body is ``cell`` (first) or ``cell_k`` (later
ones), whichever branch an architecture takes.
"""
from __future__ import annotations

from nasl.dsl import ast as A

CHOICE_FORMS = frozenset({"choice", "optional", "boolean", "int_range", "float_range", "subset",
                          "permutation"})


def site_names(body) -> dict[int, str]:
    """Map ``id(node)`` to its name for every naming site in ``body``.

    ``body`` is a tuple of statements or an expression. Sites are calls whose
    function is a plain name (choices and definitions), labelled
    expressions and dags. A dag's first occurrence gets the empty name, so
    that a cell's edges read ``cell.edge[0->1]``.
    """
    bases: list[tuple[int, str]] = []
    _collect(body, bases, None)
    counts: dict[str, int] = {}
    out: dict[int, str] = {}
    for key, base in bases:
        k = counts.get(base, 0) + 1
        counts[base] = k
        if base == "dag":
            out[key] = "" if k == 1 else f"dag_{k}"
        else:
            out[key] = base if k == 1 else f"{base}_{k}"
    return out


def _collect(node, bases, assigned: str | None):
    if isinstance(node, tuple):
        for n in node:
            _collect(n, bases, None)
        return
    if node is None or not isinstance(node, A.Node):
        return
    t = type(node)
    if t is A.Assign:
        single = len(node.targets) == 1 and len(node.values) == 1
        for v in node.values:
            _collect(v, bases, node.targets[0] if single else None)
        return
    if t is A.Labelled:
        inner = node.expr
        # `blk(c)(h) as x`: the name belongs to the call that binds parameters
        while isinstance(inner, A.Call) and isinstance(inner.func, A.Call):
            inner = inner.func
        bases.append((id(inner), node.label))
        _collect_children(inner, bases, skip_self=True)
        if inner is not node.expr:
            _collect_outer(node.expr, inner, bases)
        return
    if t is A.Call and isinstance(node.func, A.Name):
        name = node.func.id
        base = assigned if (assigned and name in CHOICE_FORMS) else name
        bases.append((id(node), base))
        _collect_children(node, bases, skip_self=True)
        return
    if t is A.Dag:
        bases.append((id(node), "dag"))
    _collect_children(node, bases)


def _collect_outer(outer, inner, bases):
    # the argument lists of `f(a)(b)(c)` around an already named inner call
    while outer is not inner:
        for a in outer.args:
            _collect(a, bases, None)
        for _, v in outer.kwargs:
            _collect(v, bases, None)
        outer = outer.func


def _collect_children(node, bases, skip_self: bool = False):
    for name in node.__dataclass_fields__:
        if name == "span":
            continue
        value = getattr(node, name)
        if isinstance(value, tuple):
            for v in value:
                if isinstance(v, tuple):     # kwargs pairs, if-branches
                    for w in v:
                        _collect(w, bases, None)
                else:
                    _collect(v, bases, None)
        elif isinstance(value, A.Node):
            _collect(value, bases, None)
