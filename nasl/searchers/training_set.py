"""The bounded training set of the model-based searchers (bananas, pnas, nao).

A surrogate refit on every result so far makes each ask cost O(results),
and a long study quadratic. These searchers learn instead from the best
``limit`` results (default 500), kept in a heap as results arrive, so a fit
costs the same at 20,000 results as at 500. Up to ``limit`` results the set
is every result, in tell order, so a search of the length the papers use
(150-500 queries) fits exactly what it did before (docs/decisions.md). The
best results are the ones the searchers' proposals start from (mutations of
the best, the best of the beam), which is why they are the ones kept.
"""
from __future__ import annotations

import heapq
from typing import Iterable


class BestResults:
    """The best ``limit`` of the ``(arch, score)`` results added, larger scores better.

    Among equal scores the earlier result wins, as a stable sort by score does.

    Examples
    --------
    >>> b = BestResults(2)
    >>> for arch, score in [("a", 1.0), ("b", 3.0), ("c", 2.0), ("d", 3.0)]:
    ...     b.add(arch, score)
    >>> b.in_tell_order(), b.best(1), len(b), b.added
    ([('b', 3.0), ('d', 3.0)], [('b', 3.0)], 2, 4)
    """

    def __init__(self, limit: int, results: Iterable = ()):
        if limit < 1:
            raise ValueError(f"the training set holds at least 1 result, not {limit}")
        self.limit = limit
        self.added = 0
        self._heap: list = []       # (score, -index, index, arch): the root is the worst, the latest among ties
        for arch, score in results:
            self.add(arch, score)

    def add(self, arch, score: float) -> None:
        """O(log limit)."""
        i = self.added
        self.added += 1
        entry = (score, -i, i, arch)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, entry)
        elif entry > self._heap[0]:
            heapq.heapreplace(self._heap, entry)

    def in_tell_order(self) -> list:
        """The results kept, in the order they were added: O(limit log limit)."""
        return [(e[3], e[0]) for e in sorted(self._heap, key=lambda e: e[2])]

    def best(self, k: int) -> list:
        """The ``k`` best kept, best first (``k`` at most ``limit``: the best of all added)."""
        return [(e[3], e[0]) for e in heapq.nlargest(k, self._heap)]

    def __len__(self) -> int:
        return len(self._heap)
