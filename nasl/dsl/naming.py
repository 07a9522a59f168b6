"""Static names for the places in a body that make choices or open scopes.

Choice paths are built from these names and the loop indices, never from a
run-time counter, so a path means the same thing in every architecture: the
k-th call of ``cell`` in a body is ``cell`` (first) or ``cell_k`` (later
ones), whichever branch an architecture takes.
"""
from __future__ import annotations

from nasl.dsl import ast as A

_LEAVES = frozenset({A.Name, A.Num, A.Str, A.Bool})
CHOICE_FORMS = frozenset({"choice", "optional", "boolean", "int_range", "float_range", "subset",
                          "permutation"})


def site_names(body, top_anonymous: bool = False) -> dict[int, str]:
    """Map ``id(node)`` to its name for every naming site in ``body``.

    ``body`` is a tuple of statements or an expression. Sites are calls whose
    function is a plain name (choices and definitions), labelled
    expressions and dags. A dag's first occurrence gets the empty name, so
    that a cell's edges read ``cell.edge[0->1]``.
    """
    bases: list[tuple[int, str]] = []
    out: dict[int, str] = {}
    _collect(body, bases, None, out)
    if top_anonymous:
        # `def expr(d) = choice(...)`: the call's own path is the choice's path
        for node in _top_choices(body):
            bases = [(k, b) for k, b in bases if k != id(node)]
            out[id(node)] = ""
    counts: dict[str, int] = {}
    for key, base in bases:
        k = counts.get(base, 0) + 1
        counts[base] = k
        if base == "dag":
            out[key] = "" if k == 1 else f"dag_{k}"
        else:
            out[key] = base if k == 1 else f"{base}_{k}"
    return out


def _top_choices(e):
    if isinstance(e, A.Cond):
        return _top_choices(e.then) + _top_choices(e.orelse)
    if isinstance(e, A.Call) and isinstance(e.func, A.Name) and e.func.id in ("choice", "optional"):
        return [e]
    return []


def _collect(node, bases, assigned: str | None, out: dict):
    t = type(node)
    if t in _LEAVES:                # most nodes: a name or a literal names nothing
        return
    if t is tuple:
        for n in node:
            _collect(n, bases, None, out)
        return
    if node is None or not isinstance(node, A.Node):
        return
    if t is A.Assign:
        single = len(node.targets) == 1 and len(node.values) == 1
        for v in node.values:
            _collect(v, bases, node.targets[0] if single else None, out)
        return
    if t is A.Labelled:
        target = node.expr
        # `x >> f(c) as y`: the name belongs to the last stage of the chain
        while isinstance(target, A.SeqExpr):
            _collect(target.left, bases, None, out)
            target = target.right
        inner = target
        # `blk(c)(h) as x`: ... and to the call that binds parameters
        while isinstance(inner, A.Call) and isinstance(inner.func, A.Call):
            inner = inner.func
        bases.append((id(inner), node.label))
        _collect_children(inner, bases, out)
        if inner is not target:
            _collect_outer(target, inner, bases, out)
        return
    if t is A.Call and isinstance(node.func, A.Name):
        name = node.func.id
        base = assigned if (assigned and name in CHOICE_FORMS) else name
        bases.append((id(node), base))
        if name == "choice" and len(node.args) > 1:
            # each inline alternative is a scope of its own, under its label
            for a in node.args:
                out.update(site_names(a.expr if isinstance(a, A.Labelled) else a))
            return
        _collect_children(node, bases, out)
        return
    if t is A.Dag:
        bases.append((id(node), "dag"))
    _collect_children(node, bases, out)


def _collect_outer(outer, inner, bases, out):
    # the argument lists of `f(a)(b)(c)` around an already named inner call
    while outer is not inner:
        for a in outer.args:
            _collect(a, bases, None, out)
        for _, v in outer.kwargs:
            _collect(v, bases, None, out)
        outer = outer.func


def _collect_children(node, bases, out):
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if type(value) is tuple:
            for v in value:
                if type(v) is tuple:     # kwargs pairs, if-branches
                    for w in v:
                        _collect(w, bases, None, out)
                else:
                    _collect(v, bases, None, out)
        elif value is not None:
            _collect(value, bases, None, out)


# The walk runs once per load over every node of the program, so each node class's fields that
# may hold nodes are listed once: not its span, nor its names, labels and operators (strings)
_NOT_NODES = frozenset({"Span", "str", "Optional[str]", "bool", "Tuple[str, ...]"})
_FIELDS: dict = {}


def child_fields(cls) -> tuple:
    """The names of the fields of AST class ``cls`` that may hold nodes (or tuples of them)."""
    f = _FIELDS.get(cls)
    if f is None:
        f = _FIELDS[cls] = tuple(n for n, fd in getattr(cls, "__dataclass_fields__", {}).items()
                                 if str(fd.type) not in _NOT_NODES)
    return f
