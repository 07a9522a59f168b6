"""Pictures of a study (matplotlib, imported only here): history and Pareto front."""
from __future__ import annotations

from nasl.ir.errors import NaslError


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no display); a one-line error without it."""
    from nasl.ir.optional import require
    require("matplotlib", "plotting").use("Agg")
    return require("matplotlib.pyplot", "plotting")


def save(fig, path: str) -> None:
    """Lay out ``fig`` and write it to ``path``; a folder or file that cannot be written is one line."""
    try:
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    except OSError as e:
        raise NaslError(f"cannot write '{path}': {e.strerror}") from None


def plot_study(study, path: str) -> str:
    """Write a PNG (or any format matplotlib infers from ``path``) and return ``path``.

    Left: every complete trial's primary objective over the trial number, and
    the best so far as a step line; failed trials are marked on the axis.
    Right, when the study has several objectives: the first two objectives of
    every complete trial, with the Pareto front joined.
    """
    plt = pyplot()
    done = study.completed()
    if not done:
        raise NaslError(f"the study '{study.path}' has no complete trial to plot")
    names = list(study.objectives)
    multi = len(names) > 1
    fig, axes = plt.subplots(1, 2 if multi else 1, figsize=(11 if multi else 6.5, 4.2), squeeze=False)
    ax = axes[0][0]
    primary = names[0]
    budgets = sorted({t.budget for t in done if t.budget is not None})
    if budgets:
        # a multi-fidelity study: one colour per budget, so cut-short trials are not read as full ones
        for b in budgets:
            at = [t for t in done if t.budget == b]
            ax.scatter([t.number for t in at], [t.metrics[primary] for t in at], s=10, alpha=0.55,
                       label=f"budget {b:g}")
    else:
        ax.scatter([t.number for t in done], [t.metrics[primary] for t in done], s=10, alpha=0.45,
                   color="tab:blue", label="trial")
    best = study.best_so_far()
    ax.step([n for n, _ in best], [v for _, v in best], where="post", color="tab:red", label="best so far")
    failed = [t.number for t in study.trials if t.state in ("failed", "pruned")]
    if failed:
        ymin = min(t.metrics[primary] for t in done)
        ax.scatter(failed, [ymin] * len(failed), marker="x", color="gray", s=14, label=f"failed ({len(failed)})")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{primary} ({study.objectives[primary]})")
    ax.set_title(f"{study.config['searcher']}, seed {study.config['seed']}")
    ax.legend(loc="best", fontsize="small")
    if multi:
        ax2 = axes[0][1]
        x, y = names[0], names[1]
        ax2.scatter([t.metrics[x] for t in done], [t.metrics[y] for t in done], s=10, alpha=0.4, color="tab:blue")
        front = sorted(study.pareto_front(), key=lambda t: t.metrics[x])
        ax2.plot([t.metrics[x] for t in front], [t.metrics[y] for t in front], "o-", color="tab:red",
                 markersize=4, label=f"Pareto front ({len(front)})")
        ax2.set_xlabel(f"{x} ({study.objectives[x]})")
        ax2.set_ylabel(f"{y} ({study.objectives[y]})")
        ax2.legend(loc="best", fontsize="small")
    try:
        save(fig, path)
    finally:
        plt.close(fig)
    return path
