"""One-shot runs as studies: epochs as trials, stop and resume bit for bit, bad checkpoints, the command line."""
from __future__ import annotations

import json
import os
import sqlite3

import pytest
import torch

from nasl.ir.errors import NaslError
from nasl.study.oneshot_study import final_trial, oneshot_search
from tests.oneshot.loop_helpers import DIGITS, data, params_equal, real_supernets

SMALL = dict(batch_size=32)


@pytest.fixture(autouse=True)
def modes(monkeypatch):
    """The test's fake digits supernet for the modes the real one does not have yet; one thread."""
    from nasl.oneshot import MODES
    torch.set_num_threads(1)
    if not real_supernets():
        for mode in ("darts", "gdas", "spos", "enas"):
            monkeypatch.setitem(MODES, mode, "tests.oneshot.fake_supernet:make")
    return MODES


def _sn_options():
    return {} if real_supernets() else {"max_depth": 1}


def _run(path, epochs=3, mode="darts", **kw):
    return oneshot_search(DIGITS, mode, epochs, path, options=SMALL, supernet_options=_sn_options(),
                          data=data(n_train=128, n_val=32), progress=False, **kw)


def test_epochs_are_trials_with_metrics_arch_and_probs(tmp_path):
    r = _run(tmp_path / "a.db", epochs=2)
    study = r.study
    assert study.config["searcher"] == "oneshot:darts" and study.config["budget"] == 2
    trials = study.completed()
    assert [t.number for t in trials] == [0, 1]
    assert [t.arch.to_json() for t in trials] == [h["arch"] for h in r.history]
    assert set(trials[0].metrics) >= {"val_accuracy", "train_loss", "train_accuracy", "lr"}
    assert r.arch == trials[-1].arch == final_trial(study).arch
    rows = sqlite3.connect(tmp_path / "a.db").execute("SELECT epoch, alphas, derived FROM oneshot_epochs").fetchall()
    assert [e for e, _, _ in rows] == [0, 1] and rows[1][2] == trials[1].arch.to_json()
    probs = json.loads(rows[1][1])
    assert set(probs) == set(r.supernet.alpha)
    assert all(abs(sum(d.values()) - 1) < 1e-6 for d in probs.values())
    from nasl.dashboard.data import StudyData
    shown = StudyData(str(tmp_path / "a.db")).oneshot()
    assert len(shown["epochs"]) == 2
    assert os.path.exists(tmp_path / "a.db.ckpt") and os.path.exists(tmp_path / "a-supernet.pt")
    # the retraining evaluator is the digits one, with a test set the search never saw
    assert study.config["evaluator"]["spec"] == "digits"
    assert study.config["evaluator"]["options"]["test_fraction"] == 0.2
    assert study.config["searcher_options"]["supernet_options"]["input_shape"] == [1, 8, 8]


@pytest.mark.parametrize("mode", ["darts", "spos"])
def test_stop_after_epoch_one_then_resume_is_bit_exact(tmp_path, mode):
    whole = _run(tmp_path / "whole.db", mode=mode)
    part = _run(tmp_path / "part.db", mode=mode, stop_after=1)
    assert len(part.history) == 1 and part.study.counts()["complete"] == 1
    torch.manual_seed(99)               # a new process's RNG: the checkpoint's states win
    again = oneshot_search(None, storage=tmp_path / "part.db", resume=True, data=data(n_train=128, n_val=32),
                           progress=False)
    assert params_equal(whole.supernet, again.supernet)
    for p, q in zip(whole.supernet.arch_parameters(), again.supernet.arch_parameters()):
        assert torch.equal(p, q)
    assert whole.history == again.history
    assert [t.metrics for t in whole.study.completed()] == [t.metrics for t in again.study.completed()]


def test_a_kill_between_checkpoint_and_record_is_caught_up(tmp_path, monkeypatch):
    from nasl.study import oneshot_record
    real = oneshot_record.Setup.record
    calls = []

    def record_then_die(self, record):
        calls.append(record["epoch"])
        if record["epoch"] == 1:
            raise KeyboardInterrupt            # the checkpoint of epoch 1 is written, its trial is not
        return real(self, record)
    monkeypatch.setattr(oneshot_record.Setup, "record", record_then_die)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "k.db")
    monkeypatch.setattr(oneshot_record.Setup, "record", real)
    again = oneshot_search(None, storage=tmp_path / "k.db", resume=True, data=data(n_train=128, n_val=32),
                           progress=False)
    assert [t.number for t in again.study.completed()] == [0, 1, 2]


