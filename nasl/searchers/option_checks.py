"""Range checks for searcher options, each a one-line ValueError naming the option.

The registry already refuses an option of the wrong kind (a string for a number, NaN);
these check what only the searcher knows: sizes of at least 1, rates above 0, decays in [0, 1).
"""
from __future__ import annotations


def at_least(minimum, **values) -> None:
    """Each of ``values`` is at least ``minimum``."""
    for name, v in values.items():
        if not v >= minimum:
            raise ValueError(f"{name} must be at least {minimum}, not {v}")


def positive(**values) -> None:
    """Each of ``values`` is above 0 (a learning rate, a step size)."""
    for name, v in values.items():
        if not v > 0:
            raise ValueError(f"{name} must be above 0, not {v!r}")


def decay(**values) -> None:
    """Each of ``values`` is in [0, 1) (a moving average's decay)."""
    for name, v in values.items():
        if not 0 <= v < 1:
            raise ValueError(f"{name} must be in [0, 1), not {v!r}")
