"""A fixed-length vector for any architecture, from the ChoiceSpec alone.

Every choice point of the spec gets a fixed slice of the vector, in the
spec's order; a choice that is inactive under an architecture leaves its
slice at zero, so conditional and recursive spaces encode without
realizing anything. Per kind:

- ``choice``, ``bool`` and ``int`` ranges of at most ``max_onehot`` values:
  one-hot over the domain;
- longer ``int`` ranges and ``float`` ranges: an *active* bit and the value
  scaled to [0, 1] (on a log scale for log ranges);
- ``subset``: one bit per item (ordered subsets add each item's position,
  scaled); ``permutation``: the position of each item, scaled.

Examples
--------
>>> from nasl.ir.decision_tree import Block, Choice, ChoiceSpec
>>> spec = ChoiceSpec(Block([Choice("op", "choice", ("conv", "pool")), Choice("k", "int", range(1, 4))]))
>>> enc = OneHotEncoder(spec)
>>> enc.size, enc({"op": "pool", "k": 3}).tolist()
(5, [0.0, 1.0, 0.0, 0.0, 1.0])
"""
from __future__ import annotations

import math
from typing import Mapping

from nasl.ir.choice import Choice, same_value
from nasl.ir.decision_tree import ChoiceSpec


class OneHotEncoder:
    """``Architecture -> numpy vector`` over every choice point of ``spec``.

    Parameters
    ----------
    spec : ChoiceSpec
        The decision tree; all of its choice points are expanded once (a
        recursive space must have a depth limit).
    max_onehot : int
        Int ranges with more values than this are encoded as a scaled scalar.

    Attributes
    ----------
    size : int
        The length of every vector.
    names : list of str
        A readable name for each position (``path=value``, ``path#scaled`` ...).
    """

    def __init__(self, spec: ChoiceSpec, max_onehot: int = 32):
        self.spec = spec
        self.max_onehot = max_onehot
        self._slots: dict[str, tuple] = {}     # path -> (offset, how, extra)
        self.names: list[str] = []
        for c in spec.all_choices():
            if c.path in self._slots:
                continue            # a shared choice appears once
            self._slots[c.path] = self._layout(c)
        self.size = len(self.names)

    def _layout(self, c: Choice) -> tuple:
        off = len(self.names)
        how, *args = c.encoding(self.max_onehot)      # the choice's kind says how it is encoded
        if how == "onehot":
            values = tuple(args[0])
            self.names += [f"{c.path}={v!r}" for v in values]
            index = _value_index(values)
            return off, "onehot", (index, values)
        if how == "scalar":
            self.names += [f"{c.path}#active", f"{c.path}#scaled"]
            return off, "scalar", tuple(args)
        items, positional, permutation = args
        self.names += [f"{c.path}[{x!r}]" for x in items]
        if positional and not permutation:
            self.names += [f"{c.path}[{x!r}]#position" for x in items]
        return off, "items", (_value_index(items), len(items), permutation, positional)

    def __call__(self, arch: Mapping):
        import numpy as np
        x = np.zeros(self.size)
        slots = self._slots
        for path, v in arch.items():
            slot = slots.get(path)
            if slot is None:
                raise ValueError(f"'{path}' is not a choice point of this spec; the encoder cannot place it")
            off, how, extra = slot
            if how == "onehot":
                x[off + _find(extra[0], extra[1], v, path)] = 1.0
            elif how == "scalar":
                lo, hi, log = extra
                x[off] = 1.0
                if hi > lo:
                    x[off + 1] = ((math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) if log
                                  else (v - lo) / (hi - lo))
            else:
                index, n, permutation, positional = extra
                for pos, item in enumerate(v):
                    i = _find(index, None, item, path)
                    if permutation:
                        x[off + i] = pos / max(1, n - 1)
                    else:
                        x[off + i] = 1.0
                        if positional:
                            x[off + n + i] = (pos + 1) / n
        return x

    def encode_many(self, archs):
        """A ``(len(archs), size)`` array."""
        import numpy as np
        if not archs:
            return np.zeros((0, self.size))
        return np.stack([self(a) for a in archs])


def _value_index(values) -> dict:
    # keyed by (type, value) so that 1 and True stay apart (as Choice.contains does)
    out = {}
    for i, v in enumerate(values):
        out.setdefault(_key(v), i)
    return out


def _key(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return (type(v).__name__, v)
    return ("num", v)


def _find(index, values, v, path) -> int:
    i = index.get(_key(v))
    if i is None and values is not None:
        i = next((j for j, x in enumerate(values) if same_value(v, x)), None)
    if i is None:
        raise ValueError(f"'{path}' = {v!r} is not in the domain of that choice")
    return i
