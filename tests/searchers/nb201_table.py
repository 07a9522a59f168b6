"""The NAS-Bench-201 table as a lookup evaluator, shared by the searcher quality tests."""
from __future__ import annotations

import csv
import math
import pathlib
import statistics

from nasl.data import NB201_TABLE, open_text
from nasl.searchers import create

ROOT = pathlib.Path(__file__).resolve().parents[2]
# the table ships with the package, so these tests run in a fresh clone too
CSV = pathlib.Path(NB201_TABLE)


def load_table(column: str = "CIFAR10TestAccuracy200Epochs") -> dict[str, float]:
    """``{architecture string: accuracy}`` for one column of the table."""
    with open_text(CSV) as f:
        return {row["ArchitectureString"]: float(row[column]) for row in csv.DictReader(f)}


def arch_string(arch) -> str:
    """``{cell.edge[i->j]: op}`` to NAS-Bench-201's ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

    Written out here rather than taken from ``nasl.formats.nb201``, so that the
    tests check the format module against an independent spelling.
    """
    return "+".join("|" + "|".join(f"{arch[f'cell.edge[{i}->{j}]']}~{i}" for i in range(j)) + "|"
                    for j in (1, 2, 3))


def best_of(table, spec, name, n, seed, **options) -> float:
    """The best accuracy searcher ``name`` finds in ``n`` queries under ``seed``."""
    s = create(name, spec, seed=seed, **options)
    best = -math.inf
    for _ in range(n):
        a = s.ask()
        acc = table[arch_string(a)]
        s.tell(a, acc)
        best = max(best, acc)
    return best


def mean_se(xs):
    """Mean and standard error."""
    return statistics.mean(xs), statistics.stdev(xs) / math.sqrt(len(xs))
