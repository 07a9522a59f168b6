"""A trial that starts from its parent's weights: the lineage a searcher passes (Real et al. 2017).

A searcher that makes a child from a parent (:meth:`nasl.searchers.base.Searcher.child`) passes that
lineage to the trial (``TrialRequest.lineage``), and the training evaluator applies it here:
:func:`apply_lineage` loads the parent trial's saved weights (:func:`weights_path`) and applies the
transformation (a chain of :mod:`nasl.morph` transformations, ``net2wider width; net2deeper depth``
(:mod:`nasl.morph.chain`), a single one, ``net2wider width``, being a chain of one; or plain
inheritance for a ``mutate``/``identity``; ``reset`` starts fresh). It imports no evaluator, so the trainer
(:mod:`nasl.study.training`) and the nearest-trial evaluator (:mod:`nasl.study.inheriting`) both use
it without importing each other back.
"""
from __future__ import annotations

import collections
import os

import torch

from nasl.ir.errors import NaslError


def weights_path(artifact_dir, trial_id: int) -> str:
    """Where :class:`TrainEvaluator` keeps a trial's trained ``state_dict``."""
    return os.path.join(os.fspath(artifact_dir), f"trial_{trial_id}.pt")


# plain inheritance (every unchanged node keeps the parent's weights); "reset" inherits nothing.
# Any other transformation is a chain of nasl.morph steps (nasl.morph.chain.STEPS), one or more.
INHERITS = ("mutate", "identity", "crossover", "inherit")


def apply_lineage(space, model, request, *, graph=None, input_shape=None, noise: float = 0.0) -> dict:
    """Start ``model`` (the trial's compiled child) from its parent's weights, as the request's
    lineage says; returns the trial's ``parent_trial`` and ``inherited`` metrics.

    ``graph`` is the child's realized graph that ``model`` was compiled from and ``input_shape``
    the shape it was compiled for (default: the model's own input): with them the child is
    realized and initialised once, for training and transformation alike (the evaluator's
    :meth:`~nasl.study.training.TrainEvaluator.build` passes both). ``noise`` is Net2Wider's
    symmetry-breaking noise (the evaluator's ``morph_noise``); 0 keeps the parent's function exactly.
    """
    lin = request.lineage
    number, transformation = lin["parent"], str(lin.get("transformation") or "inherit").strip()
    kind = transformation.partition(" ")[0]
    if kind == "reset":                              # Real et al.'s "reset weights": train from scratch
        return {"parent_trial": number, "inherited": 0.0}
    if kind not in INHERITS:
        from nasl.morph.chain import apply_chain, parse_chain
        try:
            parse_chain(transformation)              # refused before the parent's weights are read
        except NaslError as e:
            raise NaslError(f"trial {request.number}: {e.message}, from parent trial {number} (a lineage may "
                            f"also be {', '.join(INHERITS + ('reset',))})") from None
    if not request.artifact_dir:
        # an in-memory study keeps no weights at all: its children train from scratch, as reported
        return {"parent_trial": number, "inherited": 0.0}
    path = weights_path(request.artifact_dir, lin["parent_id"])
    if not os.path.exists(path):
        raise NaslError(f"parent trial {number} has no saved weights ({path}); "
                        f"trial {request.number} cannot inherit from it")
    state = load_parent_weights(path, number)
    child = request.architecture()
    if input_shape is None:
        shapes = list(getattr(model, "input_shapes", {}).values())
        input_shape = tuple(shapes[0]) if len(shapes) == 1 else None
    into = tensors_of(model)                         # the child is initialised once: its tensors are the model's
    if kind in INHERITS:
        from nasl.morph import inherit
        m = inherit(space, lin["parent_arch"], state, child, input_shape=input_shape, into=into, child_graph=graph)
    else:
        from nasl.morph.graphs import Built
        built = Built(child, space.realize(child) if graph is None else graph, into)
        try:
            # allow_inexact: the searcher chose this child; one replace_identity cannot make the identity
            # (a ReLU on a signed input) is trained from near its parent, not failed (docs/decisions.md)
            m = apply_chain(space, lin["parent_arch"], state, transformation, target=child, input_shape=input_shape,
                            built=built, noise=noise, seed=request.seed, allow_inexact=True)
        except NaslError as e:
            if "not the expected" not in e.message:
                raise
            raise NaslError(f"trial {request.number}: '{transformation}' of parent trial {number} does not give "
                            f"the trial's architecture {child.id} ({e.message})") from None
    load_into(model, into, m.state_dict)
    return {"parent_trial": number, "inherited": round(m.inherited, 6)}


def tensors_of(model) -> dict:
    """``model.state_dict()``: the same keys, in the same order, of the same (detached) tensors, read
    from each module's parameters and persistent buffers, which costs about half as much (a compiled
    depth-3 digits model, 85 tensors: 0.28 against 0.53 ms). A module that customises its state_dict (hooks, extra
    state, its own ``_save_to_state_dict``) gets ``state_dict()`` itself."""
    out: dict = {}
    try:
        _gather(model, "", out)
    except _Custom:
        return model.state_dict()
    return out


