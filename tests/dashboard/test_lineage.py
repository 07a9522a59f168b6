"""The dashboard's lineage tree: ``/api/lineage`` for a study whose searcher passed parents (and
``available: false`` for one whose searcher did not), and the tree drawn in headless Chromium."""
from __future__ import annotations

import os
import threading

import pytest

import nasl
from nasl.study.storage import Storage

from .conftest import OBJECTIVES, SPACE, get

CHROMIUM = os.environ.get("NASL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# number -> (arch, parent, transformation, inherited, state)
FAMILY = {
    0: ({"width": 8, "deep": "no"}, None, None, None, "complete"),
    1: ({"width": 16, "deep": "no"}, None, None, None, "complete"),
    2: ({"width": 16, "deep": "yes", "k2": 3}, 1, "mutate deep: 'no' -> 'yes' (alter)", 0.62, "complete"),
    3: ({"width": 16, "deep": "no"}, 1, "identity", 1.0, "complete"),
    4: ({"width": 16, "deep": "yes", "k2": 1}, 2, "mutate k2: 3 -> 1 (shrink)", 0.9, "failed"),
    5: ({"width": 8, "deep": "no"}, 0, "reset", 0.0, "running"),
}


def _write(path) -> None:
    s = Storage(path)
    s.create_study(space_source=SPACE, space_file="tiny.nas", params=[], ops=[], searcher="large_scale_evolution",
                   searcher_options={"population_size": 2}, seed=0, evaluator={"spec": "python:x:y", "repr": "f"},
                   objectives=OBJECTIVES, budget=10)
    for n, (arch, parent, how, inherited, state) in FAMILY.items():
        a = nasl.Architecture(arch)
        tid = s.add_trial(n, a.to_json(), a.id, None, n, ask_seq=2 * n, parent=parent, transformation=how)
        if state != "running":
            s.finish_trial(tid, state, metrics={"acc": 0.1 * n, "size": 1.0} if state == "complete" else None,
                           error="RuntimeError: boom" if state == "failed" else None, tell_seq=2 * n + 1,
                           inherited=inherited)
    s.close()


@pytest.fixture
def family_server(tmp_path):
    from nasl.dashboard import make_server
    path = tmp_path / "family.db"
    _write(path)
    srv, url = make_server(path, port=0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield url
    srv.shutdown()
    srv.server_close()
    srv.data.close()


def test_no_lineage_without_parents(server):
    url, _ = server
    assert get(url, "/api/summary")[2]["lineage"] is False
    assert get(url, "/api/lineage")[2] == {"available": False}


def test_the_lineage_endpoint_gives_the_tree(family_server):
    status, _, t = get(family_server, "/api/lineage")
    assert status == 200 and t["available"] is True
    assert get(family_server, "/api/summary")[2]["lineage"] is True
    assert t["roots"] == [0, 1]
    assert t["children"] == {"0": [5], "1": [2, 3], "2": [4]}
    assert t["nodes"]["2"] == {"number": 2, "parent": 1, "transformation": FAMILY[2][2], "inherited": 0.62,
                               "state": "complete"}
    assert t["nodes"]["5"]["inherited"] is None and t["nodes"]["5"]["state"] == "running"


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
def test_the_page_draws_the_tree_and_a_click_opens_the_trial(family_server, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright client is not installed")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(family_server)
            page.wait_for_selector("#lineage:not([hidden]) #lineage-tree li")
            tops = page.locator("#lineage-tree > ul > li")
            assert tops.count() == 2
            # trial 4 sits under 2, which sits under 1: three levels of nesting
            deep = page.locator("#lineage-tree > ul > li > ul > li > ul > li > a")
            assert deep.count() == 1 and deep.inner_text() == "#4 failed [mutate k2: 3 -> 1 (shrink)] inherited 90%"
            texts = page.locator("#lineage-tree a").all_inner_texts()
            assert "#3 complete [identity] inherited 100%" in texts and "#5 running [reset]" in texts
            page.click("#lineage-tree a:text-is('#3 complete [identity] inherited 100%')")
            page.wait_for_selector("#detail:not([hidden])")
            assert page.inner_text("#detail-title").startswith("Trial #3: complete")
            assert errors == []
        finally:
            browser.close()
