"""What a choice kind is: one class holding its domain, size, sampling, encoding, mutation and JSON form.

After PyGlove's ``geno`` model, each kind of decision is a class:
:class:`Choice` is the base, and ``class IntRange(Choice, kind="int")``
defines and registers the kind ``int``. ``Choice(path, "int", range(...))``
makes an instance of the class registered for ``"int"``, so code that builds
choices names the kind and gets its behaviour.

The sampler, the counters and every searcher ask the choice itself (its
methods below), never its ``kind`` string. The defaults here treat a kind as
a finite list of values (:meth:`values`): a new kind that defines only
``values()`` (and ``describe()`` for messages) is sampled, counted, written
to JSON, mutated, crossed over, one-hot encoded, decided step by step and
offered to Optuna as a categorical parameter. A kind overrides what it does
better: an int range is a number to Optuna and a scaled scalar to the
encoder, a float range is continuous.

Crossover needs nothing of a kind: it exchanges values between parents and
keeps one only where :meth:`contains` accepts it (``searchers/recombine.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional

from nasl.ir.errors import Span

# kind name -> class; filled by ``class X(Choice, kind="name")``
CHOICE_KINDS: dict[str, type] = {}
# every class of choice: the spec's walks test ``type(item) in CHOICE_TYPES`` (as fast as ``is``)
CHOICE_TYPES: set = set()

# a finite kind with at most this many values is sampled by one uniform index into its list
MAX_TABLE = 4096


@dataclass(frozen=True, eq=False)
class Choice:
    """One decision: a path, a kind and a domain (what the domain holds depends on the kind)."""

    path: str
    kind: str
    domain: Any
    span: Optional[Span] = None
    hints: frozenset = frozenset()
    k: Optional[int] = None
    ordered: bool = False
    log: bool = False
    replace: bool = False
    condition: tuple = ()          # tuple of Guards, outermost first

    # class attributes a kind may set
    categorical = False     # a plain list of values in ``domain``: searchers may index it directly
    finite = True           # False: infinitely many values (a float range)

    def __new__(cls, *args, **kwargs):
        if cls is Choice:
            kind = args[1] if len(args) > 1 else kwargs.get("kind")
            target = CHOICE_KINDS.get(kind)
            if target is None:
                from nasl.ir.errors import did_you_mean
                hint = did_you_mean(str(kind), CHOICE_KINDS)
                raise ValueError(f"unknown choice kind {kind!r}" + (f" ({hint})" if hint else "")
                                 + f"; kinds: {', '.join(sorted(CHOICE_KINDS))}")
            cls = target
        return object.__new__(cls)

    def __init_subclass__(cls, kind: str | None = None, **kw):
        super().__init_subclass__(**kw)
        CHOICE_TYPES.add(cls)
        if kind is None:
            return
        old = CHOICE_KINDS.get(kind)
        if old is not None and old.__qualname__ != cls.__qualname__:
            raise ValueError(f"choice kind '{kind}' is already {old.__module__}.{old.__qualname__}")
        CHOICE_KINDS[kind] = cls

    # ------------------------------------------------------------ size and values
    def values(self) -> Iterator[Any]:
        """Every value, in a fixed order (finite kinds only)."""
        raise NotImplementedError(f"choice kind '{self.kind}' defines no values()")

    def cardinality(self):
        """Number of values; ``math.inf`` for an infinite kind."""
        return len(self.value_table())

    def value_table(self) -> tuple:
        """``tuple(values())``, computed once."""
        t = self.__dict__.get("_table")
        if t is None:
            t = tuple(self.values())
            object.__setattr__(self, "_table", t)
        return t

    def contains(self, value) -> bool:
        return any(same_value(value, x) for x in self.value_table())

    def describe(self) -> str:
        """The choice as the language writes it, for messages."""
        return f"{self.kind}(" + ", ".join(fmt_value(x) for x in self.value_table()) + ")"

    # ------------------------------------------------------------ sampling
    def uniform_table(self):
        """A sequence to draw a uniform value from by one index, or None (then :meth:`sample` draws)."""
        return self.value_table() if self.cardinality() <= MAX_TABLE else None

    def sample(self, rng):
        """A uniformly random value."""
        t = self.value_table()
        return t[int(rng.random() * len(t))]

    def mutate(self, value, rng):
        """A uniformly random value other than ``value`` (the kind has more than one)."""
        new = self.sample(rng)
        while new == value:
            new = self.sample(rng)
        return new

    def first(self):
        """The first value (the 'trivial' answer)."""
        return next(iter(self.values()))

    def grid(self, points: int) -> tuple:
        """The values an exhaustive walk visits (``points`` of them for a continuous kind)."""
        return self.value_table()

    # ------------------------------------------------------------ what searchers see
    def encoding(self, max_onehot: int) -> tuple:
        """How a fixed-length vector holds the value (``searchers/encoding.py``):
        ``("onehot", values)``, ``("scalar", lo, hi, log)`` or ``("items", items, positional, permutation)``."""
        return ("onehot", self.value_table())

    def decision_mode(self, max_arms: int) -> str:
        """How a step-by-step policy decides it (``searchers/decisions.py``): ``values`` (one step
        over every value), ``bins`` (a numeric range in bins), ``include`` or ``picks`` (item by item)."""
        return "values"

    def numeric_range(self):
        """``("int", (low, high, step, log))`` or ``("float", (low, high, log))`` where the value is a
        number Optuna can suggest; None for a categorical kind."""
        return None

    keyed = False           # True: from_keys/to_keys map the value to random keys (large subsets)

    # ------------------------------------------------------------ JSON
    def domain_json(self):
        return list(self.domain)

    def options_json(self) -> dict:
        """Fields of the JSON form besides path, kind, domain and hints."""
        return {}

    def to_dict(self) -> dict:
        out = {"path": self.path, "kind": self.kind, "domain": self.domain_json(), "hints": sorted(self.hints)}
        out.update(self.options_json())
        if self.log:
            out["log"] = True
        if self.condition:
            out["condition"] = [g.to_dict() for g in self.condition]
        return out


def same_value(a, b) -> bool:
    # 1 == True in Python; a choice between 1 and true must keep them apart.
    return a == b and type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                           and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def fmt_value(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return x
    return repr(x)


CHOICE_TYPES.add(Choice)
