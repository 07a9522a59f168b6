"""The inline timeout lands only where it is safe: never in an import, nasl's bookkeeping or a protected section."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

import nasl
from nasl.study import inline_timeout
from tests.study.helpers import CSV, NB201, OPTIONS, ROOT

needs_alarm = pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="SIGALRM is Unix only")
pytestmark = [needs_alarm, pytest.mark.skipif(not CSV.exists(), reason=f"{CSV} is missing")]


def run(evaluator, budget, timeout, **kw):
    return nasl.search(NB201, evaluator=evaluator, budget=budget, seed=0, searcher_options=OPTIONS,
                       timeout=timeout, progress=False, **kw)


def test_an_alarm_before_the_evaluator_starts_fails_the_trial_and_leaves_none_running(tmp_path):
    # 1 ns: the alarm fires while nasl is still arming it; it used to escape as a traceback
    study = run("python:tests.study.helpers:lookup", 6, 1e-9, storage=tmp_path / "s.db")
    assert [t.error for t in study.trials] == ["timed out after 1e-09 s"] * 6
    assert study.counts() == {"running": 0, "complete": 0, "failed": 6, "pruned": 0}


def test_an_import_under_the_alarm_runs_to_its_end(tmp_path, monkeypatch):
    # A module that takes 0.3 s to import, under a 0.05 s timeout. The timeout is delivered after the import:
    # trial 0 times out, and the module is whole in sys.modules, so the later trials find it and complete.
    # (Interrupted, the import would be thrown away and every trial would time out in it again; in a package
    # such as torch, half-imported submodules stay behind and every later import fails.)
    name = f"slow_import_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text("import time\ntime.sleep(0.3)\nREADY = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def imports_slowly(request):
        return {"acc": importlib.import_module(name).READY + request.number}
    imports_slowly.directions = {"acc": "max"}
    study = run(imports_slowly, 3, 0.05)
    assert [t.error for t in study.trials] == ["timed out after 0.05 s", None, None]
    assert sys.modules[name].READY == 1.0


def test_a_protected_section_runs_to_its_end_and_then_times_out():
    done = []

    def guarded(request):
        with inline_timeout.protected():
            time.sleep(0.2)
            done.append(request.number)
        time.sleep(5)                      # never reached: the expiry is raised as the section ends
        return {"acc": 1.0}
    guarded.directions = {"acc": "max"}
    start = time.perf_counter()
    study = run(guarded, 2, 0.05)
    assert time.perf_counter() - start < 3
    assert [t.error for t in study.trials] == ["timed out after 0.05 s"] * 2
    assert done == [0, 1]


def test_a_checkpoint_delivers_the_timeout_and_a_swallowed_alarm_still_fails_the_trial():
    def cooperative(request):
        with inline_timeout.protected():
            for _ in range(1000):
                time.sleep(0.01)
                inline_timeout.checkpoint()
        return {"acc": 1.0}
    cooperative.directions = {"acc": "max"}

    def swallows(request):
        try:
            time.sleep(5)
        except BaseException:               # noqa: BLE001 - what a careless evaluator does
            pass
        return {"acc": 1.0}
    swallows.directions = {"acc": "max"}
    for evaluator in (cooperative, swallows):
        start = time.perf_counter()
        study = run(evaluator, 1, 0.05)
        assert time.perf_counter() - start < 3
        assert study.trials[0].error == "timed out after 0.05 s"


def test_outside_an_armed_trial_the_guards_do_nothing():
    with inline_timeout.protected():
        inline_timeout.checkpoint()
    with inline_timeout.interruptible():
        pass


@pytest.mark.slow
def test_an_inline_timeout_does_not_poison_the_process_for_later_studies(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    # In a fresh process, where torch imports torch._dynamo (and sympy) lazily on the first optimizer step:
    # a 0.5 s timeout used to land in that import and fail this study and every later one in the process
    # ("cannot import name '_inductor' from 'torch'").
    script = textwrap.dedent(f"""
        import json, torch, nasl
        from nasl.study import default_space_path
        from nasl.study.training import TrainEvaluator
        threads = torch.get_num_threads()
        ev = TrainEvaluator(epochs=1)
        a = nasl.search(default_space_path(), evaluator=ev, budget=2, timeout=0.5, progress=False,
                        storage={str(tmp_path / 'a.db')!r})
        b = nasl.search(default_space_path(), evaluator=ev, budget=1, progress=False,
                        storage={str(tmp_path / 'b.db')!r})
        print(json.dumps({{"a": [t.error for t in a.trials], "b": [t.state for t in b.trials],
                          "threads": torch.get_num_threads() == threads,
                          "deterministic": torch.are_deterministic_algorithms_enabled()}}))
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.splitlines()[-1])
    assert set(got["a"]) <= {None, "timed out after 0.5 s"}, got
    assert got["b"] == ["complete"]
    assert got["threads"] and not got["deterministic"]          # the trainer's settings were restored
