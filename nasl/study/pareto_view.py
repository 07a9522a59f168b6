"""``nasl study show --pareto`` and ``nasl study plot --pareto``: a multi-objective study's front."""
from __future__ import annotations

import json

from nasl.ir.errors import NaslError


def _front(study):
    if len(study.objectives) < 2:
        raise NaslError(f"the study '{study.path}' has one objective ({study.primary}); a Pareto front needs "
                        f"two or more (nasl search --objective A --objective B:min, or --cost params)")
    front = study.pareto_front()
    if not front:
        raise NaslError(f"the study '{study.path}' has no complete trial yet")
    return front


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def show_pareto(study) -> int:
    """Print the front, best primary objective first: trial, objectives, architecture."""
    front = _front(study)
    names = list(study.objectives)
    print(f"Pareto front of {study.path}: {len(front)} of {len(study.completed())} complete trials; objectives "
          + ", ".join(f"{n} ({d})" for n, d in study.objectives.items()))
    header = ["trial"] + names + ["arch"]
    rows = [[str(t.number)] + [_fmt(t.metrics[n]) for n in names] + [json.dumps(t.arch.canonical())] for t in front]
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header[:-1])]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths + [0])).rstrip())
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths + [0])).rstrip())
    return 0


def plot_pareto(study, path: str) -> str:
    """Every complete trial in the plane of the first two objectives, the front joined as a step line."""
    front = _front(study)
    from nasl.study.plot import pyplot, save
    plt = pyplot()
    x, y = list(study.objectives)[:2]
    done = study.completed()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    try:
        ax.scatter([t.metrics[x] for t in done], [t.metrics[y] for t in done], s=12, alpha=0.4,
                   color="tab:blue", label=f"trial ({len(done)})")
        front = sorted(front, key=lambda t: t.metrics[x])
        ax.step([t.metrics[x] for t in front], [t.metrics[y] for t in front], where="post", color="tab:red")
        ax.scatter([t.metrics[x] for t in front], [t.metrics[y] for t in front], s=28, color="tab:red",
                   label=f"Pareto front ({len(front)})", zorder=3)
        for t in front:
            ax.annotate(f"#{t.number}", (t.metrics[x], t.metrics[y]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xlabel(f"{x} ({study.objectives[x]})")
        ax.set_ylabel(f"{y} ({study.objectives[y]})")
        ax.set_title(f"{study.config['searcher']}, seed {study.config['seed']}")
        ax.legend(loc="best", fontsize="small")
        save(fig, path)
    finally:
        plt.close(fig)
    return path
