"""A study's total wall-clock budget (``--time-budget 2h``, ``time_budget=`` seconds).

Beside the trial budget (how many trials) and the per-trial ``timeout``: once
the run has lasted ``time_budget`` seconds no new trial is asked; the trials
already running finish and are recorded (each is bounded by ``timeout``), so
nothing is lost and the study resumes as after any other stop. The budget is
per run, not recorded: ``--resume`` runs with the one it is given (none by default).
"""
from __future__ import annotations

import math
import re
import time

from nasl.ir.errors import NaslError

_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_FORM = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(s|m|min|h|d)?\s*$", re.IGNORECASE)


def parse(text: str) -> float:
    """``"90"``, ``"90s"``, ``"30m"``, ``"1.5h"``, ``"2d"``: seconds; NaslError otherwise."""
    m = _FORM.match(text or "")
    if not m:
        raise NaslError(f"--time-budget takes a duration such as 90s, 30m, 2h or 1.5h (or seconds), not '{text}'")
    return check(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def check(seconds) -> float | None:
    """A positive, finite number of seconds (None: no time budget)."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (seconds > 0 and math.isfinite(seconds)):
        raise NaslError(f"time_budget is a positive number of seconds, not {seconds!r}")
    return float(seconds)


class Clock:
    """When a run has used its time budget (monotonic, from the start of the run)."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.start = time.monotonic()
        self.reported = False

    def out(self) -> bool:
        return self.seconds is not None and time.monotonic() - self.start >= self.seconds


def describe(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


__all__ = ["parse", "check", "Clock", "describe"]
