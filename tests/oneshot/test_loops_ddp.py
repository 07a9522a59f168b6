"""Under torch.distributed (gloo, 2 processes) the loop equals one process on the same global batch."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.oneshot.loop_helpers import ROOT


def _start(world, tmp_path, order, tag):
    """Start the ``world`` rank processes of one run; :func:`_results` waits for them."""
    out = str(tmp_path / f"{tag}.json")
    rdv = str(tmp_path / f"{tag}.rdv")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    procs = [subprocess.Popen([sys.executable, "-m", "tests.oneshot.ddp_worker", str(r), str(world), rdv, out,
                               str(order)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
             for r in range(world)]
    return out, procs


def _results(run):
    out, procs = run
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    return [json.load(open(f"{out}.{r}")) for r in range(len(procs))]


def _close(a, b, tol=1e-5):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    return abs(a - b) <= tol


@pytest.mark.slow
@pytest.mark.parametrize("order", [1, 2])
def test_two_gloo_processes_equal_one_on_the_global_batch(tmp_path, order):
    # the one-process run and the two ranks are independent runs: start all three at once
    single_run, ddp_run = _start(1, tmp_path, order, "single"), _start(2, tmp_path, order, "ddp")
    (single,), (r0, r1) = _results(single_run), _results(ddp_run)
    assert single["steps"] == r0["steps"] == r1["steps"] == 3
    assert _close(single["alpha"], r0["alpha"]) and _close(single["alpha"], r1["alpha"])
    assert _close(single["weights"], r0["weights"])
    # every rank derives the same architecture (alpha agrees exactly across ranks: the same averaged gradients)
    assert r0["alpha"] == r1["alpha"]
    assert r0["record"]["arch"] == r1["record"]["arch"] == single["record"]["arch"]
    assert _close(r0["record"]["metrics"], single["record"]["metrics"])
