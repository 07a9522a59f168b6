"""A trial that starts from its parent's weights: the lineage a searcher passes (Real et al. 2017).

A searcher that makes a child from a parent (:meth:`nasl.searchers.base.Searcher.child`) passes that
lineage to the trial (``TrialRequest.lineage``), and the training evaluator applies it here:
:func:`apply_lineage` loads the parent trial's saved weights (:func:`weights_path`) and applies the
transformation (a :mod:`nasl.morph` transformation by name, ``net2wider width``, a chain of them,
``net2wider width; net2deeper depth`` (:mod:`nasl.morph.chain`), or plain inheritance for a
``mutate``/``identity``; ``reset`` starts fresh). It imports no evaluator, so the trainer
(:mod:`nasl.study.training`) and the nearest-trial evaluator (:mod:`nasl.study.inheriting`) both use
it without importing each other back.
"""
from __future__ import annotations

import os

import torch

from nasl.ir.errors import NaslError


def weights_path(artifact_dir, trial_id: int) -> str:
    """Where :class:`TrainEvaluator` keeps a trial's trained ``state_dict``."""
    return os.path.join(os.fspath(artifact_dir), f"trial_{trial_id}.pt")


# the nasl.morph transformations a lineage may name: "net2wider width" calls net2wider(space, parent, state, "width")
MORPHS = ("net2wider", "net2deeper", "shrink", "remove_layer", "replicate_path", "split_path", "insert_node",
          "replace_identity")
# plain inheritance (every unchanged node keeps the parent's weights); "reset" inherits nothing
INHERITS = ("mutate", "identity", "crossover", "inherit")


def apply_lineage(space, model, request) -> dict:
    """Start ``model`` (the trial's compiled child) from its parent's weights, as the request's
    lineage says; returns the trial's ``parent_trial`` and ``inherited`` metrics."""
    lin = request.lineage
    number, transformation = lin["parent"], str(lin.get("transformation") or "inherit")
    kind, _, arg = transformation.partition(" ")
    if ";" in transformation:                        # a chain of steps (EAS): nasl.morph.chain checks each
        kind = "chain"
    if kind == "reset":                              # Real et al.'s "reset weights": train from scratch
        return {"parent_trial": number, "inherited": 0.0}
    if kind not in MORPHS + INHERITS + ("chain",):
        raise NaslError(f"trial {request.number}: unknown transformation '{kind}' ('{transformation}') from parent trial "
                        f"{number}; expected one of {', '.join(MORPHS + INHERITS + ('reset',))}")
    if not request.artifact_dir:
        # an in-memory study keeps no weights at all: its children train from scratch, as reported
        return {"parent_trial": number, "inherited": 0.0}
    path = weights_path(request.artifact_dir, lin["parent_id"])
    if not os.path.exists(path):
        raise NaslError(f"parent trial {number} has no saved weights ({path}); "
                        f"trial {request.number} cannot inherit from it")
    state = load_parent_weights(path, number)
    child = request.architecture()
    into = model.state_dict()
    if kind == "chain":
        from nasl.morph.chain import apply_chain
        m = apply_chain(space, lin["parent_arch"], state, transformation)
        if dict(m.arch) != dict(child):
            raise NaslError(f"trial {request.number}: '{transformation}' of parent trial {number} gives "
                            f"architecture {m.arch.id}, not the trial's {child.id}")
        model.load_state_dict(m.state_dict)
    elif kind in MORPHS:
        import nasl.morph
        arg = arg.strip()
        fn = getattr(nasl.morph, kind)
        valued = kind in ("net2wider", "net2deeper", "shrink", "remove_layer") and arg in child
        m = fn(space, lin["parent_arch"], state, arg, child[arg]) if valued else fn(space, lin["parent_arch"], state, arg)
        if dict(m.arch) != dict(child):
            raise NaslError(f"trial {request.number}: '{transformation}' of parent trial {number} gives "
                            f"architecture {m.arch.id}, not the trial's {child.id}")
        model.load_state_dict(m.state_dict)
    else:
        from nasl.morph import inherit
        m = inherit(space, lin["parent_arch"], state, child, into=into)   # the child is initialised once
        model.load_state_dict(m.state_dict)
    return {"parent_trial": number, "inherited": round(m.inherited, 6)}


def load_parent_weights(path: str, pid: int) -> dict:
    """The ``state_dict`` saved at ``path`` for parent trial ``pid``; a one-line NaslError if unreadable."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:       # a truncated or foreign file: the trial fails with this reason
        raise NaslError(f"the weights of parent trial {pid} cannot be read ({path}): {e}") from None
    if not isinstance(state, dict):
        raise NaslError(f"the weights of parent trial {pid} ({path}) are not a state_dict")
    return state
