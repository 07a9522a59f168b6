"""``nasl explain FILE PATH``: where a choice path comes from in the source.

A path such as ``stage[1].cell.edge[0->2]`` is built from call sites,
labels, loop indices and dag edges (:mod:`nasl.dsl.naming`). The elaborated
choice knows its own span; this module walks outwards from it through the
AST: the dag edge or node it sits in, the loops around it, the definition
it is in, and the call site of that definition whose name is the path's
previous segment, up to the ``network`` or a ``genotype``. Each step is
printed outermost first, with the source line and carets.
"""
from __future__ import annotations

import dataclasses

import nasl
from nasl.dsl import ast as A
from nasl.dsl.naming import site_names
from nasl.dsl.parser import parse
from nasl.ir.errors import NaslError, caret_lines, did_you_mean, source_lines
from nasl.ir.paths import split_path

_LINE_END = -1             # a span's end column standing for "the end of its line"
_MAX_STEPS = 50            # a recursive definition calls itself: stop walking out after this many


def explain(text: str, file: str, path: str, **params) -> str:
    """The chain from the network down to the choice ``path``, with carets; NaslError for an unknown path."""
    space = nasl.loads(text, file, **params)
    choices = {c.path: c for c in space.spec.all_choices()}
    if path not in choices:
        hint = did_you_mean(path, choices) or f"`nasl show {file}` lists its {len(choices)} choice paths"
        raise NaslError(f"{file} has no choice '{path}'; {hint}")
    choice = choices[path]
    program = parse(text, file)
    steps = _chain(program, choice, [_base(s) for s in split_path(path)])
    out = [f"{path}: {choice.describe()}"]
    lines = source_lines(text)
    for n, (what, span) in enumerate(steps):
        if span.end_col == _LINE_END:
            line = lines[span.line - 1] if span.line <= len(lines) else ""
            span = dataclasses.replace(span, end_col=len(line.rstrip()) + 1)
        out.append(f"{'  ' * n}{span}: {what}")
        out.extend("  " * n + line for line in caret_lines(text, span))
    return "\n".join(out)


def _base(segment: str) -> str:
    return segment.split("[", 1)[0]


def _chain(program: A.Program, choice, segments: list[str]) -> list[tuple[str, object]]:
    """(description, span) steps, outermost first."""
    span = choice.span
    if span is None:
        return []
    steps = [(f"the {choice.kind} itself", span)]
    target, remaining = span, list(segments)
    for _ in range(_MAX_STEPS):
        item = _containing_item(program, target)
        if item is None:
            break
        inner = _enclosing(item, target)
        for node in reversed(inner):
            steps.append((_describe(node), _head(node)))
        if isinstance(item, A.DefDecl):
            steps.append((f"in the definition of '{item.name}'", _head(item)))
            site, name = _call_site(program, item.name, remaining)
            if site is None:
                break
            if name in remaining:
                remaining = remaining[:len(remaining) - 1 - remaining[::-1].index(name)]
            steps.append((f"called here as '{name}'", site.span))
            target = site.span
        else:
            steps.append((_describe(item), _head(item)))
            break
    return steps[::-1]


def _contains(outer, inner) -> bool:
    return (outer.line, outer.col) <= (inner.line, inner.col) and \
        (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col)


def _containing_item(program, span):
    for item in program.items:
        if getattr(item, "span", None) is not None and _contains(item.span, span):
            return item
    return None


def _children(node):
    for f in dataclasses.fields(node):
        if f.name == "span":
            continue
        stack = [getattr(node, f.name)]
        while stack:
            v = stack.pop()
            if isinstance(v, tuple):
                stack.extend(reversed(v))
            elif isinstance(v, A.Node):
                yield v


def _enclosing(item, span) -> list:
    """The loops, branches, dags and dag statements inside ``item`` around ``span``, outermost first."""
    found, node = [], item
    while True:
        nxt = next((c for c in _children(node) if c.span is not None and _contains(c.span, span)), None)
        if nxt is None:
            return found
        if isinstance(nxt, (A.For, A.Repeat, A.If, A.Dag, A.EdgeStmt, A.NodeStmt)):
            found.append(nxt)
        node = nxt


def _describe(node) -> str:
    if isinstance(node, A.For):
        return f"in the loop over {', '.join(node.vars)} (each iteration adds [i] to the path)"
    if isinstance(node, A.Repeat):
        return "in the repeat loop" + (f" over {node.var}" if node.var else "") + " (each pass adds [i])"
    if isinstance(node, A.If):
        return "in a branch (the choice is active only when its condition holds)"
    if isinstance(node, A.Dag):
        return "in the dag cell"
    if isinstance(node, A.EdgeStmt):
        return f"on the dag's edges {node.src} -> {node.dst} (edge[i->j] in the path)"
    if isinstance(node, A.NodeStmt):
        return f"on the dag's nodes {node.var} (node[j] in the path)"
    if isinstance(node, A.GenotypeDecl):
        return f"in the genotype '{node.name}' (its choices are shared by every use)"
    if isinstance(node, A.NetworkDecl):
        return "in the network"
    if isinstance(node, A.LetDecl):
        return f"in 'let {node.name}'"
    return f"in {type(node).__name__}"


def _head(node):
    """The first line of ``node``'s span: a loop or definition is shown by its header."""
    s = node.span
    if s.end_line == s.line:
        return s
    return dataclasses.replace(s, end_line=s.line, end_col=_LINE_END)


def _call_site(program, def_name: str, segments: list[str]):
    """The call of ``def_name`` whose site name is the rightmost matching path segment: (node, name)."""
    sites = []
    for item in program.items:
        body = getattr(item, "body", None) if not isinstance(item, (A.GenotypeDecl, A.LetDecl)) else item.value
        if body is None:
            continue
        names = site_names(body)
        for node in _walk(body):
            if isinstance(node, A.Call) and _callee(node) == def_name and id(node) in names:
                sites.append((node, names[id(node)]))
            elif isinstance(item, A.GenotypeDecl) and isinstance(node, A.Name) and node.id == def_name:
                sites.append((node, item.name))     # `genotype cell = nb201_cell`: paths start at the genotype
    if not sites:
        return None, None
    for name in reversed(segments):
        for node, site in sites:
            if site == name:
                return node, site
    return sites[0]


def _callee(node):
    while isinstance(node, A.Call):
        if isinstance(node.func, A.Name):
            return node.func.id
        node = node.func
    return None


def _walk(body):
    stack = list(body) if isinstance(body, tuple) else [body]
    while stack:
        node = stack.pop()
        if isinstance(node, A.Node):
            yield node
            stack.extend(_children(node))
