"""The elaborated space: counting, sampling, enumeration, validation, realization."""
from __future__ import annotations

import random as _random
import time
from collections import Counter
from numbers import Integral
from typing import Iterator, Mapping

from nasl.ir.architecture import Architecture
from nasl.ir.decision_tree import ChoiceSpec, checked_value
from nasl.ir.counting import (ENUMERATION_LIMIT, SKIP, NotStructural, WorkLimit, constrained_size,  # noqa: F401
                              iter_valid, structural_size)
from nasl.ir.errors import (ConstraintViolation, InvalidArchitecture, NaslError,
                            UnsatisfiableError, did_you_mean)
from nasl.ir.sampling import UNIFORM_ARCHITECTURE, TreeSampler, check_mode, draw_per_choice

GRAPH_COUNT_LIMIT = 100_000
_REJECTION_TRIES = 10_000         # draws before trying to list the valid architectures instead
REJECTION_S = 2.0                 # ... and the time rejection may take in all before giving up
_MAX_DRAWS = 200_000
_PLAIN_TRIES = 100                # plain draws before the exact clusters are worked out (nasl.ir.exact)


class Space:
    """A search space: its choice points, constraints and a way to realize architectures.

    ``backend`` is the front end that elaborated the space (``nasl.dsl``); the
    IR only calls its ``run_realize(values)``.
    """

    def __init__(self, spec: ChoiceSpec, dags: list, params: dict, backend=None, name: str = "<space>",
                 graph_constraints: list | None = None):
        self.spec = spec
        # constraints on the built network (uses(x), edges() outside a dag):
        # checking them means realizing the architecture
        self.graph_constraints = list(graph_constraints or ())
        self.dags = dags
        self.params = params
        self.name = name
        self._backend = backend
        self._memo: dict = {}
        self._size = None
        self._sampler = None
        self._valid = None
        self._exact = None          # (clusters counted exactly, the constraints they account for)
        self._no_listing = None     # why the valid architectures cannot be listed (said once)
        self._struggling = False    # rejection fails often: draw exactly counted clusters apart

    def __repr__(self) -> str:
        return f"<Space {self.name}>"

    def _repr_svg_(self):
        """A notebook shows the space as a picture of its choice points."""
        try:
            from nasl.ir.pictures import repr_svg, space_dot
        except ImportError:         # pydot is optional
            return None
        return repr_svg(lambda: space_dot(self))

    # ------------------------------------------------------------ counting
    @property
    def structural(self) -> bool:
        try:
            structural_size(self.spec, self._memo)
            return True
        except NotStructural:
            return False

    def size(self):
        """The exact number of valid architectures (a Python int; ``math.inf`` with float ranges)."""
        if self._size is None:
            try:
                n = structural_size(self.spec, self._memo)
            except NotStructural:
                self._check_finite()
                n = self._constrained_size()
            except RecursionError:
                raise NaslError(f"{self.name}: the space is too deep to count (a recursion without a depth limit?)")
            if self.graph_constraints:
                n = self._count_realized(n)
            self._size = n
        return self._size

    def _clusters(self):
        """Constraints over a few always-active choices, counted and drawn exactly (nasl.ir.exact)."""
        if self._exact is None:
            if self.graph_constraints:        # realizing needs every value: no choice may be drawn apart
                self._exact = ([], frozenset())
            else:
                from nasl.ir.exact import clusters
                try:
                    found = clusters(self.spec)
                except RecursionError:          # too many groups to survey: the walker alone
                    found = []
                self._exact = (found, frozenset(con for cl in found for con, _, _ in cl.parts))
        return self._exact

    def _constrained_size(self) -> int:
        found, skip = self._clusters()
        if any(cl.count == 0 for cl in found):
            return 0
        try:
            try:
                n = structural_size(self.spec, {SKIP: skip}) if skip else constrained_size(self.spec)
            except NotStructural:
                n = constrained_size(self.spec, skip)
        except WorkLimit as e:
            raise self._at(e.constraint, f"cannot count <c> exactly: {e.what()}", GaveUp) from None
        for cl in found:
            n = n // cl.total * cl.count      # the rest times the share of these choices' combinations that hold
        return n

    def _at(self, con, message: str, kind=UnsatisfiableError) -> NaslError:
        """An error about ``con`` (the first constraint when None), at its span."""
        con = con or next(iter(self.spec.all_constraints()), None) or next(iter(self.graph_constraints), None)
        if con is None:
            return kind(f"{self.name}: {message.replace('<c> ', '').replace('<c>', 'the constraints')}")
        err = kind(message.replace("<c>", f"'{con.message}'"), con.span)
        return err.with_source(getattr(self._backend, "source", None))

    def _count_realized(self, candidates) -> int:
        if candidates > GRAPH_COUNT_LIMIT:
            c = self.graph_constraints[0]
            raise GaveUp(f"{self.name}: cannot count exactly: the constraint '{c.message}' needs each of "
                            f"{candidates:.3g} candidate architectures built (limit {GRAPH_COUNT_LIMIT:,})",
                            c.span)
        return sum(1 for values in iter_valid(self.spec) if self._graph_ok(values))

    def _graph_ok(self, values) -> bool:
        if not self.graph_constraints:
            return True
        try:
            self._backend.realize(dict(values))
        except ConstraintViolation:
            return False
        return True

    def _check_finite(self):
        for c in self.spec.all_choices():
            if not c.finite:
                raise NaslError(f"'{c.path}' is a float range: a constrained space with one cannot be counted",
                                c.span)

    def count_unique(self, equivalence: str = "graph") -> int:
        """Architectures up to equivalence: ``graph`` (isomorphic pruned cells) or ``expression``."""
        from nasl.ir.unique import count_unique
        return count_unique(self, equivalence)

    # ------------------------------------------------------------ sampling
    def sample(self, seed=None, n: int | None = None, mode: str = UNIFORM_ARCHITECTURE):
        """One random valid architecture, or a list of ``n``.

        ``seed`` may be an int or a ``random.Random``. ``mode`` is
        ``"uniform-architecture"`` (every valid architecture equally likely) or
        ``"uniform-choice"`` (each active choice uniform in its domain, drawn
        top-down; constraints by rejection): in a space whose depth is a
        choice, the first almost always gives the deepest network, the second
        each depth equally often.
        """
        draw = self._sample_one if check_mode(mode) == UNIFORM_ARCHITECTURE else self._sample_per_choice
        if n is not None and (isinstance(n, bool) or not isinstance(n, Integral) or n < 0):
            raise NaslError(f"sample(n=...) takes a count of architectures (an int >= 0), not {n!r}")
        if not (seed is None or isinstance(seed, (_random.Random, Integral, str, bytes))) or isinstance(seed, bool):
            raise NaslError(f"sample(seed=...) takes an int or a random.Random, not {type(seed).__name__}")
        rng = seed if isinstance(seed, _random.Random) else _random.Random(
            int(seed) if isinstance(seed, Integral) else seed)
        if n is None:
            return draw(rng)
        return [draw(rng) for _ in range(int(n))]

    def _counts_none(self) -> bool:
        """Whether the space is known to be empty (without rejecting for seconds to find out)."""
        try:
            return self.size() == 0
        except (GaveUp, NaslError):
            return False

    def _sample_per_choice(self, rng) -> Architecture:
        start, fails, draws = time.monotonic(), Counter(), 0
        while draws < _MAX_DRAWS and time.monotonic() - start < REJECTION_S:
            draws += 1
            values, constraints = draw_per_choice(self.spec, rng)
            failed = next((c for c in constraints if not c.satisfied(values)), False)
            if failed is False and self._graph_ok(values):
                return Architecture._trusted(values)
            fails[failed or None] += 1
            if draws == _PLAIN_TRIES and self._counts_none():
                raise self._unsatisfiable("no architecture satisfies the constraints")
        con = fails.most_common(1)[0][0] if fails else None
        raise self._at(con, f"no architecture satisfies <c> in {draws:,} uniform-choice draws "
                            f"({time.monotonic() - start:.1f} s)")

    def _sample_one(self, rng) -> Architecture:
        if self._valid is not None:
            return self._listed(rng)
        if self._sampler is None:
            try:
                self._sampler = TreeSampler(self.spec, self._memo)
                self._sampler.plan(self.spec.root)
            except NotStructural:
                self._sampler = None
        if self._sampler is None:
            try:
                return self._sample_enumerated(rng)
            except _CannotList as e:
                raise self._at(None, f"cannot draw uniformly under <c>: {e.why}", NaslError) from None
        start, fails = time.monotonic(), Counter()
        draws = 0
        for i in range(_REJECTION_TRIES):
            if time.monotonic() - start > REJECTION_S:       # slow draws (graph constraints realize each one)
                break
            draws += 1
            if i == _PLAIN_TRIES:
                # rejection struggles: from now on draw the exactly counted clusters apart (any proposal
                # that covers every valid architecture uniformly keeps the accepted draws uniform)
                self._struggling = True
            arch = self._draw(rng, fails)
            if arch is not None:
                return arch
        spent = time.monotonic() - start
        try:
            return self._sample_enumerated(rng)
        except _CannotList as e:
            why = e.why
        # listing is out of reach: keep drawing, for REJECTION_S of drawing in all
        start = time.monotonic() - spent
        while draws < _MAX_DRAWS and time.monotonic() - start < REJECTION_S:
            draws += 1
            arch = self._draw(rng, fails)
            if arch is not None:
                return arch
        con = fails.most_common(1)[0][0] if fails else None
        raise self._at(con, f"no architecture satisfies <c> in {draws:,} random draws "
                            f"({time.monotonic() - start:.1f} s); {why}")

    def _draw(self, rng, fails: Counter):
        """One draw of the tree sampler: an Architecture, or None (the failed constraint is tallied)."""
        values, constraints = self._sampler.draw(rng)
        if constraints and self._struggling:
            found, skip = self._clusters()
            for cl in found:
                if cl.count == 0:
                    raise self._none_hold(cl)
                values.update(cl.draw(rng))
        else:
            skip = ()
        for c in constraints:
            if c not in skip and not c.satisfied(values):
                fails[c] += 1
                return None
        if not self._graph_ok(values):
            fails[None] += 1
            return None
        return Architecture._trusted(values)

    def _none_hold(self, cl) -> UnsatisfiableError:
        paths = ", ".join(c.path for c in cl.choices)
        return self._at(cl.constraint, f"no architecture satisfies <c>: it holds for none of the {cl.total:,} "
                                       f"combinations of {paths} (counted exactly)")

    def _listed(self, rng) -> Architecture:
        values = dict(self._valid[rng.randrange(len(self._valid))])
        for cl in self._clusters()[0]:
            values.update(cl.draw(rng))
        return Architecture._trusted(values)

    def _sample_enumerated(self, rng) -> Architecture:
        """A uniform draw from the list of valid architectures; raises _CannotList when too many or too slow."""
        if self._no_listing is not None:
            raise _CannotList(self._no_listing)
        if self._valid is None:
            found, skip = self._clusters()
            for cl in found:
                if cl.count == 0:
                    raise self._none_hold(cl)
            try:
                n = self.size()
            except GaveUp as e:
                self._no_listing = f"counting them gave up ({e.message.split(': ', 1)[-1]})"
                raise _CannotList(self._no_listing) from None
            if n == 0:
                raise self._unsatisfiable("no architecture satisfies the constraints")
            for cl in found:
                n //= cl.count                      # these are drawn apart from the list
            if n > 1_000_000:
                self._no_listing = f"{n:,} valid architectures are too many to list"
                raise _CannotList(self._no_listing)
            pinned = frozenset(c.path for cl in found for c in cl.choices)
            try:
                self._valid = [v for v in iter_valid(self.spec, skip, pinned) if self._graph_ok(v)]
            except WorkLimit as e:
                self._no_listing = f"listing them gave up: {e.what()}"
                raise _CannotList(self._no_listing) from None
            if not self._valid:
                raise self._unsatisfiable("no architecture satisfies the constraints")
        return self._listed(rng)

    def _unsatisfiable(self, message: str) -> UnsatisfiableError:
        """The error, pointing at the first constraint of the space (where to look)."""
        first = next(iter(self.spec.all_constraints()), None) or next(iter(self.graph_constraints), None)
        if first is None:
            return UnsatisfiableError(f"{self.name}: {message}")
        err = UnsatisfiableError(f"{message} (the first constraint is '{first.message}')", first.span)
        return err.with_source(getattr(self._backend, "source", None))

    # ---------------------------------------------------------- enumeration
    def enumerate(self) -> Iterator[Architecture]:
        """Every valid architecture, lazily, in a fixed order."""
        for c in self.spec.all_choices():
            if not c.finite:
                raise NaslError(f"cannot enumerate: '{c.path}' is a float range", c.span)
        try:
            for values in iter_valid(self.spec):
                if self._graph_ok(values):
                    yield Architecture._trusted(values)
        except WorkLimit as e:
            raise self._at(e.constraint, f"cannot enumerate under <c>: {e.what()}", GaveUp) from None

    # ----------------------------------------------------------- validation
    def validate(self, arch: Mapping) -> Architecture:
        """Check ``arch`` against the space; returns it as an Architecture.

        Raises InvalidArchitecture naming the first wrong path, or
        ConstraintViolation naming the broken constraint.
        """
        arch = self._validate_values(arch)
        if self.graph_constraints:
            self._backend.realize(dict(arch))       # raises ConstraintViolation
        return arch

    def _validate_values(self, arch: Mapping) -> Architecture:
        if not isinstance(arch, Architecture):
            if not isinstance(arch, Mapping):
                raise InvalidArchitecture(f"an architecture is a mapping {{path: value}}, not {type(arch).__name__}")
            arch = Architecture(arch)
        values = dict(arch)
        seen = set()
        source = getattr(self._backend, "source", None)       # for the caret under the span
        for c in self.spec.active_choices(values):
            seen.add(c.path)
            try:
                checked_value(c, values)
            except NaslError as e:
                e.with_source(source)
                raise
        extra = [p for p in values if p not in seen]
        if extra:
            p = extra[0]
            raise InvalidArchitecture(f"'{p}' is not an active choice of this space", path=p,
                                      hint=did_you_mean(p, seen) or "inactive choices must be left out")
        for con in self.spec.active_constraints(values):
            if not con.satisfied(values):
                raise ConstraintViolation(f"constraint violated: {con.message}", con.span, source=source)
        return arch

    def realize(self, arch: Mapping):
        """The :class:`~nasl.ir.archgraph.ArchGraph` of a valid architecture."""
        if self._backend is None:
            raise NaslError(f"{self.name} has no program to realize")
        arch = self._validate_values(arch)
        return self._backend.realize(dict(arch))

    def super_realize(self):
        """The :class:`~nasl.ir.supergraph.SuperGraph` of the space: every architecture's ops at once,
        under guards, with selects where alternatives meet (ONESHOT.md). Cached; ``restrict(arch)``
        gives back ``realize(arch)``. Raises ``NotRelaxable`` at a construct it cannot represent."""
        sg = getattr(self, "_super", None)
        if sg is None:
            if self._backend is None or not hasattr(self._backend, "super_realize"):
                raise NaslError(f"{self.name} has no program to super-realize")
            sg = self._backend.super_realize(self.spec)
            sg.graph["space"] = self.name
            self._super = sg
        return sg

    def __contains__(self, arch) -> bool:
        try:
            self.validate(arch)
            return True
        except NaslError:
            return False


class GaveUp(NaslError):
    """An exact count gave up: enumerating would take too long (the message says what was tried)."""


class _CannotList(Exception):
    """The valid architectures cannot be listed to draw from; ``why`` says so."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why
