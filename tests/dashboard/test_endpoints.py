"""The dashboard's HTTP endpoints, against a study file with known trials."""
from __future__ import annotations

import re
import shutil
import urllib.error
import urllib.request

import pytest

import nasl
from nasl.dashboard import pictures as pictures_mod

from .conftest import TRIALS, add_trial, get

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


def test_summary_and_trials(server):
    url, _ = server
    status, ctype, s = get(url, "/api/summary")
    assert status == 200 and ctype.startswith("application/json")
    assert s["counts"] == {"running": 1, "complete": 3, "failed": 1, "pruned": 0}
    status, _, trials = get(url, "/api/trials")
    assert [(t["number"], t["state"], t["arch"]) for t in trials] == [(n, v[1], v[0]) for n, v in TRIALS.items()]
    assert [t["number"] for t in get(url, "/api/trials?state=failed")[2]] == [3]
    assert get(url, "/api/trials?state=bogus")[:2] == (400, "application/json; charset=utf-8")


def test_the_page_follows_a_running_study(server, study_path):
    url, _ = server
    stamp = get(url, "/api/summary")[2]["stamp"]
    add_trial(study_path, 5, {"width": 8, "deep": "yes", "k2": 3}, {"acc": 0.99, "size": 0.5})
    s = get(url, "/api/summary")[2]
    assert s["stamp"] != stamp and s["counts"]["complete"] == 4
    assert get(url, "/api/best")[2]["acc"]["points"][-1] == [5, 0.99, 0.99]
    assert get(url, "/api/pareto")[2]["front"] == [5]            # it beats every other trial in both


def test_one_trial_with_its_cost(server, space):
    url, _ = server
    status, _, t = get(url, "/api/trials/1")
    assert status == 200 and t["metrics"] == {"acc": 0.9, "size": 5.0, "note": "x"}
    c = nasl.cost(space, TRIALS[1][0])
    assert t["cost"] == {"params": c.params, "flops": c.flops, "macs": c.macs, "layers": c.layers}
    assert get(url, "/api/trials/3")[2]["error"] == "RuntimeError: boom"
    status, _, body = get(url, "/api/trials/77")
    assert status == 404 and body == {"error": "the study has no trial 77"}


def test_best_and_pareto(server):
    url, _ = server
    best = get(url, "/api/best")[2]
    assert best["acc"]["points"] == [[0, 0.5, 0.5], [1, 0.9, 0.9], [2, 0.7, 0.9]]
    p = get(url, "/api/pareto?x=size&y=acc")[2]
    assert (p["x"], p["y"], p["front"]) == ("size", "acc", [1, 2])
    assert get(url, "/api/pareto?x=loss")[0] == 400


def test_compare_two_trials(server, space):
    url, _ = server
    status, _, c = get(url, "/api/compare?a=0&b=1")
    assert status == 200
    assert (c["a"]["number"], c["b"]["number"]) == (0, 1)
    assert c["paths"] == list(c["a"]["arch"]) + ["k2"]          # trial 0's paths, then the ones only b has
    assert set(c["differ"]) == {"width", "deep", "k2"}          # k2 is inactive in trial 0
    assert c["a"]["cost"]["params"] == nasl.cost(space, TRIALS[0][0]).params
    assert set(get(url, "/api/compare?a=1&b=4")[2]["differ"]) == {"k2"}
    assert get(url, "/api/compare?a=1")[0] == 400
    assert get(url, "/api/compare?a=1&b=99")[0] == 404


def test_oneshot_says_when_there_is_none(server):
    assert get(server[0], "/api/oneshot")[2] == {"available": False, "epochs": []}


@needs_dot
def test_pictures(server):
    url, _ = server
    status, ctype, svg = get(url, "/api/trials/1/arch.svg")
    assert status == 200 and ctype.startswith("image/svg+xml") and b"<svg" in svg
    assert b"conv" in svg and b"linear" in svg
    # the choices of trial 0: width and deep with their values; k2 is drawn but inactive (grey)
    svg = get(url, "/api/trials/0/choices.svg")[2].decode()
    assert "= 8" in svg and "= no" in svg
    k2 = re.search(r"<g id=\"node\d+\" class=\"node\">\s*<title>[^<]*</title>\s*<path fill=\"([^\"]+)\"[^>]*>"
                   r"\s*<text[^>]*>k2</text>", svg)
    assert k2 and k2.group(1) == "#f2f2f2"
    svg = get(url, "/api/space.svg")[2].decode()
    assert "width" in svg and "k2" in svg and "= 8" not in svg
    assert get(url, "/api/trials/9/arch.svg")[0] == 404


def test_without_graphviz_the_picture_says_so(server, monkeypatch):
    monkeypatch.setattr(pictures_mod.shutil, "which", lambda name: None)
    url, srv = server
    srv.pictures._cache.clear()
    status, _, body = get(url, "/api/trials/1/arch.svg")
    assert status == 503 and "Graphviz is not installed" in body["error"]
    assert get(url, "/api/trials/1")[0] == 200                   # the rest of the page still works


def test_static_files_work_offline(server):
    """The page and its scripts come from the package, and nothing points at the internet."""
    url, _ = server
    status, ctype, page = get(url, "/")
    assert status == 200 and ctype.startswith("text/html")
    for name in re.findall(rb'(?:src|href)="([^"]+)"', page):
        if name.startswith(b"data:"):
            continue
        assert name.startswith(b"/static/"), name
        status, _, body = get(url, name.decode())
        assert status == 200 and body
        assert not re.search(rb"https?://(?!www\.w3\.org/2000/svg)", body), name
    assert get(url, "/static/../data.py")[0] == 404
    assert get(url, "/nothing")[0] == 404


def test_the_server_has_no_way_to_write(server):
    url, _ = server
    for method in ("POST", "PUT", "DELETE"):
        req = urllib.request.Request(url + "api/summary", data=b"{}", method=method)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 501
    head = urllib.request.urlopen(urllib.request.Request(url + "api/summary", method="HEAD"), timeout=10)
    assert head.status == 200 and head.read() == b""


def test_only_localhost_may_ask(server):
    """A page elsewhere that points its domain at 127.0.0.1 (DNS rebinding) is refused."""
    url, _ = server
    port = url.rsplit(":", 1)[1].strip("/")
    for host, status in ((f"localhost:{port}", 200), (f"127.0.0.1:{port}", 200), (f"evil.example:{port}", 403),
                         ("evil.example", 403)):
        req = urllib.request.Request(url + "api/summary", headers={"Host": host})
        try:
            got = urllib.request.urlopen(req, timeout=10).status
        except urllib.error.HTTPError as e:
            got = e.code
        assert got == status, host


def test_trials_since(server, study_path):
    url, _ = server
    updated = get(url, "/api/summary")[2]["updated"]
    assert [t["number"] for t in get(url, f"/api/trials?since={updated}")[2]] == [4]
    status, _, body = get(url, "/api/trials?since=yesterday")
    assert status == 400 and "takes a number" in body["error"]
