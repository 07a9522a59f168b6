"""Benchmark: a transformation plus its weight copy, against compiling the child alone.

Issue 17: "The cost of a transformation plus weight copy, against compiling the child alone.
Target <= 1.2x: inheritance must not cost more than building."

What is timed (CPU time of this one-threaded process, so a loaded machine inflates it less;
the same architectures for every contestant, rounds interleaved,
the median of the rounds):

* **compile child**: ``nasl.compile(space, child)`` on a space loaded once.
* **inherit**: ``nasl.morph.inherit(space, parent, state, child)`` for a one-choice mutation of a
  digits parent: it realizes the child, makes its fresh weights without compiling it and copies the
  unchanged tensors. This is the target (weight inheritance for any mutation).
* **compile + inherit into it** (reported): a compile of the child and then
  ``inherit(..., into=model.state_dict())``.
* **net2wider** and **net2deeper** (reported): they also check the parent's weights against its
  architecture and derive the new tensors.

* **evaluator path** (reported, not a target: docs/decisions.md, session 15): ``TrainEvaluator.build(request)`` of a
  request whose lineage is ``net2wider width``, ``net2deeper depth`` or ``mutate`` (the parent's
  weights, the transformation, into the model it compiled once), against ``build`` of the same
  child without lineage (realize and compile alone). Rows: ``(kept)``, the parent trained in this
  process (its weights kept, ``lineage.remember_weights``) and its realized graph kept
  (``nasl.morph.memo``: it made a child before, or was a lineage child itself); ``(kept, parent
  new)``, its graph realized the first time; no suffix, the parent's file read
  (``torch.load(weights_only=True)``; a pool worker that did not train it, the first time).
  **load parent weights** times that read alone.

Every timed call is of a child not seen before (its realization is dropped from the memo first);
only the parent is what is kept or not.

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
    from nasl.morph import memo
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
    children = {space.validate(a) for a in (mutant, wide, deep)}
    path = os.path.abspath(weights_path(folder, 0))

    def timed(f, parent_known=True, weights="kept"):
        """CPU time of ``f()`` alone. A new child each time (its realization is not kept); the parent's
        realized graph kept (``parent_known``: it made a child before, or was itself a lineage child)
        or not; its weights ``kept`` (trained in this process), read from the ``file`` (None)."""
        for key in [k for k in memo._KEPT if k[1] in children]:
            memo._drop(key)
        if not parent_known:
            memo.forget()
        lineage._forget(path)
        if weights == "kept":
            remember_weights(path, state)
        t = time.process_time()
        f()
        return time.process_time() - t

    def build(arch, tr, **kw):
        return lambda: timed(lambda: ev.build(request(arch, tr)), **kw)
    runs = {
        "compile child (mutant)": lambda: nasl.compile(space, mutant),
        "inherit (mutant)": lambda: timed(lambda: inherit(space, parent, state, mutant)),
        "inherit, parent new": lambda: timed(lambda: inherit(space, parent, state, mutant), parent_known=False),
        "compile + inherit into it": lambda: timed(lambda: inherit(space, parent, state, mutant,
                                                                   into=nasl.compile(space, mutant).state_dict())),
        "compile child (wider)": lambda: nasl.compile(space, wide),
        "net2wider": lambda: timed(lambda: net2wider(space, parent, state, "width")),
        "compile child (deeper)": lambda: nasl.compile(space, deep),
        "net2deeper": lambda: timed(lambda: net2deeper(space, parent, state, "depth")),
        "load parent weights": lambda: timed(lambda: load_parent_weights(path, 0), weights=None),
        "build (wider)": build(wide, None),
        "build (deeper)": build(deep, None),
        "build (mutant)": build(mutant, None),
    }
    for kind, arch, tr in (("net2wider", wide, "net2wider width"), ("net2deeper", deep, "net2deeper depth"),
                           ("inherit", mutant, "mutate cell.edge[1->2]")):
        runs[f"build + {kind}"] = build(arch, tr, weights=None)                  # reads the parent's file
        runs[f"build + {kind} (kept)"] = build(arch, tr)
        runs[f"build + {kind} (kept, parent new)"] = build(arch, tr, parent_known=False)

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
    print(f"inherit / compile child    {med['inherit (mutant)'] / med['compile child (mutant)']:.2f}x  (target <= 1.2x); "
          f"parent not realized before {med['inherit, parent new'] / med['compile child (mutant)']:.2f}x")
    print(f"compile+inherit / compile  {med['compile + inherit into it'] / med['compile child (mutant)']:.2f}x")
    print(f"net2wider / compile child  {med['net2wider'] / med['compile child (wider)']:.2f}x")
    print(f"net2deeper / compile child {med['net2deeper'] / med['compile child (deeper)']:.2f}x")
    for kind, alone in (("net2wider", "wider"), ("net2deeper", "deeper"), ("inherit", "mutant")):
        b = med["build (" + alone + ")"]
        print(f"evaluator {kind:10s} / build: parent kept {med['build + ' + kind + ' (kept)'] / b:.2f}x "
              f"(reported); kept, its graph not realized before "
              f"{med['build + ' + kind + ' (kept, parent new)'] / b:.2f}x; reading the parent's file "
              f"{med['build + ' + kind] / b:.2f}x (the read alone {med['load parent weights'] / b:.2f}x a build)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
