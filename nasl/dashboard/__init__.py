"""``nasl dashboard``: a study in the browser, live while it runs.

A local web page (the standard library's HTTP server, vanilla JS and inline
SVG charts shipped in ``static/``; nothing from the internet) that reads the
study's SQLite file read-only: progress, the trial table, best so far, the
Pareto front, each trial's pictures and cost, two trials side by side, and a
one-shot run's per-epoch alphas when the study has them.

>>> from nasl.dashboard import make_server
>>> server, url = make_server("nb201.db", port=0)     # doctest: +SKIP
>>> server.serve_forever()                            # doctest: +SKIP
"""
from nasl.dashboard.data import DashboardError, StudyData
from nasl.dashboard.server import make_server, serve

__all__ = ["DashboardError", "StudyData", "make_server", "serve"]
