"""A one-shot run killed with SIGKILL (no clean-up of any kind) resumes to the uninterrupted run's weights."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from nasl.study.oneshot_study import oneshot_search
from tests.conftest import ROOT
from tests.oneshot.loop_helpers import DIGITS, data, params_equal

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

# the child trains 3 epochs and SIGKILLs itself as soon as epoch 1's trial is recorded: the kill lands
# where it does in real life, after a checkpoint and a commit, with nothing flushed or closed by Python
CHILD = textwrap.dedent("""
    import os, signal, sys, torch
    sys.path.insert(0, {root!r})
    from nasl.study import oneshot_record
    from nasl.study.oneshot_study import oneshot_search
    from tests.oneshot.loop_helpers import DIGITS, data
    torch.set_num_threads(1)
    real = oneshot_record.Setup.record
    def record(self, rec):
        real(self, rec)
        if rec["epoch"] == 1:
            os.kill(os.getpid(), signal.SIGKILL)
    oneshot_record.Setup.record = record
    oneshot_search(DIGITS, {mode!r}, 3, {db!r}, options=dict(batch_size=32), data=data(n_train=128, n_val=32),
                   progress=False)
""")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["spos", "darts"])
def test_sigkill_after_an_epoch_then_resume_equals_the_whole_run(tmp_path, mode):
    torch.set_num_threads(1)
    whole = oneshot_search(DIGITS, mode, 3, tmp_path / "whole.db", options=dict(batch_size=32),
                           data=data(n_train=128, n_val=32), progress=False)
    db = str(tmp_path / "killed.db")
    code = CHILD.format(root=str(ROOT), mode=mode, db=db)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == -signal.SIGKILL, out.stderr[-2000:]
    again = oneshot_search(None, storage=db, resume=True, data=data(n_train=128, n_val=32), progress=False)
    assert [t.number for t in again.study.completed()] == [0, 1, 2]
    assert params_equal(whole.supernet, again.supernet)
    for p, q in zip(whole.supernet.arch_parameters(), again.supernet.arch_parameters()):
        assert torch.equal(p, q)
    assert whole.history == again.history
