"""Issue 18's figure for the curve pruner, small: on digits with 8 epochs per trial it saves at least
30% of the epochs against no pruning, and the best accuracy found is within 0.5 points.

The space is the bundled digits space with narrower, shallower networks (widths 4 and 8, one cell), so
that the two studies of 12 trials take about a minute. benchmarks/pruning.py measures the bundled space
itself (BENCHMARKS.md, section 27)."""
from __future__ import annotations

import pathlib

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
pytest.importorskip("scipy")

import nasl  # noqa: E402
from nasl.study import default_space_path  # noqa: E402


@pytest.mark.slow
def test_the_curve_pruner_saves_a_third_of_the_epochs_and_keeps_the_best():
    from nasl.study.training import TrainEvaluator
    source = pathlib.Path(default_space_path()).read_text()
    source = source.replace("width = choice(8, 16, 24)", "width = choice(4, 8)").replace(
        "depth = choice(1, 2, 3)", "depth = 1")
    ev = TrainEvaluator(epochs=8, threads=1)
    full = nasl.search(source, searcher="random", evaluator=ev, budget=12, seed=0, progress=False)
    pruned = nasl.search(source, searcher="random", evaluator=ev, budget=12, seed=0, progress=False, pruner="curve")
    epochs_full = sum(len(t.curve) for t in full.trials)
    epochs_pruned = sum(len(t.curve) for t in pruned.trials)
    assert epochs_full == 12 * 8
    assert epochs_pruned <= 0.7 * epochs_full, (epochs_pruned, epochs_full)
    best_full = full.best().metrics["val_accuracy"]
    best_pruned = pruned.best().metrics["val_accuracy"]
    assert best_pruned >= best_full - 0.005, (best_pruned, best_full)
    # random search proposes the same trials, and a pruned trial's curve is a prefix of the full one
    for a, b in zip(full.trials, pruned.trials):
        assert a.arch == b.arch
        assert [r["val_accuracy"] for r in b.curve] == [r["val_accuracy"] for r in a.curve[:len(b.curve)]]
    print(f"epochs {epochs_pruned} vs {epochs_full} ({1 - epochs_pruned / epochs_full:.0%} saved), "
          f"best {best_pruned:.4f} vs {best_full:.4f}")
