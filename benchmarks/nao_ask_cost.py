"""Benchmark: does nao's ask cost stay flat as the history grows? (issue 13's figure for nao)

For each N of ``--sizes`` (default 200, 1,000, 5,000): a fresh ``nao``
(defaults but ``num_initial=0``, seed 0) on ``examples/nas_bench_201.nas`` is told N results
(random architectures, their CIFAR-10 accuracy from the bundled table) and
then runs ``--rounds`` ask+tell rounds (default 40: four generations, each
with its warm training). Prints the CPU time per round (``time.process_time``:
the machine is shared) and its ratio to the first size's, the baseline of the
same run. The training set is bounded (``max_train``, 500;
:mod:`nasl.searchers.training_set`), so the ratio should stay near 1.

Usage::

    python benchmarks/nao_ask_cost.py [--sizes 200 1000 5000] [--rounds 40]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def per_round(spec, table, n: int, rounds: int) -> float:
    from nasl.formats.nb201 import to_string
    from nasl.searchers import create
    from nasl.searchers.walks import sample
    s = create("nao", spec, seed=0, num_initial=0)     # N results told: no seed population needed
    rng = random.Random(n)
    for _ in range(n):
        a = sample(spec, rng)
        s.tell(a, table[to_string(a)])
    a = s.ask()                          # the first training after the N tells, not timed:
    s.tell(a, table[to_string(a)])       # it is from scratch, later ones are warm
    t = time.process_time()
    for _ in range(rounds):
        a = s.ask()
        s.tell(a, table[to_string(a)])
    return (time.process_time() - t) / rounds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[200, 1000, 5000])
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    import nasl
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from searcher_quality import default_csv, load_tables
    spec = nasl.load(ROOT / "examples" / "nas_bench_201.nas").spec
    table = load_tables(default_csv())["CIFAR-10"]
    base = None
    print(f"{'N told':>8} {'ms per ask+tell':>16} {'ratio to N=' + str(args.sizes[0]):>14}")
    for n in args.sizes:
        ms = 1000 * per_round(spec, table, n, args.rounds)
        base = base or ms
        print(f"{n:>8} {ms:>16.1f} {ms / base:>14.2f}")


if __name__ == "__main__":
    main()
