"""Trials that start from an earlier trial's weights (Real et al. 2017's weight inheritance).

A searcher that makes a child from a parent (:meth:`nasl.searchers.base.Searcher.child`) passes
that lineage to the trial (``TrialRequest.lineage``), and the ``digits`` evaluator applies it:
:func:`nasl.study.lineage.apply_lineage` loads the parent trial's saved weights and applies the transformation
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

from nasl.study.lineage import load_into, load_parent_weights, tensors_of, weights_path
from nasl.study.training import TrainEvaluator

class InheritingEvaluator(TrainEvaluator):
    """TrainEvaluator whose trials inherit the weights of the nearest saved earlier trial."""

    def __init__(self, *args, max_distance: int = 2, **kw):
        super().__init__(*args, **kw)
        if isinstance(max_distance, bool) or not isinstance(max_distance, int) or max_distance < 0:
            raise ValueError(f"max_distance must be an int >= 0, not {max_distance!r}")
        self.max_distance = max_distance
        self._lineage: dict = {}

    def start_from_parent(self, space, model, request, graph, shape) -> None:
        super().start_from_parent(space, model, request, graph, shape)
        if getattr(request, "lineage", None):
            return                                # the searcher named the parent (apply_lineage ran)
        parent = self.parent_of(request)
        info = {"parent_trial": -1, "inherited": 0.0}
        if parent is not None:
            from nasl.morph import inherit
            pid, arch, number = parent
            state = load_parent_weights(weights_path(request.artifact_dir, pid), number)
            # the lineage path: the graph the model was compiled from, its tensors written in place
            into = tensors_of(model)
            m = inherit(space, arch, state, request.architecture(), input_shape=shape, into=into, child_graph=graph)
            load_into(model, into, m.state_dict)
            info = {"parent_trial": number, "inherited": round(m.inherited, 6)}
        self._lineage[request.trial_id] = info

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
