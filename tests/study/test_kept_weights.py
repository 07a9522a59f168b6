"""A parent trained in this process is recalled, not read back (lineage.remember_weights)."""
import collections
import os
import time

import pytest
import torch

from nasl.study import lineage
from nasl.study.lineage import load_parent_weights, remember_weights


@pytest.fixture(autouse=True)
def own_store(monkeypatch):
    """Each test with its own store: other tests' trials (the suite runs in one process) are kept too."""
    monkeypatch.setattr(lineage, "_SAVED", collections.OrderedDict())
    monkeypatch.setattr(lineage, "_kept", [0])


def _state(v=1.0, n=4):
    return {"a.weight": torch.full((n,), v), "a.bias": torch.zeros(2)}


def _save(path, state):
    torch.save(state, path)
    remember_weights(path, state)


def test_recalled_weights_equal_the_file_and_are_copies(tmp_path, monkeypatch):
    path = str(tmp_path / "trial_0.pt")
    state = _state()
    _save(path, state)
    monkeypatch.setattr(torch, "load", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read the file")))
    got = load_parent_weights(path, 0)
    assert torch.equal(got["a.weight"], state["a.weight"])
    got["a.weight"].mul_(5)                         # a transformation may alter what it is given
    state["a.weight"].add_(1)                       # and the trainer's own tensors change nothing kept
    assert torch.equal(load_parent_weights(path, 0)["a.weight"], torch.ones(4))
    lineage._forget(os.path.abspath(path))


def test_a_replaced_file_is_read_again(tmp_path):
    path = str(tmp_path / "trial_1.pt")
    _save(path, _state(1.0))
    time.sleep(0.01)
    torch.save(_state(7.0, n=5), path)              # another process rewrote it: size and time differ
    assert torch.equal(load_parent_weights(path, 1)["a.weight"], torch.full((5,), 7.0))
    assert os.path.abspath(path) not in lineage._SAVED


def test_the_kept_bytes_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(lineage, "SAVED_BYTES", 3 * (4 * 4 + 2 * 4))      # room for three small states
    paths = [str(tmp_path / f"trial_{i}.pt") for i in range(5)]
    for p in paths:
        _save(p, _state())
    kept = [p for p in paths if os.path.abspath(p) in lineage._SAVED]
    assert kept == paths[2:] and lineage._kept[0] <= lineage.SAVED_BYTES
    big = str(tmp_path / "big.pt")
    _save(big, _state(n=1000))                      # larger than the bound: never kept
    assert os.path.abspath(big) not in lineage._SAVED
    for p in kept:
        lineage._forget(os.path.abspath(p))
    assert lineage._kept[0] == 0


def test_a_removed_file_is_an_error_not_a_recall(tmp_path):
    path = str(tmp_path / "trial_2.pt")
    _save(path, _state())
    os.unlink(path)
    try:
        load_parent_weights(path, 2)
    except Exception as e:
        assert "the weights of parent trial 2 cannot be read" in str(e)
    else:
        raise AssertionError("a removed file was recalled")
