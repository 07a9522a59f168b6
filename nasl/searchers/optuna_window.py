"""The bounded history of the Optuna adapter: which trials a rebuilt study keeps, and its sampler's seed.

Optuna's samplers read the whole study on every ask: TPE builds its Parzen
estimators from every finished trial, so a 20,000-trial search costs about
20 ms an ask by its end against 1-2 ms at its start (BENCHMARKS.md, sections
43 and 61), and Optuna has no option to look at fewer. The adapter therefore
rebuilds its in-memory study when it reaches ``max_history`` trials, with the
trials chosen here; a sampler then reads between about a quarter of
``max_history`` and all of it, whatever the length of the search.

What a rebuilt study holds:

- the most recent ``recent`` finished trials: the region the sampler was
  searching, as it saw it;
- the ``best`` highest-scoring finished trials of the study (single objective
  only): TPE's "good" density is fitted to the best ``min(ceil(0.1 n), 25)``
  trials, so with these kept the rebuild does not forget where the best
  architectures lie, however long ago they were found;
- the trials asked and not yet told (parallel workers), as running trials.

Kept trials go back in their original order. The sampler is a new object,
seeded from the searcher's seed and the rebuild's number: a seeded search,
and its resume (which replays the log from the last rebuild), stay exact.
"""
from __future__ import annotations

KEEP_BEST = 25      # TPE's default gamma: at most the best 25 trials make its "good" group


def kept_trials(window: list, recent: int, best: int) -> list:
    """The entries of ``window`` (``[arch JSON, values]``, oldest first) a rebuilt study keeps, in order:
    the last ``recent``, and the ``best`` with the highest first value (the earliest among ties)."""
    n = len(window)
    keep = set(range(max(0, n - recent), n))
    if best > 0:
        ranked = sorted(range(n), key=lambda i: (-window[i][1][0], i))
        keep.update(ranked[:best])
    return [window[i] for i in sorted(keep)]


def sampler_seed(seed, generation: int):
    """The seed of the sampler of the ``generation``-th study (0: the first, seeded with ``seed`` itself)."""
    if seed is None or generation == 0:
        return seed
    # a fixed odd multiplier mixes the number in; Optuna's samplers take seeds below 2**32 (numpy's RandomState)
    return (int(seed) + 0x9E3779B1 * generation) % (2 ** 32)
