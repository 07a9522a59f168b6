"""The path_level_eas searcher's own cost per ask+tell (tree-LSTM, actors, REINFORCE), against random
search on the same space.

Both run on examples/path_level.nas (the paper's three node levels) with a fake score that grows
with the tree, so no network is trained; CPU time (``time.process_time``), measured in the same
run. What the meta-controller adds per trial is to be read next to training one child (seconds on
digits, hours on CIFAR)::

    PYTHONPATH=$PWD python benchmarks/path_level_eas_overhead.py [--trials 100]
"""
from __future__ import annotations

import argparse
import pathlib
import time

import nasl
from nasl.searchers import create

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def per_trial(name, spec, trials, **options) -> float:
    s = create(name, spec, seed=0, **options)
    t = time.process_time()
    for _ in range(trials):
        a = s.ask()
        s.lineage_of(a)
        s.tell(a, 0.4 + len(a) / 200)
    return (time.process_time() - t) / trials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100)
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    spec = nasl.load(EXAMPLES / "path_level.nas").spec
    base = per_trial("random", spec, args.trials)
    print(f"random (path_level, depth 3): {base * 1e3:.3f} ms per ask+tell")
    rows = [("path_level_eas (official: batch 10, one pass, from the best)", {}),
            ("path_level_eas (batch 10, one pass, from the start)", {"parent": "start"}),
            ("path_level_eas (batch 10, two passes, from the best)", {"passes": 2})]
    for label, opts in rows:
        t = per_trial("path_level_eas", spec, args.trials, **opts)
        print(f"{label}: {t * 1e3:.2f} ms per ask+tell, {t / base:.0f}x random")
    nb201 = nasl.load(EXAMPLES / "nas_bench_201.nas").spec
    b2 = per_trial("random", nb201, args.trials)
    t2 = per_trial("path_level_eas", nb201, args.trials)
    print(f"fallback (mutation) on nas_bench_201: {t2 * 1e3:.3f} ms per ask+tell, random {b2 * 1e3:.3f} ms, "
          f"{t2 / b2:.1f}x random")


if __name__ == "__main__":
    main()
