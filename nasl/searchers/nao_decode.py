"""NAO's architectures as token sequences, and the decoder's batched walk back to architectures.

Split from :mod:`nasl.searchers.nao` (the searcher's loop: when to train, whom to improve, what to
keep); these methods read the searcher's ``decisions``, ``vocab``, ``spec``, ``_flat``, ``_check``,
``_ranges`` and ``_seqs``, which :class:`~nasl.searchers.nao.NAO` sets up.
"""
from __future__ import annotations

import random
import zlib

from nasl.ir.architecture import Architecture
from nasl.searchers.walks import NoValidArchitecture, satisfies


class _Pending(Exception):
    """Raised by a replayed walk at its first decision without an answer yet."""


class SequenceCoding:
    """Encoding architectures to (key, arm, allowed ids) tokens and decoding the model's steps back."""

    # ------------------------------------------------------------ sequences
    def _ids(self, key: str, arms: int, allowed) -> tuple:
        """The key's id and the ids of the allowed arms (arm index modulo ``vocab``)."""
        v = self.vocab
        if allowed is None and arms <= v:
            ids = self._ranges.get(arms)
            if ids is None:
                ids = self._ranges[arms] = tuple(range(arms))     # shared by every decision of this size
        else:
            ids = tuple(sorted({a % v for a in (range(arms) if allowed is None else allowed)}))
        return zlib.crc32(key.encode()) % v, ids

    def _encode(self, arch) -> list:
        out = []
        for s in self.decisions.encode(arch):
            k, ok = self._ids(s.key, s.arms, s.allowed)
            out.append((k, s.action % self.vocab, ok))
        return out

    def _seq(self, arch) -> list:
        seq = self._seqs.get(arch)
        return seq if seq is not None else self._encode(arch)

    def _flat_decisions(self):
        """For a spec of fixed decisions (``Decisions.flat``): (path, values, key id) per choice, in order."""
        flat = self.decisions.flat()
        if flat is None or any(len(vs) > self.vocab for _, _, vs in flat):
            return None
        return [(path, vs, zlib.crc32(key.encode()) % self.vocab) for path, key, vs in flat]

    # ------------------------------------------------------------ decoding
    def _decode(self, model, H, mask, seed: int) -> list:
        """The architectures the decoder rebuilds from each row of ``H`` (None: breaks a constraint)."""
        import torch
        n, v = H.shape[0], self.vocab
        run = model.start(H, mask)
        if self._flat is not None:
            values = [{} for _ in range(n)]
            for path, vs, key in self._flat:
                if len(vs) == 1:               # forced, as Decisions does: no step
                    for d in values:
                        d[path] = vs[0]
                    continue
                allowed = torch.zeros(n, v, dtype=torch.bool)
                allowed[:, :len(vs)] = True
                arms = model.decode_step(run, torch.full((n,), key, dtype=torch.long), allowed).tolist()
                for d, a in zip(values, arms):
                    d[path] = vs[a]
            return [self._valid(d) for d in values]
        # any other spec: each walk is replayed up to its next decision, then all decide in one step
        picks: list = [[] for _ in range(n)]
        out: list = [None] * n
        live = list(range(n))
        while live:
            keys = torch.zeros(n, dtype=torch.long)
            allowed = torch.ones(n, v, dtype=torch.bool)
            back, still = {}, []
            for i in live:
                got = self._probe(picks[i], seed + i)
                if isinstance(got, tuple):
                    key, arms, ok = got
                    k, ids = self._ids(key, arms, ok)
                    keys[i] = k
                    options = range(arms) if ok is None else ok
                    allowed[i] = False
                    allowed[i, list(ids)] = True
                    back[i] = {}
                    for a in options:                   # an id shared by two arms means the first of them
                        back[i].setdefault(a % v, a)
                    still.append(i)
                else:
                    out[i] = None if got is None else self._valid(got)
            if not still:
                break
            arms = model.decode_step(run, keys, allowed).tolist()
            for i in still:
                picks[i].append(back[i][arms[i]])
            live = still
        return out

    def _probe(self, picks: list, seed: int):
        """Replay ``picks``: the next decision ``(key, arms, allowed)``, or the values when the walk ends
        (None if it cannot end). Each replay draws its in-bin values from ``seed``, so they agree."""
        it = iter(picks)
        pending = []

        def pick(key, arms, allowed):
            for a in it:
                return a
            pending.append((key, arms, allowed))
            raise _Pending
        try:
            values, _ = self.decisions.sample(pick, random.Random(seed))
        except _Pending:
            return pending[0]
        except NoValidArchitecture:
            return None
        return values

    def _valid(self, values):
        if self._check and not satisfies(self.spec, values):
            return None
        return Architecture._trusted(values)
