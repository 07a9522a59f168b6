"""A choice kind written the way a user writes one: this module is all of it.

``ratio`` picks a fraction p/q in (0, 1) with a denominator of at most
``domain`` (an expansion or keep ratio), as a float. It defines its values,
its text and its JSON domain; sampling, counting, validation, the encoders
and every searcher take the rest from :class:`nasl.ir.choice_kind.Choice`.
"""
from __future__ import annotations

from nasl.ir.choice_kind import Choice


class Ratio(Choice, kind="ratio"):
    """``ratio(max_denominator)``: the distinct fractions p/q, 0 < p < q <= max_denominator, ascending."""

    def values(self):
        n = self.domain
        return iter(sorted({p / q for q in range(2, n + 1) for p in range(1, q)}))

    def describe(self) -> str:
        return f"ratio(max_denominator={self.domain})"

    def domain_json(self):
        return self.domain
