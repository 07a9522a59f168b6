"""Checkpoints: a stopped loop resumes bit for bit; bad checkpoints are one-line errors that change nothing."""
from __future__ import annotations

import os

import pytest
import torch

from nasl.ir.errors import NaslError
from nasl.oneshot import checkpoint
from nasl.oneshot.checkpoint import CheckpointError
from nasl.oneshot.loops import make_trainer
from tests.oneshot.loop_helpers import data, params_equal, real_supernets, supernet

OPTS = dict(batch_size=32, eval_archs=2, controller_steps=4)


def _trainer(mode, epochs=3, **kw):
    if mode == "bank":
        import nasl
        from tests.oneshot.loop_helpers import space
        torch.manual_seed(0)
        sn = nasl.compile_supernet(space(), "bank")
    else:
        sn = supernet(mode, seed=0, **kw)
    controller = None
    if mode == "enas":
        from nasl.searchers import create
        controller = create("reinforce", sn.space.spec, seed=0, dedup=False, batch_size=2)
    torch.manual_seed(0)
    options = dict(OPTS, populate=3) if mode == "bank" else OPTS
    return make_trainer(sn, data(n_train=128, n_val=32), epochs=epochs, options=options, controller=controller)


@pytest.mark.parametrize("mode", ["darts", "gdas", "spos", "enas", "oneshot", "bank"])
def test_resume_after_epoch_one_is_bit_exact(mode, tmp_path):
    whole = _trainer(mode)
    whole.run()
    path = tmp_path / "sn.ckpt"
    first = _trainer(mode)
    first.train_epoch()
    checkpoint.save(path, first.state_dict(), first.sn)
    torch.manual_seed(123)                  # the process that resumes has other RNG states: the checkpoint's win
    torch.randn(5)
    again = _trainer(mode)
    again.load_state_dict(checkpoint.load(path, again.sn))
    again.run()
    assert params_equal(whole.sn, again.sn)
    for p, q in zip(whole.sn.arch_parameters(), again.sn.arch_parameters()):
        assert torch.equal(p, q)
    assert whole.history == again.history
    if mode == "enas":
        assert whole.controller.state_dict() == again.controller.state_dict()


def test_checkpoint_is_atomic_and_weights_only(tmp_path, monkeypatch):
    t = _trainer("darts", epochs=1)
    path = tmp_path / "sn.ckpt"
    checkpoint.save(path, t.state_dict(), t.sn)
    good = path.read_bytes()
    # a save that fails half-way leaves the old file and no temporary one
    monkeypatch.setattr(torch, "save", lambda obj, f: (f.write(b"half"), (_ for _ in ()).throw(OSError(28, "No space"))))
    with pytest.raises(CheckpointError, match="cannot write the checkpoint"):
        checkpoint.save(path, t.state_dict(), t.sn)
    monkeypatch.undo()
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["sn.ckpt"]
    # a checkpoint that would run code on load is refused by weights_only
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))
    evil = tmp_path / "evil.ckpt"
    torch.save({"format": checkpoint.FORMAT, "x": Evil()}, evil, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="cannot be read"):
        checkpoint.read(evil)
    assert not (tmp_path / "pwned").exists()


