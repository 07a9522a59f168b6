"""``nasl study compare A.db B.db ...``: best-so-far curves of several studies (or seeds) overlaid.

Each study's best-so-far value of the shared primary objective is drawn over
the trial number; their mean is drawn bold, with a band of ± one standard
deviation across the studies, up to the shortest study (so that no point of
the mean leaves a study out).
"""
from __future__ import annotations

import statistics

from nasl.ir.errors import NaslError


def _curve(study, objective, length: int) -> list:
    """Best-so-far at trial numbers 0..length-1 (None before the first complete trial)."""
    values = dict(study.best_so_far(objective))
    out, best = [], None
    for n in range(length):
        best = values.get(n, best)
        out.append(best)
    return out


def _objective(studies, objective):
    objective = objective or studies[0].primary
    for s in studies:
        if objective not in s.objectives:
            raise NaslError(f"the study '{s.path}' has no objective '{objective}' (it has "
                            f"{', '.join(s.objectives)}); compare studies of one objective, or name it with --objective")
        if s.objectives[objective] != studies[0].objectives.get(objective, s.objectives[objective]):
            raise NaslError(f"'{objective}' is maximised in one study and minimised in another")
        if not s.completed():
            raise NaslError(f"the study '{s.path}' has no complete trial to compare")
    return objective


def summary(studies, objective=None) -> list[str]:
    objective = _objective(studies, objective)
    lines = [f"{'study':<30} {'searcher':<22} {'seed':>5} {'trials':>6}  best {objective}"]
    for s in studies:
        lines.append(f"{s.path[-30:]:<30} {s.config['searcher']:<22} {s.config['seed']:>5} "
                     f"{len(s.completed()):>6}  {s.best(objective).metrics[objective]:.6g}")
    bests = [s.best(objective).metrics[objective] for s in studies]
    if len(bests) > 1:
        lines.append(f"mean best {statistics.fmean(bests):.6g} ± {statistics.stdev(bests):.3g} (std over "
                     f"{len(bests)} studies)")
    return lines


def plot_compare(studies, path: str, objective=None) -> str:
    objective = _objective(studies, objective)
    from nasl.study.plot import pyplot, save
    plt = pyplot()
    lengths = [max(t.number for t in s.completed()) + 1 for s in studies]
    curves = [_curve(s, objective, n) for s, n in zip(studies, lengths)]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    try:
        for s, c in zip(studies, curves):
            xs = [i for i, v in enumerate(c) if v is not None]
            ax.step(xs, [c[i] for i in xs], where="post", alpha=0.45, linewidth=1,
                    label=f"{s.path.rsplit('/', 1)[-1]} ({s.config['searcher']}, seed {s.config['seed']})")
        if len(studies) > 1:
            xs, mean, low, high = [], [], [], []
            for i in range(min(lengths)):
                column = [c[i] for c in curves]
                if any(v is None for v in column):
                    continue
                m, sd = statistics.fmean(column), statistics.stdev(column)
                xs.append(i)
                mean.append(m)
                low.append(m - sd)
                high.append(m + sd)
            if xs:
                ax.step(xs, mean, where="post", color="black", linewidth=2, label=f"mean of {len(studies)}")
                ax.fill_between(xs, low, high, step="post", color="gray", alpha=0.25, label="± 1 std")
        ax.set_xlabel("trial")
        ax.set_ylabel(f"best {objective} so far ({studies[0].objectives[objective]})")
        ax.legend(loc="best", fontsize="small")
        save(fig, path)
    finally:
        plt.close(fig)
    return path


__all__ = ["summary", "plot_compare"]
