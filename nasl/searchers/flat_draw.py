"""Whole-architecture redraws of a flat space, many at once (MDENAS's de-duplication).

When a searcher's distributions concentrate, de-duplication redraws an
architecture many times per ask (MDENAS: about 17 draws per ask past trial
5,000 on a 5^15 space, BENCHMARKS.md sections 43 and 61). Each draw in
Python costs a bisect per choice, a dict and a hash. :class:`BlockDraw` makes
the redraws of one ask in one go: ``k`` rows of uniforms from the searcher's
own ``random.Random`` (:func:`uniforms`: bit for bit what ``k`` sequential
draws' ``random()`` calls would return, in the same order), a vectorised "first arm whose
running sum passes u" per cell, and each row's arms as a short bytes key
looked up in a set that mirrors the searcher's seen architectures. Only the
row taken becomes an :class:`Architecture`.

The law is that of the loop it replaces: the first unseen of ``k``
independent draws. The stream differs only in that the whole block's
uniforms are taken even when an early row is new (the seeded run is still
reproducible, and a resume, which restores the ``random.Random``, exact).
"""
from __future__ import annotations

import numpy as np

from nasl.ir.architecture import Architecture
from nasl.ir.decision_tree import CHOICE_TYPES, Constraint


def uniforms(rng, n: int) -> np.ndarray:
    """``[rng.random() for _ in range(n)]`` as an array, from one ``getrandbits`` call.

    CPython's ``random()`` takes two 32-bit Mersenne Twister outputs ``a, b`` and returns
    ``((a >> 5) * 2**26 + (b >> 6)) / 2**53``; ``getrandbits(64 * n)`` returns the next ``2n`` outputs
    as the little-endian words of one integer, and leaves the generator where ``n`` calls would.
    """
    if n <= 0:
        return np.zeros(0)
    w = np.frombuffer(rng.getrandbits(64 * n).to_bytes(8 * n, "little"), dtype="<u4")
    # exact in float64: (a >> 5) * 2**26 + (b >> 6) < 2**53, and the scale is a power of two
    return ((w[0::2] >> 5) * 67108864.0 + (w[1::2] >> 6)) * (1.0 / 9007199254740992.0)


