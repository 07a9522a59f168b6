"""Benchmark: a transformation plus its weight copy, against compiling the child alone.

Issue 17: "The cost of a transformation plus weight copy, against compiling the child alone.
Target <= 1.2x: inheritance must not cost more than building."

What is timed (CPU time of this one-threaded process, so a loaded machine inflates it less;
the same architectures for every contestant, rounds interleaved,
the median of the rounds):

* **compile child**: ``nasl.compile(space, child)`` on a space loaded once.
* **inherit**: ``nasl.morph.inherit(space, parent, state, child)`` for a one-choice mutation of a
  digits parent: it realizes both graphs, compiles the child once for its fresh weights and
  copies the unchanged tensors. This is the target (weight inheritance for any mutation).
* **compile + inherit into it** (reported): what the study's inheriting evaluator does, a
  compile of the child and then ``inherit(..., into=model.state_dict())``.
* **net2wider** and **net2deeper** (reported): they also check the parent's weights against its
  architecture (a second compile) and derive the new tensors, so they are expected above 1.2x.

* **evaluator path** (issue 17's figure for studies): ``TrainEvaluator.build(request)`` of a
  request whose lineage is ``net2wider width``, ``net2deeper depth`` or ``mutate`` (load the
  parent's saved weights, transform, into the model it compiled once), against ``build`` of the
  same child without lineage (realize and compile alone). Reading the parent's file
  (``torch.load(weights_only=True)``) is timed apart: it costs about a compile by itself.
  The ``(kept)`` rows are the same builds when the parent was trained in this process, whose
  weights the trainer keeps (``lineage.remember_weights``): no file is read.

Run: ``python benchmarks/morph_cost.py [rounds]``.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import torch

import nasl
from nasl.morph import inherit, net2deeper, net2wider


def main(rounds: int = 15):
    torch.set_num_threads(1)
    space = nasl.load("nasl/spaces/digits.nas")
    parent = space.validate({"cell.edge[0->1]": "nor_conv_3x3", "cell.edge[0->2]": "nor_conv_1x1",
                             "cell.edge[1->2]": "nor_conv_3x3", "cell.edge[0->3]": "skip_connect",
                             "cell.edge[1->3]": "nor_conv_3x3", "cell.edge[2->3]": "nor_conv_1x1",
                             "width": 16, "depth": 2})
    state = nasl.compile(space, parent).state_dict()
    mutant = {**parent, "cell.edge[1->2]": "avg_pool_3x3"}
    wide, deep = {**parent, "width": 24}, {**parent, "depth": 3}
    import tempfile

    from nasl.study import lineage
    from nasl.study.lineage import load_parent_weights, remember_weights, weights_path
    from nasl.study.protocol import TrialRequest
    from nasl.study.training import TrainEvaluator
    folder = tempfile.mkdtemp()
    torch.save(state, weights_path(folder, 0))
    source = open("nasl/spaces/digits.nas").read()
    ev = TrainEvaluator("digits")

    def request(arch, transformation):
        lin = None if transformation is None else {"parent": 0, "parent_id": 0, "parent_arch": dict(parent),
                                                   "transformation": transformation}
        return TrialRequest(trial_id=1, number=1, arch=dict(arch), budget=None, seed=0, space_source=source,
                            space_file="nasl/spaces/digits.nas", artifact_dir=folder, lineage=lin)
    ev.build(request(mutant, None))                 # the space cache
    runs = {
        "compile child (mutant)": lambda: nasl.compile(space, mutant),
        "inherit (mutant)": lambda: inherit(space, parent, state, mutant),
        "compile + inherit into it": lambda: inherit(space, parent, state, mutant,
                                                     into=nasl.compile(space, mutant).state_dict()),
        "compile child (wider)": lambda: nasl.compile(space, wide),
        "net2wider": lambda: net2wider(space, parent, state, "width"),
        "compile child (deeper)": lambda: nasl.compile(space, deep),
        "net2deeper": lambda: net2deeper(space, parent, state, "depth"),
        "build (wider)": lambda: ev.build(request(wide, None)),
        "build + net2wider": lambda: ev.build(request(wide, "net2wider width")),
        "build (deeper)": lambda: ev.build(request(deep, None)),
        "build + net2deeper": lambda: ev.build(request(deep, "net2deeper depth")),
        "load parent weights": lambda: load_parent_weights(weights_path(folder, 0), 0),
        "build (mutant)": lambda: ev.build(request(mutant, None)),
        "build + inherit": lambda: ev.build(request(mutant, "mutate cell.edge[1->2]")),
        "build + net2wider (kept)": lambda: kept(lambda: ev.build(request(wide, "net2wider width"))),
        "build + net2deeper (kept)": lambda: kept(lambda: ev.build(request(deep, "net2deeper depth"))),
        "build + inherit (kept)": lambda: kept(lambda: ev.build(request(mutant, "mutate cell.edge[1->2]"))),
    }

    def kept(build):
        """The parent trained in this process: its weights are recalled, not read (lineage.remember_weights)."""
        remember_weights(weights_path(folder, 0), state)
        try:
            t = time.process_time()
            build()
            return time.process_time() - t
        finally:
            lineage._forget(os.path.abspath(weights_path(folder, 0)))
    times = {k: [] for k in runs}
    for f in runs.values():
        f()                                         # warm caches
    for r in range(rounds):
        for k in list(runs)[r % 2:] + list(runs)[:r % 2]:
            t = time.process_time()
            inner = runs[k]()
            times[k].append(inner if isinstance(inner, float) else time.process_time() - t)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:26s} {v:8.2f} ms")
    print(f"inherit / compile child    {med['inherit (mutant)'] / med['compile child (mutant)']:.2f}x  (target <= 1.2x)")
    print(f"compile+inherit / compile  {med['compile + inherit into it'] / med['compile child (mutant)']:.2f}x")
    print(f"net2wider / compile child  {med['net2wider'] / med['compile child (wider)']:.2f}x")
    print(f"net2deeper / compile child {med['net2deeper'] / med['compile child (deeper)']:.2f}x")
    for kind, alone in (("net2wider", "wider"), ("net2deeper", "deeper"), ("inherit", "mutant")):
        print(f"evaluator {kind:10s} / build {med['build + ' + kind] / med['build (' + alone + ')']:.2f}x  "
              f"(target <= 1.2x); without reading the parent's file "
              f"{(med['build + ' + kind] - med['load parent weights']) / med['build (' + alone + ')']:.2f}x; "
              f"parent trained in this process {med['build + ' + kind + ' (kept)'] / med['build (' + alone + ')']:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
