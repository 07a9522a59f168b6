"""Searcher containers whose study snapshots cost what changed, not what they hold.

A searcher's history-sized state (the architectures it has seen, the
results it keeps) grows with every trial. A study snapshots the searcher
every ``snapshot_every`` trials; writing that state out whole each time made
a study's total cost quadratic in its length (BENCHMARKS.md, section 21).

:class:`Log` (a list that grows and shrinks at its end), :class:`ArchSet`
(a set that only grows) and :class:`LogDict` (a dict whose assignments are
logged) serialise in full from :meth:`Searcher.state_dict`, as before. Under
a :class:`Journal`, which the study loop uses for its snapshots, they
serialise as ``{"$log": key, "keep": m, "tail": [...]}``: the first ``m``
entries are those the study stored before, in its earlier snapshot rows, and
``tail`` is what came after. So a snapshot costs O(new entries). On resume,
:meth:`Journal.load` rebuilds each container from the chain of rows.
"""
from __future__ import annotations

import contextvars
import itertools

from nasl.ir.architecture import Architecture

_SAVING: contextvars.ContextVar = contextvars.ContextVar("nasl_journal_saving", default=None)
_LOADING: contextvars.ContextVar = contextvars.ContextVar("nasl_journal_loading", default=None)
_IDS = itertools.count()


def same_value(x):
    return x


def _arch_pair(p):
    return [p[0].to_json(), p[1]]


def _arch_unpair(e):
    return Architecture.from_json(e[0]), e[1]


# (encode, decode) of one entry, between the Python value and its JSON; named functions, so that they pickle
ARCH = (Architecture.to_json, Architecture.from_json)
ARCH_SCORE = (_arch_pair, _arch_unpair)          # (Architecture, JSON value)
PAIR = (same_value, tuple)                            # a tuple of JSON values
PLAIN = (same_value, same_value)                           # JSON values


def _node(item):
    return [list(item[0]), *item[1]]


def _unnode(e):
    return tuple(e[0]), list(e[1:])


NODE = (_node, _unnode)                          # (tuple key, list of numbers), as [[*key], *numbers]


class Log(list):
    """A list whose study snapshots hold only the entries past what is already stored.

    ``append``, ``extend`` and ``pop()`` from the end are tracked cheaply (a
    low-water mark); any other change rewrites the whole list at the next
    snapshot, which is still exact, only not incremental.
    """

    __slots__ = ("codec", "_low", "_saved", "_key", "_jid")

    def __init__(self, items=(), codec=PAIR):
        super().__init__(items)
        self.codec = codec
        self._low = self._saved = 0      # entries [0, min(_low, _saved)) are unchanged since the last snapshot
        self._key = self._jid = None     # the key under which journal _jid stores this list

    def pop(self, index=-1):
        n = len(self)
        i = index + n if index < 0 else index
        if 0 <= i < n:
            self._low = min(self._low, i)
        return super().pop(index)

    def __reduce__(self):
        # a copy is a new list to the journal (stored afresh)
        return type(self), (list(self), self.codec)

    def state(self):
        """The entries as JSON (in full), or their increment under a saving :class:`Journal`."""
        encode = self.codec[0]
        journal = _SAVING.get()
        if journal is None:
            return [encode(x) for x in self]
        if self._jid != journal.id:
            self._key, self._jid, self._saved = journal.new_key(), journal.id, 0
        keep = min(self._low, self._saved, len(self))
        journal.pending.append((self, keep))
        return {"$log": self._key, "keep": keep, "tail": [encode(x) for x in self[keep:]]}

    @classmethod
    def load(cls, state, codec=PAIR) -> "Log":
        """The inverse of :meth:`state` (a reference is resolved by the loading :class:`Journal`)."""
        decode = codec[1]
        if isinstance(state, dict) and "$log" in state:
            journal = _LOADING.get()
            if journal is None:
                raise ValueError("this searcher state is an increment of a study's earlier snapshots; "
                                 "load it through the study (nasl.search(..., resume=True))")
            entries = journal.entries.get(state["$log"])
            if entries is None:
                raise ValueError(f"the study's searcher snapshots are incomplete (no stored entries of "
                                 f"log {state['$log']})")
            out = cls(map(decode, entries), codec)
            out._key, out._jid = state["$log"], journal.id
            out._low = out._saved = len(out)
            return out
        return cls(map(decode, state), codec)


def _rewrites(name):
    base = getattr(list, name)

    def method(self, *args, **kw):
        self._low = 0
        return base(self, *args, **kw)
    method.__name__ = name
    return method


# every other mutation of a Log marks it for a full rewrite
for _name in ("__setitem__", "__delitem__", "__imul__", "insert", "remove", "sort", "reverse", "clear"):
    setattr(Log, _name, _rewrites(_name))


class ArchSet(set):
    """A set of architectures that only grows; remembers its insertion order for increments."""

    __slots__ = ("order",)

    def __init__(self, items=()):
        super().__init__()
        self.order = Log(codec=ARCH)
        for a in items:
            self.add(a)

    def add(self, arch) -> None:
        if arch not in self:
            super().add(arch)
            self.order.append(arch)

    def __reduce__(self):
        return type(self), (list(self.order),)

    def state(self):
        return self.order.state()

    @classmethod
    def load(cls, state) -> "ArchSet":
        out = cls()
        out.order = Log.load(state, ARCH)
        set.update(out, out.order)
        return out


def _grow_only(name):
    def method(self, *args, **kw):
        raise TypeError(f"ArchSet only grows (add); {name} is not supported")
    method.__name__ = name
    return method


