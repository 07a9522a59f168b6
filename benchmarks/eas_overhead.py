"""The eas searcher's own cost per ask+tell (encoder, actors, REINFORCE), against random search.

Both run on digits with a fake score, so no network is trained; CPU time (``time.process_time``),
measured in the same run. The meta-controller's cost is what a study adds per trial next to training
(about 1 s per digits trial at 5 epochs)::

    PYTHONPATH=$PWD python benchmarks/eas_overhead.py [--trials 200]
"""
from __future__ import annotations

import argparse
import pathlib
import time

import nasl
from nasl.searchers import create

DIGITS = pathlib.Path(__file__).resolve().parents[1] / "nasl" / "spaces" / "digits.nas"


def per_trial(name, spec, trials, **options) -> float:
    s = create(name, spec, seed=0, **options)
    t = time.process_time()
    for _ in range(trials):
        a = s.ask()
        s.lineage_of(a)
        s.tell(a, 0.5 + a["width"] / 100 + a["depth"] / 30)
    return (time.process_time() - t) / trials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    args = ap.parse_args()
    spec = nasl.load(DIGITS).spec
    base = per_trial("random", spec, args.trials)
    # parent="start": every child is rolled out from the start network, so the actors act at every ask
    # (from the best so far, digits saturates at width 24, depth 3 and most asks are identities)
    rows = [("eas (official: 4 wider + 5 deeper, batch 10)", {"parent": "start"}),
            ("eas (1 wider + 1 deeper, batch 2)", {"wider_steps": 1, "deeper_steps": 1, "batch_size": 2, "parent": "start"}),
            ("eas (official, from the best so far)", {})]
    print(f"random: {base * 1e3:.3f} ms per ask+tell")
    for label, opts in rows:
        t = per_trial("eas", spec, args.trials, **opts)
        print(f"{label}: {t * 1e3:.2f} ms per ask+tell, {t / base:.0f}x random")


if __name__ == "__main__":
    main()
