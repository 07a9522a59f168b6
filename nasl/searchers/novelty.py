"""De-duplication for searchers that would otherwise propose an architecture twice.

An evolutionary or learning searcher proposes by its own rule (a mutation,
a policy sample). :class:`Novelty` keeps the set of architectures already
proposed or told, asks the rule again when it repeats one, then falls back
to uniform samples, and, when those repeat too (a small space nearly used
up), lists the unseen architectures once by enumeration. In a space without
constraints, past 1,000 architectures and half the space seen, it skips the
uniform samples and tries the rule fewer times, in proportion to the share
left unseen (:func:`~nasl.searchers.walks.mostly_seen`), so an ask does not
cost more as the space runs out. When none is
left it raises :class:`~nasl.searchers.base.Exhausted`, so a finite space
ends with a clear signal instead of a loop.

A rule that finds no architecture meeting the constraints at all (a policy
that samples each choice itself never hits ``require a == 777 and b == 333``
over two ``int_range(1, 10**6)``) is set aside for the rest of the search:
proposals then come from :func:`~nasl.searchers.walks.sample`, which draws
exactly counted constraints apart, and the searcher still learns from their
results. Only when that fails too does the search stop, with both reasons.
"""
from __future__ import annotations

from typing import Callable

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Exhausted
from nasl.searchers.journal import ARCH, ArchSet, Log
from nasl.searchers.walks import NoValidArchitecture, Odometer, mostly_seen, sample, satisfies


class Novelty:
    """The architectures seen so far, and the fallbacks when a rule keeps repeating them.

    Parameters
    ----------
    spec : ChoiceSpec
    check : bool
        Whether the spec has constraints to check on enumerated architectures.
    enabled : bool
        False: :meth:`propose` returns the rule's first proposal, repeated or not.
    retries : int
        How many proposals of the rule, then how many uniform samples, to try
        before enumerating.
    """

    def __init__(self, spec, check: bool, enabled: bool = True, retries: int = 20):
        self.spec = spec
        self.check = check
        self.enabled = enabled
        self.retries = retries
        self.seen = ArchSet()           # journaled: a study's snapshots store only what is new
        self.rest: Log | None = None
        self.rule_failed: str | None = None     # why the rule met no constraint; then sample() proposes

    def propose(self, rule: Callable[[], Architecture], rng,
                on_repeat: Callable[[Architecture], None] | None = None,
                block: Callable[[int], Architecture | None] | None = None,
                uniform: Callable[[], Architecture] | None = None) -> Architecture:
        """A new architecture from ``rule`` if it gives one within ``retries`` tries, else a fallback.

        ``on_repeat(arch)`` is called for every repeated proposal (a searcher
        may learn from it: its result, if told, is known). ``block(tries)``,
        if given, makes the tries itself: the first of up to ``tries``
        proposals of the rule not yet seen, or None (a searcher that can draw
        many at once; it must not raise, so only for rules without constraints).
        ``uniform()``, if given, replaces the uniform fallback's ``sample(spec, rng, False)``: the same
        draw made faster (a flat space without constraints; ``BlockDraw.uniform_for``).
        """
        rule = self._guarded(rule, rng)
        if not self.enabled:
            return self._safe(rule)
        unseen = mostly_seen(self.spec, len(self.seen))
        tries = self.retries
        if unseen is not None and unseen < 0.5:
            # the rule repeats itself about as often as the space is used up: fewer tries as it runs out
            tries = max(1, min(self.retries, round(self.retries * 2 * unseen)))
        if block is not None and self.rule_failed is None:
            arch = block(tries)
            if arch is not None:
                self.seen.add(arch)
                return arch
        else:
            for _ in range(tries):
                arch = self._safe(rule)
                if arch not in self.seen:
                    self.seen.add(arch)
                    return arch
                if on_repeat is not None:
                    on_repeat(arch)
        if self.rest is None:
            draw = uniform if uniform is not None else lambda: sample(self.spec, rng, self.check)
            for _ in range(self.retries if unseen is None or unseen > 0.5 else 0):
                arch = self._safe(draw)
                if arch not in self.seen:
                    self.seen.add(arch)
                    return arch
            rest = [a for a in Odometer(self.spec) if a not in self.seen and (not self.check or satisfies(self.spec, a))]
            rng.shuffle(rest)
            self.rest = Log(rest, ARCH)
        while self.rest:
            arch = self.rest.pop()
            if arch not in self.seen:
                self.seen.add(arch)
                return arch
        raise Exhausted(f"every one of the {len(self.seen)} architectures of the space has been proposed or told")

    def add(self, arch: Architecture) -> None:
        if self.enabled:
            self.seen.add(arch)

    def _guarded(self, rule, rng):
        """``rule``, until it first fails to meet the constraints; the shared sampler after that."""
        def fallback():
            try:
                return sample(self.spec, rng, self.check)
            except NoValidArchitecture as e:
                raise NoValidArchitecture(f"{self.rule_failed}; then {e}") from None

        def guarded():
            if self.rule_failed is not None:
                return fallback()
            try:
                return rule()
            except NoValidArchitecture as e:
                self.rule_failed = str(e)
                return fallback()
        return guarded

    @staticmethod
    def _safe(rule):
        try:
            return rule()
        except NoValidArchitecture as e:
            raise Exhausted(str(e)) from None

    def state(self) -> dict:
        out = {"seen": self.seen.state(), "rest": None if self.rest is None else self.rest.state()}
        if self.rule_failed is not None:
            out["rule_failed"] = self.rule_failed
        return out

    def load(self, state: dict) -> None:
        self.seen = ArchSet.load(state["seen"])
        rest = state["rest"]
        self.rest = None if rest is None else Log.load(rest, ARCH)
        self.rule_failed = state.get("rule_failed")
