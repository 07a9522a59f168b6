"""A study file with known trials, written through nasl's own storage API."""
from __future__ import annotations

import json
import threading

import pytest

import nasl
from nasl.study.storage import Storage

# `deep` guards `k2`: an architecture with deep == "no" leaves k2 inactive.
SPACE = """input x: [3, 8, 8]
network {
    width = choice(8, 16)
    deep = choice("no", "yes")
    h = x >> conv(width, k=3) >> relu
    if deep == "yes" { h = h >> conv(width, k=choice(1, 3) as k2) >> relu }
    return h >> global_avg_pool >> linear(10)
}
"""
OBJECTIVES = {"acc": "max", "size": "min"}
# number -> (arch, state, metrics, error)
TRIALS = {
    0: ({"width": 8, "deep": "no"}, "complete", {"acc": 0.5, "size": 3.0}, None),
    1: ({"width": 16, "deep": "yes", "k2": 3}, "complete", {"acc": 0.9, "size": 5.0, "note": "x"}, None),
    2: ({"width": 8, "deep": "yes", "k2": 1}, "complete", {"acc": 0.7, "size": 2.0}, None),
    3: ({"width": 16, "deep": "no"}, "failed", None, "RuntimeError: boom"),
    4: ({"width": 16, "deep": "yes", "k2": 1}, "running", None, None),
}
BUDGET = 10


def write_study(path) -> None:
    """The study above in ``path``; the storage is closed again (the dashboard opens it alone)."""
    s = Storage(path)
    s.create_study(space_source=SPACE, space_file="tiny.nas", params=[], ops=[], searcher="random",
                   searcher_options={}, seed=0, evaluator={"spec": "python:x:y", "repr": "f"},
                   objectives=OBJECTIVES, budget=BUDGET)
    for n, (arch, state, metrics, error) in TRIALS.items():
        a = nasl.Architecture(arch)
        tid = s.add_trial(n, a.to_json(), a.id, None, 100 + n, ask_seq=2 * n)
        if state != "running":
            s.finish_trial(tid, state, metrics=metrics, error=error, duration=0.5 + n, worker="w", tell_seq=2 * n + 1)
    s.close()


def add_trial(path, number: int, arch: dict, metrics: dict) -> None:
    """Another process's search goes on: one more complete trial."""
    s = Storage(path)
    a = nasl.Architecture(arch)
    tid = s.add_trial(number, a.to_json(), a.id, None, number, ask_seq=100 + 2 * number)
    s.finish_trial(tid, "complete", metrics=metrics, duration=0.1, tell_seq=101 + 2 * number)
    s.close()


@pytest.fixture
def study_path(tmp_path):
    path = tmp_path / "known.db"
    write_study(path)
    return path


@pytest.fixture
def space():
    return nasl.loads(SPACE, "tiny.nas")


@pytest.fixture
def server(study_path):
    """A dashboard on a free port, serving in a thread: ``(url, server)``."""
    from nasl.dashboard import make_server
    srv, url = make_server(study_path, port=0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield url, srv
    srv.shutdown()
    srv.server_close()
    srv.data.close()


def get(url: str, path: str):
    """``(status, content type, body)``; JSON bodies decoded."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url + path.lstrip("/"), timeout=30) as r:
            status, ctype, body = r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        status, ctype, body = e.code, e.headers["Content-Type"], e.read()
    if ctype and ctype.startswith("application/json"):
        body = json.loads(body)
    return status, ctype, body
