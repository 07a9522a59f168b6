"""Terminal output with ``rich``: tables for ``nasl study show`` and ``nasl search``, and a progress bar.

Used only where a terminal is attached (the table when stdout is one, the
bar when stderr is, since the bar is drawn there) and rich is installed
(``pip install 'nasl[study]'``). Piped or redirected output stays the plain
text that scripts and tests read, byte for byte.
"""
from __future__ import annotations

import json
import sys


def shown_metrics(study, trials) -> list[str]:
    """The columns of ``study show`` (this table and the plain lines): the objectives, then held-out test
    accuracy when trials report it (shown, never ranked on)."""
    names = list(study.objectives)
    if "test_accuracy" not in names and any("test_accuracy" in t.metrics for t in trials):
        names.append("test_accuracy")
    return names


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):      # no isatty, or a closed stream
        return False


def available(stream=None) -> bool:
    """True when ``stream`` (default stdout) is a terminal and rich can be imported."""
    if not _isatty(sys.stdout if stream is None else stream):
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _console(stream=None):
    from rich.console import Console
    return Console(file=sys.stdout if stream is None else stream, highlight=False)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return "-" if v is None else str(v)


def show(study, k: int) -> None:
    """``nasl study show`` as a rich table: settings, counts, the top ``k`` trials, the failures."""
    from rich.table import Table
    console = _console()
    c, cfg = study.counts(), study.config
    objectives = list(study.objectives)
    console.print(f"[bold]study[/] {study.path}: space {cfg['space_file']}, searcher [bold]{cfg['searcher']}[/] "
                  f"{json.dumps(cfg['searcher_options'])}, seed {cfg['seed']}, budget {cfg['budget']}", soft_wrap=True)
    console.print(f"evaluator {cfg['evaluator'].get('spec') or cfg['evaluator']['repr']}; objectives "
                  + ", ".join(f"{n} ({d})" for n, d in study.objectives.items()), markup=False)
    console.print(f"trials: [green]{c['complete']} complete[/], [red]{c['failed']} failed[/], "
                  f"{c['pruned']} pruned, {c['running']} running")
    top = study.top(k)
    if top:
        objectives = shown_metrics(study, top)
        table = Table(title=f"top {len(top)}", title_justify="left")
        budgets = ["budget"] if any(t.budget is not None for t in top) else []
        for name in ["rank", "trial"] + budgets + objectives + ["seconds"]:
            table.add_column(name, justify="right")
        table.add_column("arch")
        for i, t in enumerate(top):
            table.add_row(str(i + 1), str(t.number), *[_fmt(t.budget) for _ in budgets],
                          *[_fmt(t.metrics.get(o)) for o in objectives], _fmt(t.duration),
                          t.arch_id)
        console.print(table)
        console.print(f"best architecture: {top[0].arch.to_json()}", markup=False, soft_wrap=True)
    failed = [t for t in study.trials if t.state in ("failed", "pruned")]
    if failed:
        table = Table(title=f"failed trials ({len(failed)})", title_justify="left")
        table.add_column("trial", justify="right")
        table.add_column("reason", style="red")
        for t in failed[:k]:
            table.add_row(str(t.number), t.error or "")
        console.print(table)


def search_summary(study, best) -> None:
    """The end of ``nasl search``: counts and the best trial, as a table."""
    from rich.table import Table
    console = _console()
    c = study.counts()
    table = Table(title=f"study {study.path}", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("trials", f"{c['complete']} complete, {c['failed'] + c['pruned']} failed")
    if best is not None:
        table.add_row("best trial", f"#{best.number}")
        for k in study.objectives:
            table.add_row(k, f"{best.metrics[k]:.6g}")
    console.print(table)
    if best is not None:            # not in the table, where it would be cut: it is there to be copied
        console.print(f"best architecture: {best.arch.to_json()}", markup=False, soft_wrap=True)


class ProgressBar:
    """The part of tqdm's interface that the search loop uses, drawn by rich on stderr."""

    def __init__(self, total: int, initial: int = 0):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        self._progress = Progress(TextColumn("search"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  TimeRemainingColumn(), TextColumn("{task.fields[postfix]}"),
                                  console=_console(sys.stderr))
        self._task = self._progress.add_task("search", total=total, completed=initial, postfix="")
        self._progress.start()

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self._progress.update(self._task, postfix=text, refresh=refresh)

    def update(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)

    def close(self) -> None:
        self._progress.stop()