class BlockDraw:
    """Draws over ``Decisions.flat()``: ``[(path, key, values)]``, every choice always active.

    Use :meth:`usable` first: arms past 255, or values that compare equal to one another (``1`` and
    ``True``), would make a bytes key and architecture equality disagree.
    """

    def __init__(self, flat):
        self.paths = [path for path, _, _ in flat]
        self.values = [list(vs) for _, _, vs in flat]
        self.multi = [i for i, vs in enumerate(self.values) if len(vs) > 1]
        self.keys = [flat[i][1] for i in self.multi]
        self.n = np.array([len(self.values[i]) for i in self.multi], dtype=np.int64)
        try:
            self.index = [{v: a for a, v in enumerate(self.values[i])} for i in self.multi]
            self.ok = all(len(ix) == len(self.values[i]) for ix, i in zip(self.index, self.multi))
        except TypeError:       # an unhashable value: keep the searcher's own loop
            self.index, self.ok = [], False
        self.ok = self.ok and all(len(vs) <= 255 for vs in self.values)
        self._single = [(p, vs[0]) for p, vs in zip(self.paths, self.values) if len(vs) == 1]
        self._lookup = list(zip([self.paths[i] for i in self.multi], self.index))
        self.n8 = (self.n - 1).astype(np.uint8)
        self.even = len(self.n) > 0 and bool((self.n == self.n[0]).all())     # no padding needed
        w = int(self.n[0]) - 1 if self.even else 0
        self._prefix = [bytes([1] * a + [0] * (w - a)) for a in range(w + 1)]
        self._seen_keys: set = set()
        self._seen, self._synced = None, 0
        self._cum = self._totals = None

    def usable(self) -> bool:
        return self.ok

    def set_sums(self, sums) -> None:
        """The running sums of each multi-valued choice's probabilities (a list per choice, in order)."""
        if self.even:       # few array calls: a tell changes every row, so this runs once per ask late on
            totals = [c[-1] for c in sums]
            # a prefix count over all but the last sum is bisect_right's count capped at n - 1, as the draw caps it
            self._cum, self._capped = np.array([c[:-1] for c in sums], dtype=float), True
            self._totals = np.array(totals, dtype=float)
            self._scaled = self._totals * (1.0 / 9007199254740992.0)    # exact: a power of two
            self._any_dead = min(totals) <= 0
            self._dead = self._totals <= 0 if self._any_dead else None
            return
        width = int(self.n.max()) if len(self.n) else 1
        cum = np.full((len(self.multi), width), np.inf)     # padding never passes u: bisect_right's count
        for j, c in enumerate(sums):
            cum[j, :len(c)] = c
        self._cum, self._capped = cum, False
        self._totals = np.array([c[-1] for c in sums], dtype=float)
        self._scaled = self._totals * (1.0 / 9007199254740992.0)
        self._dead = self._totals <= 0        # every arm lost its mass: uniform, as the sequential draw does
        self._any_dead = bool(self._dead.any())

    def _sync(self, seen) -> None:
        """Mirror ``seen`` (an ArchSet: grows only, in order) as bytes keys, from where it was last read."""
        if seen is not self._seen:
            self._seen, self._synced, self._seen_keys = seen, 0, set()
        order = seen.order
        for arch in order[self._synced:]:
            key = self.key_of(arch)
            if key is not None:
                self._seen_keys.add(key)
        self._synced = len(order)

    def key_of(self, arch):
        """The bytes key of ``arch``, or None when no draw can give it (then it can never be a repeat)."""
        if len(arch) != len(self.paths):
            return None
        try:
            for path, value in self._single:
                if not arch[path] == value:
                    return None
            if self.even:       # one read per choice: the seen set grows by one an ask
                prefix = self._prefix
                return b"".join([prefix[ix[arch[path]]] for path, ix in self._lookup])
            return bytes([ix[arch[path]] for path, ix in self._lookup])
        except (KeyError, TypeError):
            return None

    def _encode(self, arms) -> bytes:
        """The key of a row of arms. With equal arm counts ``n``: arm ``a`` as the comparisons the block
        makes, ``a`` ones then ``n - 1 - a`` zeros (the running sums only grow: a prefix), which the
        block reads without counting them; else one byte per arm."""
        if self.even:
            return b"".join(self._prefix[a] for a in arms)
        return bytes(arms)

    def first_unseen(self, rng, k: int, seen):
        """The first of ``k`` draws not in ``seen``, as an Architecture, or None when all ``k`` repeat.

        Takes ``k`` draws' uniforms from ``rng`` either way, so a miss leaves ``rng`` where ``k``
        sequential draws would.
        """
        self._sync(seen)
        m = len(self.multi)
        # uniforms() inlined, times each total: v * (total / 2**53) rounds the same real as (v / 2**53) * total.
        # Each 64-bit word holds two 32-bit outputs, the first in the low half.
        w = np.frombuffer(rng.getrandbits(64 * k * m).to_bytes(8 * k * m, "little"), dtype="<u8").reshape(k, m)
        v = ((w & 0xFFFFFFFF) >> 5) * 67108864.0 + (w >> 38)
        x = v * self._scaled
        # bisect_right per cell is how many running sums are <= x
        passed = self._cum[None, :, :] <= x[:, :, None]
        if self._capped and not self._any_dead:
            block, width = passed.tobytes(), m * (int(self.n[0]) - 1)    # the comparisons are the key
            arms = None
        else:
            arms = passed.view(np.uint8).sum(axis=2, dtype=np.uint8)
            if not self._capped:
                np.minimum(arms, self.n8, out=arms)
            if self._any_dead:
                dead = self._dead
                arms[:, dead] = (v[:, dead] * (1.0 / 9007199254740992.0) * self.n[dead]).astype(np.uint8)
            block = b"".join(self._encode(row) for row in arms.tolist()) if self.even else arms.tobytes()
            width = len(block) // k
        keys = self._seen_keys
        for row in range(k):
            key = block[row * width:(row + 1) * width]
            if key not in keys:
                if arms is None:
                    return self.architecture(passed[row].sum(axis=1))
                return self.architecture(arms[row])
        return None

    def uniform_for(self, spec):
        """A draw of ``walks.sample(spec, rng, check=False)`` without walking the spec, or None.

        Only when every choice is categorical with its domain, in order, as this block's values: then
        ``sample`` answers each with ``domain[int(random() * len(domain))]`` in walk order, and so does
        this, call for call (the same architecture and the same stream). De-duplication's uniform
        fallback runs it up to 20 times an ask once a searcher's distributions concentrate.
        """
        items = [item for item in spec.root.items if type(item) in CHOICE_TYPES]
        if len(items) != len(self.paths) or len(items) != sum(type(i) is not Constraint for i in spec.root.items):
            return None
        table = []
        for item, path, vs in zip(items, self.paths, self.values):
            if item.path != path or not item.categorical or list(item.domain) != vs:
                return None
            table.append((path, tuple(vs), len(vs)))

        def uniform(rng):
            r = rng.random
            return Architecture._trusted({path: vs[int(r() * n)] for path, vs, n in table})
        return uniform

    def architecture(self, arms) -> Architecture:
        row = arms.tolist()
        if len(row) != len(self.paths):     # single-valued choices take their one value
            full = [0] * len(self.paths)
            for j, i in enumerate(self.multi):
                full[i] = row[j]
            row = full
        return Architecture._trusted({path: vs[a] for path, vs, a in zip(self.paths, self.values, row)})