def test_bad_checkpoints_are_one_line_errors(tmp_path):
    t = _trainer("darts", epochs=1)
    path = tmp_path / "sn.ckpt"
    checkpoint.save(path, t.state_dict(), t.sn)
    bad = {
        "missing.ckpt": None,
        "garbage.ckpt": b"not a checkpoint at all",
        "truncated.ckpt": path.read_bytes()[:200],
    }
    for name, content in bad.items():
        p = tmp_path / name
        if content is not None:
            p.write_bytes(content)
        with pytest.raises(CheckpointError) as e:
            checkpoint.load(p, t.sn)
        assert "\n" not in str(e.value).strip()
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="not a nasl supernet checkpoint"):
        checkpoint.load(other, t.sn)
    with pytest.raises(CheckpointError, match="is a 'darts' supernet, not 'spos'; resume it with mode 'darts'"):
        checkpoint.load(path, _trainer("spos", epochs=1).sn)
    # another space: digits with other widths
    import nasl
    from tests.oneshot.fake_supernet import FakeSupernet
    from tests.oneshot.loop_helpers import DIGITS
    other_space = nasl.loads(open(DIGITS).read().replace("choice(8, 16, 24)", "choice(8, 16)"))
    with pytest.raises(CheckpointError, match="another space"):
        checkpoint.load(path, FakeSupernet(other_space, "darts", max_depth=1))
    # the same space, other supernet options: the weights do not fit, and nothing is loaded
    other = _trainer("darts", epochs=1, **({"affine": False} if real_supernets() else {"max_depth": 2}))
    before = {k: v.clone() for k, v in other.sn.state_dict().items()}
    with pytest.raises(NaslError, match="does not fit this supernet"):
        other.load_state_dict(checkpoint.load(path, other.sn))
    assert all(torch.equal(before[k], v) for k, v in other.sn.state_dict().items())
    state = checkpoint.read(path)
    state["version"] = 99
    torch.save(state, tmp_path / "new.ckpt")
    with pytest.raises(CheckpointError, match="version 99"):
        checkpoint.read(tmp_path / "new.ckpt")


# ---------------------------------------------------------------------- one format for runs and supernet files
def _legacy_trainer_file(t, path):
    """A training checkpoint as nasl wrote it before the formats were one (format version 1)."""
    from nasl.oneshot.saving import _legacy_trainer_fingerprint
    state = dict(t.state_dict(), format="nasl-oneshot-checkpoint", version=1,
                 space=_legacy_trainer_fingerprint(t.sn.space), supernet_options="{}")
    torch.save(state, path)
    return path


def test_a_run_checkpoint_is_a_supernet_file(tmp_path):
    import nasl
    from nasl.oneshot.saving import load_supernet, read
    t = _trainer("bank", epochs=1)
    t.train_epoch()
    path = checkpoint.save(tmp_path / "run.ckpt", t.state_dict(), t.sn)
    data = read(path)
    assert data["format"] == "nasl-supernet" and data["version"] == 2 and "trainer" in data
    assert "supernet" not in data["trainer"] and "model" not in data["trainer"]    # the weights once, as "state"
    sn = load_supernet(path, t.sn.space)
    assert set(sn.state_dict()) == set(t.sn.state_dict())
    assert all(torch.equal(v, t.sn.state_dict()[k]) for k, v in sn.state_dict().items())
    # and a supernet file (sn.save) is not something to resume
    plain = t.sn.save(tmp_path / "sn.pt")
    assert "trainer" not in read(plain)
    with pytest.raises(CheckpointError, match="nothing to resume"):
        checkpoint.load(plain, t.sn)
    assert isinstance(nasl.oneshot.load_supernet(plain, t.sn.space), type(t.sn))


def test_checkpoints_of_the_old_formats_still_load(tmp_path):
    from nasl.oneshot.saving import load_supernet
    whole = _trainer("spos")
    whole.run()
    first = _trainer("spos")
    first.train_epoch()
    old = _legacy_trainer_file(first, tmp_path / "old.ckpt")
    again = _trainer("spos")
    again.load_state_dict(checkpoint.load(old, again.sn))        # an old run resumes bit for bit
    again.run()
    assert params_equal(whole.sn, again.sn) and whole.history == again.history
    with pytest.raises(CheckpointError, match="another space"):
        import nasl
        from tests.oneshot.fake_supernet import FakeSupernet
        from tests.oneshot.loop_helpers import DIGITS
        other = nasl.loads(open(DIGITS).read().replace("choice(8, 16, 24)", "choice(8, 16)"))
        checkpoint.load(old, FakeSupernet(other, "spos", max_depth=1))
    if real_supernets():
        sn = load_supernet(old, first.sn.space)
        assert all(torch.equal(v, first.sn.state_dict()[k]) for k, v in sn.state_dict().items())
        # a version-1 sn.save file
        v1 = tmp_path / "v1.pt"
        torch.save({"format": "nasl-supernet", "version": 1, "mode": "spos", "space": checkpoint.fingerprint(first.sn),
                    "options": {}, "state": first.sn.state_dict()}, v1)
        assert all(torch.equal(v, first.sn.state_dict()[k]) for k, v in load_supernet(v1, first.sn.space).state_dict().items())
