"""Reading a relaxed supernet: ``probs()``, ``derive()`` and the differentiable ``expected_cost``.

``derive`` returns an architecture with the paths of ``space.sample()``:

- a 1-D alpha (an op choice, a depth, a width) gives its most probable label
  that is not a zero branch ("none"), as DARTS's parse leaves ``none`` out;
- a 2-D alpha ``[sources, ops]`` of a pick node (DARTS's ``normal.node[3]``)
  follows the official genotype parse: the top-k sources by their largest
  non-zero weight (stable: a tie keeps the lower source), then each source's
  argmax non-zero op. They become the pick's ``inputs`` (sorted) and one
  ``edge[i]`` per picked source. PC-DARTS multiplies each row by its edge
  weight ``softmax(beta)`` first, as its ``genotype()`` does;
- every other active choice (a policy's ``fixed``/``sample`` paths) takes the
  policy's value, else its first value; the result passes ``space.validate``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from nasl.compiler.cost import op_cost
from nasl.ir.architecture import Architecture
from nasl.ir.errors import NaslError
from nasl.oneshot.graph import at_labels, at_max, elastic_paths, is_zero_branch


def zero_labels(sn) -> dict:
    """``{path: {labels whose branch is a zero}}``."""
    got = getattr(sn, "_zero_labels", None)
    if got is None:
        got = {}
        for sel in sn.an.selects:
            d = sn.sg.nodes[sel]
            labels = list(d.get("labels") or ())
            for i, p in enumerate(sn.an.inputs[sel]):
                if is_zero_branch(sn.sg, sn.an, sel, i):
                    got.setdefault(d.get("path"), set()).update(p.labels or (labels[i],))
        sn._zero_labels = got
    return got


def _labels(sn, path):
    return list(sn.sg.graph["alpha"][path][1])


def _sources(sn, path, rows):
    return list(range(rows))            # row r of a per-source alpha is source r


def probs(sn) -> dict:
    """``{path: {label: p}}``; a 2-D alpha gives one entry per row, ``path[source]``."""
    out = {}
    with torch.no_grad():
        for path in sn.alpha:
            a, labels = sn.alpha[path], _labels(sn, path)
            p = F.softmax(a, dim=-1)
            if a.dim() == 1:
                out[path] = {lab: float(v) for lab, v in zip(labels, p)}
            else:
                for s, row in zip(_sources(sn, path, a.shape[0]), p):
                    out[f"{path}[{s}]"] = {lab: float(v) for lab, v in zip(labels, row)}
    return out


def _pick(sn, path, rows):
    """(inputs path, k, slot paths, sources) of the pick whose per-source alpha is ``path``."""
    inputs, template = sn.picks.get(path, (f"{path}.inputs", f"{path}.edge[{{}}]"))
    k = 2
    if sn.space is not None:
        for c in sn.space.spec.all_choices():
            if c.path == inputs and c.k:
                k = c.k
    return inputs, k, [template.format(i) for i in range(k)], _sources(sn, path, rows)


def _best(row, labels, zero) -> int:
    best = None
    for j, lab in enumerate(labels):
        if lab in zero:
            continue
        if best is None or row[j] > row[best]:
            best = j
    if best is None:
        raise NaslError("every label of a choice is a zero branch; nothing to derive")
    return best


def derive(sn) -> Architecture:
    if not sn.relaxed:
        raise NaslError(f"derive() reads architecture weights; a '{sn.mode}' supernet has none "
                        f"(search it with an evaluator instead)")
    zeros = zero_labels(sn)
    values: dict = {}
    with torch.no_grad():
        for path in sn.alpha:
            a, labels, zero = sn.alpha[path], _labels(sn, path), zeros.get(path, set())
            p = F.softmax(a, dim=-1)
            if a.dim() == 1:
                values[path] = labels[_best(p, labels, zero)]
                continue
            if path in sn.beta:             # PC-DARTS: alpha * beta, row by row
                b = F.softmax(sn.beta[path], dim=-1)
                p = p * torch.stack([b[list(sn.edges[path]).index(r)] for r in range(p.shape[0])])[:, None]
            inputs, k, slots, sources = _pick(sn, path, a.shape[0])
            strength = [max(float(v) for v, lab in zip(row, labels) if lab not in zero) for row in p]
            top = sorted(range(len(sources)), key=lambda r: -strength[r])[:k]
            top.sort(key=lambda r: sources[r])
            values[inputs] = [sources[r] for r in top]
            for slot, r in zip(slots, top):
                values[slot] = labels[_best(p[r], labels, zero)]
    return _complete(sn, values)


def _complete(sn, values: dict) -> Architecture:
    if sn.space is None:
        return Architecture(values)
    spec = sn.space.spec
    for _ in range(100):
        missing = [c for c in spec.active_choices(values) if c.path not in values]
        if not missing:
            break
        for c in missing:
            how = sn.policy.get(c.path, "fixed")
            values[c.path] = next(iter(c.values())) if how in ("fixed", "sample") else how
    active = {c.path for c in spec.active_choices(values)}
    arch = {p: (list(v) if isinstance(v, tuple) else v) for p, v in values.items() if p in active}
    return sn.space.validate(arch)


# expected cost ------------------------------------------------------------------

def _op_value(metric, op, params, ins, out) -> float:
    if callable(metric):
        return float(metric(op, params, ins, out))
    if isinstance(metric, dict):
        return float(metric.get(op, 0.0))
    c = op_cost(op, params, ins, out)
    if metric not in ("params", "flops", "macs"):
        raise NaslError(f"unknown cost metric {metric!r}; use 'params', 'flops', 'macs', a {{op: cost}} "
                        f"table or a function")
    return float(getattr(c, metric))


def shapes_per_label(sn) -> dict:
    """``{(path, label): shapes}`` with the Elastic parameters of ``path`` at ``label`` (the others at
    their maximum): the input sizes an op sees when that choice alone changes."""
    from nasl.oneshot.graph import infer, is_elastic
    paths = set()
    for n in sn.an.order:
        for v in (sn.sg.nodes[n].get("params") or {}).values():
            if is_elastic(v) and v.path in (sn.sg.graph.get("alpha") or {}) and len(getattr(v, "deps", (v.path,))) == 1:
                paths.add(v.path)
    out = {}
    for path in sorted(paths):
        for label in _labels(sn, path):
            def rewrite(n, params, ins, shapes, path=path, label=label):
                if params is not None:
                    raw = sn.sg.nodes[n].get("params") or {}
                    params = {k: (v.value({path: label}) if is_elastic(v) and v.path == path else params[k])
                              for k, v in raw.items()}
                return sn._rewrite(n, params, ins, shapes)
            out[(path, label)] = infer(sn.sg, sn.an, sn.in_shapes, rewrite, sn._select_shape)
    return out


def _table(sn, metric):
    """``[(node, path or None, [cost per label of path])]``: an op's cost under each value of the one
    elastic choice that changes its size (at the maximum when none does, or several)."""
    from nasl.compiler.shapes import op_shape
    per = shapes_per_label(sn)
    rows = []
    for n in sn.an.order:
        d = sn.sg.nodes[n]
        if d.get("kind") != "op":
            continue
        srcs = [p.src for p in sn.an.inputs[n] if p.src is not None]
        own = {e.path for e in elastic_paths(d.get("params")).values()}
        moving = set(own)
        for (path, label), shapes in per.items():
            if shapes[n] != sn.shapes[n] or any(shapes[u] != sn.shapes[u] for u in srcs):
                moving.add(path)
        if len(moving) != 1 or not all(((m, lab) in per) for m in moving for lab in _labels(sn, next(iter(moving)))):
            params = at_max(d.get("params"))
            rows.append((n, None, [_op_value(metric, d["op"], params, [sn.shapes[u] for u in srcs], sn.shapes[n])]))
            continue
        path = moving.pop()
        costs = []
        for label in _labels(sn, path):
            shapes = per[(path, label)]
            params = at_labels(d.get("params"), {path: label}) if own else at_max(d.get("params"))
            ins = [shapes[u] for u in srcs]
            costs.append(_op_value(metric, d["op"], params, ins, op_shape(d["op"], params, ins)))
        rows.append((n, path, costs))
    return rows


def expected_cost(sn, metric="flops") -> torch.Tensor:
    """``sum_op P(op runs) * cost(op)``, differentiable in alpha (softmax probabilities)."""
    if not sn.relaxed:
        raise NaslError(f"expected_cost() needs architecture weights; a '{sn.mode}' supernet has none")
    key = metric if isinstance(metric, str) else id(metric)
    cache = sn.__dict__.setdefault("_cost_tables", {})
    table = cache.get(key)
    if table is None:
        table = cache[key] = _table(sn, metric)
    from nasl.oneshot.relaxed_forward import branch_matrix
    memo: dict = {}

    def p_of(path):
        return F.softmax(sn.alpha[path], dim=-1) if path in sn.alpha else None

    def exists(n):
        if n in memo:
            return memo[n]
        own = sn.an.owner.get(n)
        w = torch.ones(())
        skip = None
        if own is not None:
            sel, i = own
            d = sn.sg.nodes[sel]
            a = sn.alpha[d["path"]] if d.get("path") in sn.alpha else None
            if a is not None:
                pr = F.softmax(a if d.get("row") is None else a[d["row"]], dim=-1)
                w = (branch_matrix(sn.sg, sn.an, sel).to(pr) @ pr)[i] * exists(sel)
                if d.get("path") in sn.beta:
                    w = w * F.softmax(sn.beta[d["path"]], dim=-1)[list(sn.edges[d["path"]]).index(d["row"])]
            skip = d.get("path")
        for cond in sn.sg.nodes[n].get("guard") or ():
            p = p_of(cond.path) if cond.path != skip else None
            if p is not None and p.dim() == 1:
                labels = _labels(sn, cond.path)
                w = w * sum(p[labels.index(v)] for v in cond.values if v in labels)
        memo[n] = w
        return w

    total = torch.zeros(())
    for n, path, costs in table:
        if path is None or p_of(path) is None:          # (a policy's path: counted at its largest)
            total = total + exists(n) * max(costs)
        else:
            total = total + exists(n) * (p_of(path) * torch.tensor(costs)).sum()
    return total


__all__ = ["probs", "derive", "expected_cost", "zero_labels"]
