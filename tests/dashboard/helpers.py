"""Evaluators for the dashboard tests: quick, deterministic and with two objectives.

The metrics are made up from the architecture's ops (no training, no table),
so a study produces trials in a steady stream that the browser can watch.
``python:tests.dashboard.helpers:steady`` names the slow one in ``nasl search``.
"""
from __future__ import annotations

import time

WEIGHTS = {"none": 0.0, "skip_connect": 0.3, "avg_pool_3x3": 0.4, "nor_conv_1x1": 0.7, "nor_conv_3x3": 1.0}
DIRECTIONS = {"score": "max", "convs": "min"}


def quick(request) -> dict:
    """``score``: the mean op weight of the cell (max); ``convs``: how many edges are convolutions (min)."""
    ops = list(request.arch.values())
    return {"score": sum(WEIGHTS.get(o, 0.5) for o in ops) / max(1, len(ops)),
            "convs": float(sum(o.startswith("nor_conv") for o in ops))}


quick.directions = DIRECTIONS


def steady(request) -> dict:
    """:func:`quick`, 0.2 s a trial: a study that runs for several seconds."""
    time.sleep(0.2)
    return quick(request)


steady.directions = DIRECTIONS
