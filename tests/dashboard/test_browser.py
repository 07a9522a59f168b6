"""End to end in headless Chromium: a study runs in one process, the dashboard in another, the page follows.

Needs Debian's ``chromium`` (/usr/bin/chromium) and the ``playwright`` client
(``pip install 'nasl[browser]'``; Playwright's own browser download is not
used). ``.ci/run`` installs both; the test skips only when they are missing.
The screenshot lands in ``test-artifacts/dashboard.png``.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

from nasl.dashboard.data import DashboardError, StudyData

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("NASL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
BUDGET = 200    # x 0.2 s a trial: the study would run for 40 s; the test stops it when it has seen enough
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright client is not installed")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")]


def _start(args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "nasl.cli", *args], cwd=ROOT, env=env, text=True, **kw)


def _wait_for_study(path, proc, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the search ended early: {proc.stderr.read()}"
        try:
            StudyData(path).close()
            return
        except DashboardError:
            time.sleep(0.05)
    raise AssertionError("the search wrote no study in time")


@pytest.fixture
def running_study(tmp_path):
    path = tmp_path / "live.db"
    search = _start(["search", "examples/nas_bench_201.nas", "-D", "N=1", "--budget", str(BUDGET),
                     "--evaluator", "python:tests.dashboard.helpers:steady", "--study", str(path),
                     "--no-progress", "--seed", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dashboard = None
    try:
        _wait_for_study(path, search)
        dashboard = _start(["dashboard", str(path), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = dashboard.stdout.readline()
        assert " at http://127.0.0.1:" in line, line + dashboard.stderr.read()
        yield line.split(" at ")[1].split()[0], search
    finally:
        for p in (search, dashboard):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


def _count(page) -> int:
    return int(page.inner_text("#count-complete"))


def test_the_page_follows_a_running_study(running_study, tmp_path):
    url, search = running_study
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1280, "height": 900})
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            asked = []
            page.on("request", lambda r: asked.append(r.url))
            page.goto(url)
            page.wait_for_selector("#live.ok")
            first = _count(page)
            rows = page.locator("#trial-table tbody tr").count()
            assert first < BUDGET and search.poll() is None, "the study ended before the page could watch it"
            # the count rises while the study runs, without reloading the page
            page.wait_for_function(f"+document.getElementById('count-complete').textContent > {first}",
                                   timeout=15000)
            assert _count(page) > first and search.poll() is None
            # and the table takes in the new trials (fetched incrementally, ?since=)
            page.wait_for_function(f"document.querySelectorAll('#trial-table tbody tr').length > {rows}")
            assert any("/api/trials?since=" in u for u in asked)
            assert all(u.startswith(url) or u.startswith(("blob:", "data:")) for u in asked), asked   # offline
            assert page.locator("#best-plot circle").count() >= 1
            assert page.locator("#pareto-plot circle.front").count() >= 1

            # click into a complete trial: its choices and its architecture picture
            # (the table is redrawn as trials arrive, so rows are picked by trial number, not by position)
            row = page.locator("#trial-table tbody tr", has=page.locator(".state.complete")).first
            number = int(row.get_attribute("data-trial"))
            page.click(f"#trial-table tbody tr[data-trial='{number}'] td:nth-child(2)")
            page.wait_for_selector("#detail:not([hidden])")
            assert page.inner_text("#detail-title").startswith(f"Trial #{number}: complete")
            assert "cell.edge[0->1]" in page.inner_text("#detail-choices")
            if shutil.which("dot"):
                img = page.wait_for_selector("#trial-picture img", timeout=20000)
                page.wait_for_function("document.querySelector('#trial-picture img').naturalWidth > 0")
                assert img.evaluate("i => i.naturalHeight") > 100
            else:
                assert "Graphviz is not installed" in page.wait_for_selector("#trial-picture .msg.warn").inner_text()
            assert "params (nasl.cost)" in page.inner_text("#detail-metrics")
            if shutil.which("dot"):       # the same trial's choices, highlighted in the picture of the space
                page.click("#tab-choices")
                page.wait_for_function("document.querySelector('#trial-picture img') && "
                                       "document.querySelector('#trial-picture').dataset.url.endsWith('choices.svg')"
                                       " && document.querySelector('#trial-picture img').naturalWidth > 0")
                page.click("#tab-arch")
                page.wait_for_selector("#trial-picture img")

            # two trials side by side
            for n in (0, 1):
                page.click(f"#trial-table tbody tr[data-trial='{n}'] input[type=checkbox]")
            page.wait_for_selector("#compare:not([hidden])")
            assert page.inner_text("#compare-title") == "Compare trial #0 and #1"
            assert "cell.edge[0->1]" in page.inner_text("#compare-table")

            # sort by the primary objective, best first, and filter to the complete trials
            page.select_option("#filter-state", "complete")
            page.click("#trial-table th:text-is('score')")
            page.click("#trial-table th:text-is('score')")
            scores = [float(s) for s in page.locator("#trial-table tbody tr td:nth-child(4)").all_inner_texts()]
            assert scores == sorted(scores, reverse=True)
            states = set(page.locator("#trial-table tbody .state").all_inner_texts())
            assert states == {"complete"}

            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")
            assert shot.stat().st_size > 10_000
            assert not errors, errors
        finally:
            browser.close()
