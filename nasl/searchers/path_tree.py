"""The tree cells of a path-level space, read from its choice paths (for ``path_level_eas``).

A tree node is a choice ``{P}.node`` whose values are ``none`` and merge schemes ``add<n>`` /
``concat<n>`` (``examples/path_level.nas``). Its branch ``b`` owns ``{P}.edge[b]`` (the layer;
absent where the space fixes it, as at path_level's root), ``{P}.deeper[b]`` (whether a child
node follows) and the subtree ``{P}.child[b]``. :class:`Trees` finds the roots in a
:class:`~nasl.ir.decision_tree.ChoiceSpec`, lists a network's tree as vertices for the encoder,
and applies the four path-level transformations to an architecture's *values* exactly as
:mod:`nasl.morph.paths` changes the architecture, so the child a searcher proposes is the one
the evaluator's chain gives (the study checks that they agree).

No torch here, and nothing from ``nasl.morph``: searchers see only choice points. What
``nasl.morph.split_path`` accepts (a branch without a child node whose edge is per-channel) is
restated in :data:`SPLITTABLE`.
"""
from __future__ import annotations

import re
from itertools import islice

from nasl.ir.decision_tree import ChoiceSpec

IDENTITY = "identity"
# edges whose input channels may be split without changing the function (nasl.morph.split_path)
SPLITTABLE = ("identity", "max_pool_3x3", "avg_pool_3x3")
FIXED = "<fixed>"           # the token of an edge the space does not choose (path_level's root conv)
MAX_CHOICES = 4096          # a recursive space lists its choices lazily: look no further
_MERGE = re.compile(r"^(add|concat)(\d+)$")
_CHILD = re.compile(r"\.child\[\d+\]$")


def arity(node_value) -> int:
    """The branch count of a node value: ``none`` 1, ``add3`` 3, ``concat2`` 2; 0 if unknown."""
    if node_value == "none":
        return 1
    m = _MERGE.match(str(node_value))
    return int(m.group(2)) if m else 0


class Trees:
    """The tree cells of ``spec``: ``roots`` (prefixes ``P`` of root nodes), ``node_values`` and
    ``edge_values`` (the merge and edge vocabularies, in domain order) and ``tokens`` (an id per
    ``("node", value)`` / ``("edge", value)``, the last id for anything else)."""

    def __init__(self, spec: ChoiceSpec):
        self.spec = spec
        nodes, edges = [], []
        self.roots = []
        for c in islice(spec.all_choices(), MAX_CHOICES):
            vals = list(c.value_table()) if c.categorical else []
            if c.path.endswith(".node") and "none" in vals and any(_MERGE.match(str(v)) for v in vals):
                prefix = c.path[: -len(".node")]
                if not _CHILD.search(prefix) and prefix not in self.roots:
                    self.roots.append(prefix)
                nodes += [v for v in vals if v not in nodes]
            elif re.search(r"\.edge\[\d+\]$", c.path) and vals:
                edges += [v for v in vals if v not in edges]
        self.node_values, self.edge_values = nodes, edges
        keys = [("node", v) for v in nodes] + [("edge", v) for v in edges] + [("edge", FIXED)]
        self.tokens = {k: i for i, k in enumerate(keys)}
        self.oov = len(keys)

    def __bool__(self) -> bool:
        return bool(self.roots)

    # ------------------------------------------------------------ reading a network
    def vertices(self, values) -> list:
        """The forest of ``values`` in pre-order: ``[kind, where, token, parent index]`` per vertex,
        a tree node (``where`` = its prefix ``P``) or a branch's edge (``where`` = ``[P, b]``), whose
        child is the branch's child node when ``{P}.deeper[b]`` is true."""
        out = []

        def node(prefix, parent):
            v = values.get(f"{prefix}.node")
            me = len(out)
            out.append(["node", prefix, self.tokens.get(("node", v), self.oov), parent])
            for b in range(arity(v)):
                edge = values.get(f"{prefix}.edge[{b}]", FIXED)
                e = len(out)
                out.append(["edge", [prefix, b], self.tokens.get(("edge", edge), self.oov), me])
                if values.get(f"{prefix}.deeper[{b}]") is True and f"{prefix}.child[{b}].node" in values:
                    node(f"{prefix}.child[{b}]", e)
        for root in self.roots:
            if f"{root}.node" in values:
                node(root, -1)
        return out

    def merges(self, values, prefix) -> list:
        """The merge values the node at ``prefix`` may take now: ``none`` (keep) and the ones a
        replication or split gives, or ``[]`` where it already has several branches."""
        if values.get(f"{prefix}.node") != "none":
            return []
        dom = self.spec[f"{prefix}.node"].value_table()
        edge = values.get(f"{prefix}.edge[0]")
        splittable = values.get(f"{prefix}.deeper[0]") is not True and (edge is None or edge in SPLITTABLE)
        return [v for v in dom if v == "none" or (str(v).startswith("add") and arity(v) >= 2)
                or (v == "concat2" and splittable)]

    # ------------------------------------------------------------ transformations on values
    def fill(self, given) -> dict:
        """A walk of the spec answering from ``given``; choices it lacks take their first value."""
        # newly active choices take their domain's first value, as nasl.morph.graphs.moved does
        return self.spec.walk(lambda c, vals: given[c.path] if c.path in given else c.first())

    def replicate(self, values, prefix, branches: int) -> tuple:
        """``(values, step)``: the single path of ``prefix`` copied into ``branches`` added branches."""
        given = {**values, f"{prefix}.node": f"add{branches}"}
        own = re.compile(rf"^{re.escape(prefix)}\.(edge|deeper|child)\[0\](?=$|\.)")
        for p, v in values.items():
            if own.match(p):
                for b in range(1, branches):
                    given[own.sub(lambda m: f"{prefix}.{m.group(1)}[{b}]", p)] = v
        return self.fill(given), f"replicate_path {prefix} {branches}"

    def split(self, values, prefix) -> tuple:
        """``(values, step)``: the single path of ``prefix`` split into two concatenated branches."""
        given = {**values, f"{prefix}.node": "concat2", f"{prefix}.deeper[1]": False}
        if f"{prefix}.edge[0]" in values:
            given[f"{prefix}.edge[1]"] = values[f"{prefix}.edge[0]"]
        return self.fill(given), f"split_path {prefix}"

    def insert(self, values, prefix, b: int) -> tuple:
        """``(values, step)``: branch ``b`` of ``prefix`` gets a child node that passes its input on."""
        child = f"{prefix}.child[{b}]"
        given = {**values, f"{prefix}.deeper[{b}]": True, f"{child}.node": "none", f"{child}.edge[0]": IDENTITY}
        return self.fill(given), f"insert_node {prefix}.deeper[{b}]"

    def replace(self, values, edge: str, op) -> tuple:
        """``(values, step)``: the identity edge ``edge`` becomes ``op``."""
        return self.fill({**values, edge: op}), f"replace_identity {edge} {op}"

    def merge(self, values, prefix, value) -> tuple:
        """The transformation that gives node ``prefix`` the merge ``value`` (``none``: no step)."""
        if value == "none":
            return values, None
        if str(value).startswith("concat"):
            return self.split(values, prefix)
        return self.replicate(values, prefix, arity(value))
