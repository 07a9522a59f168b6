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


def test_recalled_weights_equal_the_file_copied_once_at_save_then_lent(tmp_path, monkeypatch):
    path = str(tmp_path / "trial_0.pt")
    state = _state()
    _save(path, state)
    monkeypatch.setattr(torch, "load", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read the file")))
    got = load_parent_weights(path, 0)
    assert torch.equal(got["a.weight"], state["a.weight"])
    state["a.weight"].add_(1)                       # the trainer's own tensors change nothing kept
    again = load_parent_weights(path, 0)
    assert torch.equal(again["a.weight"], torch.ones(4))
    # lent, not cloned per child (the one copy is remember_weights'): transformations only read them
    assert again["a.weight"].data_ptr() == got["a.weight"].data_ptr() != state["a.weight"].data_ptr()
    got.pop("a.weight")                             # each caller has its own mapping
    assert set(load_parent_weights(path, 0)) == {"a.weight", "a.bias"}
    lineage._forget(os.path.abspath(path))


def test_a_file_read_once_is_kept_for_the_next_child(tmp_path, monkeypatch):
    path = str(tmp_path / "trial_3.pt")
    torch.save(_state(3.0), path)                   # saved by another process: not kept yet
    reads = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: reads.append(1) or real(*a, **k))
    first = load_parent_weights(path, 3)
    second = load_parent_weights(path, 3)
    assert len(reads) == 1 and torch.equal(second["a.weight"], torch.full((4,), 3.0))
    assert second["a.weight"].data_ptr() == first["a.weight"].data_ptr()
    time.sleep(0.01)
    torch.save(_state(4.0, n=6), path)              # rewritten: read again
    assert torch.equal(load_parent_weights(path, 3)["a.weight"], torch.full((6,), 4.0)) and len(reads) == 2
    lineage._forget(os.path.abspath(path))


def test_a_replaced_file_is_read_again(tmp_path):
    path = str(tmp_path / "trial_1.pt")
    _save(path, _state(1.0))
    time.sleep(0.01)
    torch.save(_state(7.0, n=5), path)              # another process rewrote it: size and time differ
    assert torch.equal(load_parent_weights(path, 1)["a.weight"], torch.full((5,), 7.0))
    stamp, kept, _ = lineage._SAVED[os.path.abspath(path)]        # what is kept now is the file just read
    assert stamp == lineage._stamp(path) and torch.equal(kept["a.weight"], torch.full((5,), 7.0))
    lineage._forget(os.path.abspath(path))


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