def test_bad_checkpoints_and_resumes_change_nothing(tmp_path):
    path = tmp_path / "b.db"
    _run(path, stop_after=1).study.close()
    ckpt = tmp_path / "b.db.ckpt"

    def content(p):
        # The study file is compared by what it holds, read through a read-only connection: its bytes
        # also change when SQLite moves committed pages from the write-ahead log into the main file,
        # which a connection's close does whenever the garbage collector gets to it.
        if p == path:
            con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
            try:
                return "\n".join(con.iterdump())
            finally:
                con.close()
        return p.read_bytes()
    files = {p: content(p) for p in (path, ckpt)}

    def refused(match, **kw):
        with pytest.raises(NaslError, match=match) as e:
            oneshot_search(storage=path, resume=True, progress=False, data=data(n_train=128, n_val=32), **kw)
        assert "\n" not in e.value.message
        assert {p: content(p) for p in files} == files
    refused("mode 'spos' differs", mode="spos")
    refused("epochs 5 differs", epochs=5)
    ckpt.write_bytes(b"\x00garbage")
    files[ckpt] = content(ckpt)
    refused("b.db.ckpt. cannot be read")
    # a checkpoint of another mode's run, copied over this one's
    _run(tmp_path / "s.db", mode="spos", stop_after=1)
    ckpt.write_bytes((tmp_path / "s.db.ckpt").read_bytes())
    files[ckpt] = content(ckpt)
    refused("is a 'spos' supernet, not 'darts'")
    os.remove(ckpt)
    del files[ckpt]
    refused("checkpoint .* is missing")
    with pytest.raises(NaslError, match="already holds a study"):
        _run(path)
    with pytest.raises(NaslError, match="unknown one-shot mode 'dart'"):
        _run(tmp_path / "new.db", mode="dart")
    assert not os.path.exists(tmp_path / "new.db")
    with pytest.raises(NaslError, match="no option 'lrr'"):
        oneshot_search(DIGITS, "darts", 1, tmp_path / "new.db", options={"lrr": 1})
    assert not os.path.exists(tmp_path / "new.db")


def test_the_command_line_trains_prints_exports_and_resumes(tmp_path, monkeypatch, capsys):
    from nasl.cli import main
    monkeypatch.chdir(tmp_path)
    opts = [f"--supernet-option={k}={v}" for k, v in _sn_options().items()]
    assert main(["search", DIGITS, "--oneshot", "darts", "--epochs", "1", "--study", "c.db", "--no-progress",
                 "-O", "batch_size=256", *opts]) == 0
    out = capsys.readouterr().out
    assert "derived architecture: {" in out and "nasl train c.db --trial 0" in out
    assert os.path.exists("c-derived.pt") and os.path.exists("c-supernet.pt")
    # resuming a finished run trains nothing more and says so again
    assert main(["search", "--study", "c.db", "--resume", "--no-progress"]) == 0
    assert "1 epochs recorded" in capsys.readouterr().out
    assert main(["search", "--oneshot", "darts", "--budget", "3", "--study", "d.db"]) == 1
    assert "--budget does not apply to a one-shot run" in capsys.readouterr().err
    assert main(["search", "--epochs", "3", "--study", "d.db"]) == 1
    assert main(["search", "--supernet", "nowhere.pt", "--study", "d.db"]) == 1
    assert "no supernet checkpoint at 'nowhere.pt'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_trained_bank_supernet_is_searched_with_supernet(tmp_path, monkeypatch, capsys):
    """--oneshot bank trains a weight bank; --supernet searches it with an ordinary study (SupernetEvaluator)."""
    from nasl.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(["search", DIGITS, "--oneshot", "bank", "--epochs", "1", "--study", "bank.db", "--no-progress",
                 "-O", "batch_size=256", "-O", "populate=2", "-O", "eval_archs=2"]) == 0
    assert os.path.exists("bank-supernet.pt")
    capsys.readouterr()
    assert main(["search", DIGITS, "--supernet", "bank-supernet.pt", "--searcher", "random", "--budget", "3",
                 "--study", "re.db", "--no-progress"]) == 0
    from nasl.study.study import Study
    study = Study.load("re.db")
    assert study.config["evaluator"]["spec"] == "supernet:bank-supernet.pt"
    assert study.counts()["complete"] == 3