class _Custom(Exception):
    """A module whose state_dict is not its parameters and persistent buffers."""


_PLAIN: dict = {}          # module type -> whether its state_dict is the default one


def _gather(mod, pre: str, out: dict) -> None:
    # state_dict's own order: a module's parameters, its persistent buffers, then its children, depth first
    kind = type(mod)
    plain = _PLAIN.get(kind)
    if plain is None:
        from torch import nn
        plain = _PLAIN[kind] = (kind._save_to_state_dict is nn.Module._save_to_state_dict
                                and kind.get_extra_state is nn.Module.get_extra_state)
    if not plain or mod._state_dict_hooks or mod._state_dict_pre_hooks:
        raise _Custom
    for k, p in mod._parameters.items():
        if p is not None:
            out[pre + k] = p.detach()
    if mod._buffers:
        skip = mod._non_persistent_buffers_set
        for k, b in mod._buffers.items():
            if b is not None and k not in skip:
                out[pre + k] = b.detach()
    for name, child in mod._modules.items():
        if child is not None:
            _gather(child, f"{pre}{name}.", out)


def load_into(model, into: dict, state: dict) -> None:
    """``model.load_state_dict(state)``, copying only the tensors that are not already the model's.

    ``into`` is ``model.state_dict()`` (its tensors share the parameters' storage) and the
    transformation started from it and wrote into its tensors, so they are in place already;
    ``load_state_dict`` walks every submodule and copies every tensor again, which cost about a
    compile (cProfile, BENCHMARKS.md section 54). A tensor that is not the model's is copied."""
    if state.keys() != into.keys():
        model.load_state_dict(state)                  # says which key is missing or unexpected
        return
    with torch.no_grad():
        for k, v in state.items():
            t = into[k]
            if v is not t:
                if v.shape != t.shape:
                    model.load_state_dict(state)      # says which shape differs
                    return
                t.copy_(v)


# The weights trials saved in this process, so that a child trained in the same process as its
# parent (the inline runner, or the same pool worker) does not read them back: torch.load with
# weights_only=True costs about as much as compiling the child. A file read once is kept too, for
# the parent's next child in this process. An entry is served only while the file still has the
# size and modification time it had when kept; other processes read the file.
#
# The kept tensors are lent, not copied, to the transformation: every nasl.morph transformation
# only reads its parent's tensors (it writes the child's own, tests/study/test_kept_weights.py).
_SAVED: collections.OrderedDict = collections.OrderedDict()       # path -> (stamp, state, bytes)
SAVED_BYTES = 64 << 20           # bound on the tensors kept; the oldest are dropped first
_kept = [0]                      # the bytes _SAVED holds


def _stamp(path: str):
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def remember_weights(path: str, state: dict, *, copy: bool = True, stamp=None) -> None:
    """Keep the ``state_dict`` saved at ``path`` for :func:`load_parent_weights`: a copy of it
    (the trainer's tensors are its model's), or, ``copy=False``, the tensors themselves (that no
    one else holds: a file just read). ``stamp`` is the file's, taken before it was read."""
    size = sum(t.numel() * t.element_size() for t in state.values() if isinstance(t, torch.Tensor))
    path = os.path.abspath(path)
    _forget(path)
    if size > SAVED_BYTES:
        return
    try:
        now = _stamp(path)
    except OSError:
        return
    if stamp is not None and stamp != now:        # rewritten while it was read: the file is the truth
        return
    with torch.no_grad():
        kept = {k: (v.detach().clone() if copy else v.detach()) if isinstance(v, torch.Tensor) else v
                for k, v in state.items()}
    _SAVED[path] = (now, kept, size)
    _kept[0] += size
    while _kept[0] > SAVED_BYTES:
        _kept[0] -= _SAVED.popitem(last=False)[1][2]


def _forget(path: str) -> None:
    entry = _SAVED.pop(path, None)
    if entry is not None:
        _kept[0] -= entry[2]


def _recalled(path: str):
    entry = _SAVED.get(os.path.abspath(path))
    if entry is None:
        return None
    try:
        fresh = _stamp(path) == entry[0]
    except OSError:
        fresh = False
    if not fresh:                       # replaced or removed since: the file is the truth
        _forget(os.path.abspath(path))
        return None
    _SAVED.move_to_end(os.path.abspath(path))         # a parent picked again is kept the longest
    return dict(entry[1])               # its own mapping; the tensors are lent (read only, see above)


def load_parent_weights(path: str, pid: int) -> dict:
    """The ``state_dict`` saved at ``path`` for parent trial ``pid``; a one-line NaslError if unreadable.

    The tensors may be those kept in this process (:func:`remember_weights`): read them, never
    write them (a transformation writes the child's own tensors)."""
    state = _recalled(path)
    if state is not None:
        return state
    try:
        stamp = _stamp(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:       # a truncated or foreign file: the trial fails with this reason
        raise NaslError(f"the weights of parent trial {pid} cannot be read ({path}): {e}") from None
    if not isinstance(state, dict):
        raise NaslError(f"the weights of parent trial {pid} ({path}) are not a state_dict")
    remember_weights(path, state, copy=False, stamp=stamp)
    return dict(state)
