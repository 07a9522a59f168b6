"""Trials that start from an earlier trial's weights (Real et al. 2017's weight inheritance).

A searcher that makes a child from a parent (:meth:`nasl.searchers.base.Searcher.child`) passes
that lineage to the trial (``TrialRequest.lineage``), and the ``digits`` evaluator applies it:
:func:`apply_lineage` loads the parent trial's saved weights and applies the transformation
(a :mod:`nasl.morph` transformation by name, ``net2wider width``, or plain inheritance for a
``mutate``/``identity``; ``reset`` starts fresh). A parent without saved weights, a
transformation that does not give the trial's architecture, or weights of another
architecture fail the trial with a one-line reason.

For searchers that pass no lineage, ``inherit: true`` looks for one:
:class:`InheritingEvaluator` is the ``digits`` evaluator (:class:`~nasl.study.training.TrainEvaluator`)
with one change: before training, a trial looks in the study's artifact folder for the saved
trial whose architecture is nearest to its own (fewest differing choices, at most
``max_distance``; the latest on a tie) and starts from its weights through
:func:`nasl.morph.inherit`: every layer that is unchanged keeps the parent's tensors, the rest
start fresh. With an evolution searcher, whose children are one-choice mutations of trials that
finished, the nearest saved trial is the parent. Each trial saves its architecture beside its
weights (``trial_<id>.json``) and reports ``parent_trial`` (the parent's trial number; -1: none) and ``inherited`` (the
fraction of its weights that came from the parent) among its metrics.

``nasl.search(..., evaluator="digits", evaluator_options={"inherit": True})`` selects it.
"""
from __future__ import annotations

import glob
import json
import os
import re

import torch

from nasl.ir.errors import NaslError
from nasl.study.training import TrainEvaluator, weights_path

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
    if kind == "reset":                              # Real et al.'s "reset weights": train from scratch
        return {"parent_trial": number, "inherited": 0.0}
    if kind not in MORPHS + INHERITS:
        raise NaslError(f"trial {request.number}: unknown transformation '{kind}' ('{transformation}') from parent trial "
                        f"{number}; expected one of {', '.join(MORPHS + INHERITS + ('reset',))}")
    if not request.artifact_dir:
        # an in-memory study keeps no weights at all: its children train from scratch, as reported
        return {"parent_trial": number, "inherited": 0.0}
    path = weights_path(request.artifact_dir, lin["parent_id"])
    if not os.path.exists(path):
        raise NaslError(f"parent trial {number} has no saved weights ({path}); "
                        f"trial {request.number} cannot inherit from it")
    state = _load(path, number)
    child = request.architecture()
    into = model.state_dict()
    if kind in MORPHS:
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


class InheritingEvaluator(TrainEvaluator):
    """TrainEvaluator whose trials inherit the weights of the nearest saved earlier trial."""

    def __init__(self, *args, max_distance: int = 2, **kw):
        super().__init__(*args, **kw)
        if isinstance(max_distance, bool) or not isinstance(max_distance, int) or max_distance < 0:
            raise ValueError(f"max_distance must be an int >= 0, not {max_distance!r}")
        self.max_distance = max_distance
        self._lineage: dict = {}

    def build(self, request):
        space, model = super().build(request)
        if getattr(request, "lineage", None):
            return space, model                   # the searcher named the parent (apply_lineage ran)
        parent = self.parent_of(request)
        info = {"parent_trial": -1, "inherited": 0.0}
        if parent is not None:
            from nasl.morph import inherit
            pid, arch, number = parent
            state = _load(weights_path(request.artifact_dir, pid), number)
            # into the model just built: the child is initialised once, not twice
            m = inherit(space, arch, state, request.architecture(), into=model.state_dict())
            model.load_state_dict(m.state_dict)
            info = {"parent_trial": number, "inherited": round(m.inherited, 6)}
        self._lineage[request.trial_id] = info
        return space, model

    def __call__(self, request) -> dict:
        metrics = dict(super().__call__(request))
        for k, v in self._lineage.pop(request.trial_id, {"parent_trial": -1, "inherited": 0.0}).items():
            metrics.setdefault(k, v)
        if request.artifact_dir:
            path = os.path.join(request.artifact_dir, f"trial_{request.trial_id}.json")
            with open(path + ".tmp", "w") as f:
                json.dump({"number": request.number, "arch": dict(request.arch)}, f, sort_keys=True)
            os.replace(path + ".tmp", path)
        return metrics

    def parent_of(self, request):
        """``(trial id, architecture, trial number)`` of the nearest saved earlier trial, or None."""
        if not request.artifact_dir:
            return None
        me = dict(request.arch)
        best = None
        for path in glob.glob(os.path.join(request.artifact_dir, "trial_*.json")):
            m = re.search(r"trial_(\d+)\.json$", path)
            pid = int(m.group(1)) if m else -1
            if pid < 0 or pid == request.trial_id or not os.path.exists(weights_path(request.artifact_dir, pid)):
                continue
            try:
                with open(path) as f:
                    saved = json.load(f)
                number, arch = int(saved["number"]), dict(saved["arch"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            keys = set(me) | set(arch)
            dist = sum(me.get(k) != arch.get(k) for k in keys)
            if dist <= self.max_distance and (best is None or (dist, -pid) < (best[0], -best[1])):
                best = (dist, pid, arch, number)
        return None if best is None else (best[1], best[2], best[3])

    def __repr__(self) -> str:
        return super().__repr__().replace("TrainEvaluator(", "InheritingEvaluator(", 1)


def _load(path: str, pid: int) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:       # a truncated or foreign file: the trial fails with this reason
        raise NaslError(f"the weights of parent trial {pid} cannot be read ({path}): {e}") from None
    if not isinstance(state, dict):
        raise NaslError(f"the weights of parent trial {pid} ({path}) are not a state_dict")
    return state