for _name in ("discard", "remove", "pop", "clear", "update", "difference_update", "intersection_update",
              "symmetric_difference_update", "__ior__", "__iand__", "__isub__", "__ixor__"):
    setattr(ArchSet, _name, _grow_only(_name))


class LogDict(dict):
    """A dict whose snapshots log its assignments, replayed in order on load.

    ``codec`` encodes one ``(key, value)`` item (default: an Architecture
    and a JSON value). A value changed in place is logged by :meth:`touch`.
    """

    __slots__ = ("assigned",)

    def __init__(self, items=(), codec=ARCH_SCORE):
        super().__init__()
        self.assigned = Log(codec=codec)
        for k, v in dict(items).items():
            self[k] = v

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self._log(key, value)

    def touch(self, key) -> None:
        """Log ``key`` again: its value was changed in place."""
        self._log(key, self[key])

    def _log(self, key, value) -> None:
        if len(self.assigned) > 2 * len(self) + 16:      # mostly overwritten: log the items afresh (amortised O(1))
            self.assigned = Log(self.items(), self.assigned.codec)
        else:
            self.assigned.append((key, value))

    def __reduce__(self):
        return type(self), (list(self.items()), self.assigned.codec)

    def state(self):
        if _SAVING.get() is None:
            return [self.assigned.codec[0](item) for item in self.items()]
        return self.assigned.state()

    @classmethod
    def load(cls, state, codec=ARCH_SCORE) -> "LogDict":
        out = cls(codec=codec)
        out.assigned = Log.load(state, codec)
        for k, v in out.assigned:
            dict.__setitem__(out, k, v)
        return out


def _rewrite(name):
    base = getattr(dict, name)

    def method(self, *args, **kw):
        out = base(self, *args, **kw)
        self.assigned = Log(self.items(), self.assigned.codec)
        return out
    method.__name__ = name
    return method


for _name in ("__delitem__", "pop", "popitem", "clear", "update", "setdefault", "__ior__"):
    setattr(LogDict, _name, _rewrite(_name))


class Journal:
    """What a study has stored of each journaled container, across its chain of snapshot rows.

    Parameters
    ----------
    rows : iterable of (seq, state)
        The study's stored snapshots, oldest first (``Storage.searcher_states``).
    """

    def __init__(self, rows=()):
        self.id = next(_IDS)
        self.entries: dict = {}         # key -> encoded entries, as of the last row (only until load)
        self.since: dict = {}           # key -> seq of the row that wrote it from entry 0
        self.next_key = 0
        self.pending: list = []         # (Log, keep) of the snapshot being written
        self.last_seq = None            # of the newest stored row: a snapshot there must not replace it
        self.last_row = None            # (seq, state) of that row
        for seq, state in rows:
            self._absorb(seq, state)
            self.last_seq, self.last_row = seq, (seq, state)

    def new_key(self) -> int:
        self.next_key += 1
        return self.next_key - 1

    def _absorb(self, seq, node) -> None:
        if isinstance(node, dict) and "$log" in node:
            key, keep, tail = node["$log"], node.get("keep"), node.get("tail")
            if not (isinstance(key, int) and isinstance(keep, int) and keep >= 0 and isinstance(tail, list)):
                raise ValueError(f"the study's searcher snapshot at {seq} is malformed (a log entry {node!r:.80})")
            entries = self.entries.setdefault(key, [])
            if keep > len(entries):
                raise ValueError(f"the study's searcher snapshots are incomplete (row {seq} continues "
                                 f"log {key} at entry {keep}, but only {len(entries)} are stored)")
            del entries[keep:]
            entries.extend(tail)
            if keep == 0:
                self.since[key] = seq
            self.next_key = max(self.next_key, key + 1)
            return
        for x in (node.values() if isinstance(node, dict) else node):
            if isinstance(x, (dict, list)):
                self._absorb(seq, x)

    # ------------------------------------------------------------ save
    def state_dict(self, searcher) -> dict:
        """``searcher.state_dict()`` with journaled containers as increments; then :meth:`commit` or :meth:`discard`."""
        self.pending = []
        token = _SAVING.set(self)
        try:
            return searcher.state_dict()
        finally:
            _SAVING.reset(token)

    def oldest_needed(self, seq: int) -> int:
        """The oldest row the snapshot being written at ``seq`` still needs (older ones can go)."""
        return min((seq if keep == 0 else self.since.get(log._key, -1) for log, keep in self.pending), default=seq)

    def superseded(self, state) -> list:
        """What an older row must keep once a newer snapshot is stored: only its log increments.

        A resume loads the newest row as the state and reads older rows only
        for the entries of live logs, so the rest of an older row (REINFORCE's
        200 kB controller, written whole in each row) is dead weight: the
        study rewrites the previous row to this when it stores the next one.
        """
        out = []

        def visit(node):
            if isinstance(node, dict) and "$log" in node:
                out.append(node)
                return
            for x in (node.values() if isinstance(node, dict) else node):
                if isinstance(x, (dict, list)):
                    visit(x)
        visit(state)
        return out

    def commit(self, seq: int) -> None:
        """The snapshot at ``seq`` is stored: its entries count as saved."""
        for log, keep in self.pending:
            if keep == 0:
                self.since[log._key] = seq
            log._saved = log._low = len(log)
        self.pending = []
        self.last_seq = seq

    def discard(self) -> None:
        """The snapshot was not stored: the next one repeats its increments."""
        self.pending = []

    # ------------------------------------------------------------ load
    def load(self, searcher, state) -> None:
        """``searcher.load_state_dict(state)``, resolving increments against the absorbed rows."""
        token = _LOADING.set(self)
        try:
            searcher.load_state_dict(state)
        finally:
            _LOADING.reset(token)
            self.entries = {}            # the containers hold them now
