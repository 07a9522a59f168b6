"""Population-based training's two steps between intervals (Jaderberg et al. 2017, section 3).

- **exploit** by truncation selection: rank the members by their score at the end of the interval;
  each member of the bottom ``fraction`` copies the weights and hyperparameters of a member drawn
  uniformly from the top ``fraction`` (a member whose interval failed is always among the bottom);
- **explore**: the copy's float choices (the space's ``float_range`` choices: a learning rate, a
  dropout rate, ...) are each multiplied by a factor drawn from ``factors`` (the paper's 0.8 and
  1.2), clipped to the choice's range, or, with probability ``resample_probability``, drawn afresh
  from the range (the paper's "resample" explore).

Both take a seeded :class:`random.Random`: the scheduler seeds one per interval from the study's
seed, so a resumed run makes the same decisions as an uninterrupted one. Nothing here trains.
"""
from __future__ import annotations

import hashlib
import math
import random

from nasl.ir.errors import NaslError

#: the paper's perturbation factors
FACTORS = (0.8, 1.2)


def float_choices(space) -> dict:
    """``{path: Choice}`` of the space's float choices, the hyperparameters PBT explores."""
    return {c.path: c for c in space.spec.all_choices() if c.kind == "float"}


def interval_rng(seed: int, interval: int) -> random.Random:
    """The decisions' generator after ``interval``: a function of the study seed and the interval only."""
    digest = hashlib.blake2b(f"pbt:{seed}:{interval}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def cut(population: int, fraction: float) -> int:
    """How many members the top and the bottom each hold: ``fraction`` of the population, at least one."""
    return max(1, min(population // 2, math.floor(fraction * population + 1e-9)))


def exploit(scores: list, fraction: float, rng: random.Random, direction: str = "max") -> dict:
    """``{member: donor}`` for the members that copy another one after this interval.

    ``scores[m]`` is member m's score, None when its interval failed. The ranking breaks ties by the
    member's index (the lower index ranks higher), so the choice does not depend on dict order.
    """
    sign = 1.0 if direction == "max" else -1.0
    ok = [m for m, s in enumerate(scores) if s is not None]
    if not ok:
        return {}
    ranked = sorted(ok, key=lambda m: (-sign * scores[m], m))            # best first
    n = cut(len(scores), fraction)
    top = ranked[:n]
    bottom = [m for m in ranked[-n:] if m not in top]
    losers = sorted(set(bottom) | {m for m, s in enumerate(scores) if s is None})
    return {m: top[rng.randrange(len(top))] for m in losers}


def explore(arch: dict, choices: dict, rng: random.Random, factors=FACTORS,
            resample_probability: float = 0.0) -> tuple[dict, list]:
    """``(new architecture, changes)``: ``arch`` with each of its float choices perturbed or resampled.

    ``changes`` lists what happened to each one, for the trial's transformation text (``"lr x1.2"``,
    ``"p resampled"``). Choices absent from ``arch`` (inactive under a condition) are left alone.
    """
    out, changes = dict(arch), []
    for path in sorted(choices):
        if path not in out:
            continue
        choice = choices[path]
        lo, hi = choice.domain
        if resample_probability and rng.random() < resample_probability:
            out[path] = float(choice.sample(rng))
            changes.append(f"{path} resampled")
        else:
            factor = factors[rng.randrange(len(factors))]
            out[path] = float(min(hi, max(lo, out[path] * factor)))
            changes.append(f"{path} x{factor:g}")
    return out, changes


def check_options(population, interval, fraction, factors, resample_probability) -> tuple:
    """The scheduler's options, checked: ``(population, interval, fraction, factors, resample_probability)``."""
    if isinstance(population, bool) or not isinstance(population, int) or population < 2:
        raise NaslError(f"PBT's population must be an int of at least 2 members, not {population!r}")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise NaslError(f"PBT's interval (epochs between exploit steps) must be an int of at least 1, not {interval!r}")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 0.5:
        raise NaslError(f"PBT's fraction (the top and bottom share) must be in (0, 0.5], not {fraction!r}")
    try:
        factors = tuple(float(f) for f in factors)
    except (TypeError, ValueError):
        raise NaslError(f"PBT's factors are a list of positive numbers such as [0.8, 1.2], not {factors!r}") from None
    if not factors or any(not (math.isfinite(f) and f > 0) for f in factors):
        raise NaslError(f"PBT's factors are a list of positive numbers such as [0.8, 1.2], not {list(factors)!r}")
    if isinstance(resample_probability, bool) or not isinstance(resample_probability, (int, float)) \
            or not 0 <= resample_probability <= 1:
        raise NaslError(f"PBT's resample_probability must be in [0, 1], not {resample_probability!r}")
    return population, interval, float(fraction), factors, float(resample_probability)
