"""The dashboard's HTTP server: the page, its static files and the JSON endpoints.

The standard library's ``ThreadingHTTPServer`` serves it (no dependency):
the page polls a few small endpoints, so a thread per request is plenty
(docs/decisions.md). Only GET exists: the server has no way to change a
study. Endpoints (all JSON unless ``.svg``):

- ``/api/summary``: settings, counts by state, budget, a change ``stamp``;
- ``/api/trials[?state=S][&since=T]``: every trial (changed since T); ``/api/trials/N``: one, with its cost;
- ``/api/best``: best so far per objective; ``/api/pareto[?x=A&y=B]``;
- ``/api/compare?a=N&b=M``: two trials side by side;
- ``/api/oneshot``: a one-shot run's per-epoch alphas (``available: false`` when none);
- ``/api/lineage``: the tree of parents and transformations (``available: false`` when no trial has a parent);
- ``/api/space.svg``, ``/api/trials/N/arch.svg``, ``/api/trials/N/choices.svg``:
  pictures; 503 with ``{"error": why}`` when Graphviz is missing.
"""
from __future__ import annotations

import errno
import http.server
import ipaddress
import json
import re
import socket
import sys
import threading
import urllib.parse
from importlib import resources

from nasl.dashboard.data import DashboardError, StudyData
from nasl.dashboard.pictures import PictureUnavailable, Pictures

STATIC = {"index.html": "text/html", "app.js": "text/javascript", "charts.js": "text/javascript",
          "style.css": "text/css"}
_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
_TRIAL = re.compile(r"^/api/trials/(-?\d+)(?:/(arch|choices)\.svg)?$")


class NotFound(DashboardError):
    """A URL the dashboard does not serve, or a trial the study does not have."""


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "nasl-dashboard"
    data: StudyData           # set on the subclass that make_server builds
    pictures: Pictures

    def do_GET(self):  # noqa: N802 - the name http.server calls
        if not self._host_allowed():
            return self._json({"error": "this dashboard answers only to localhost"}, 403)
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            self._route(url.path, query)
        except (BrokenPipeError, ConnectionResetError):
            pass                                   # the page went away mid-answer
        except PictureUnavailable as e:
            self._json({"error": str(e)}, 503)
        except NotFound as e:
            self._json({"error": e.message}, 404)
        except DashboardError as e:
            self._json({"error": e.message}, 400)
        except Exception as e:  # noqa: BLE001 - one failed request must not stop the server
            print(f"nasl dashboard: {self.path}: {type(e).__name__}: {e}", file=sys.stderr)
            self._json({"error": f"{type(e).__name__}: {e}"}, 500)

    def _host_allowed(self) -> bool:
        """On a loopback address, only pages served from localhost may ask.

        A web page elsewhere could point its own domain name at 127.0.0.1
        (DNS rebinding) and read the study. Its requests carry that name in
        ``Host``. With ``--host 0.0.0.0`` the user chose to be reachable.
        """
        if self.server.local_names is None:
            return True
        host = self.headers.get("Host", "")
        name = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
        return name.lower() in self.server.local_names

    def _route(self, path: str, q: dict) -> None:
        if path in ("/", "/index.html"):
            return self._static("index.html")
        if path.startswith("/static/") and path[len("/static/"):] in STATIC:
            return self._static(path[len("/static/"):])
        if path == "/api/summary":
            return self._json(self.data.summary())
        if path == "/api/trials":
            return self._json(self.data.trials(q.get("state") or None, _float(q, "since")))
        if path == "/api/best":
            return self._json(self.data.best_so_far())
        if path == "/api/pareto":
            return self._json(self.data.pareto(q.get("x"), q.get("y")))
        if path == "/api/compare":
            return self._json(self._compare(_int(q, "a"), _int(q, "b")))
        if path == "/api/oneshot":
            return self._json(self.data.oneshot())
        if path == "/api/lineage":
            return self._json(self.data.lineage())
        if path == "/api/space.svg":
            return self._svg(self.pictures.space_svg())
        m = _TRIAL.match(path)
        if m:
            trial = self._trial(int(m.group(1)))
            if m.group(2) == "arch":
                return self._svg(self.pictures.arch_svg(trial["arch"]))
            if m.group(2) == "choices":
                return self._svg(self.pictures.choices_svg(trial["arch"]))
            return self._json(dict(trial, cost=self.pictures.cost(trial["arch"])))
        raise NotFound(f"no page '{path}'")

    def _trial(self, number: int) -> dict:
        try:
            return self.data.trial(number)
        except DashboardError as e:
            raise NotFound(e.message) from None

    def _compare(self, a: int, b: int) -> dict:
        ta, tb = self._trial(a), self._trial(b)
        paths = list(dict.fromkeys([*ta["arch"], *tb["arch"]]))
        differ = [p for p in paths if ta["arch"].get(p, None) != tb["arch"].get(p, None)
                  or (p in ta["arch"]) != (p in tb["arch"])]
        return {"a": dict(ta, cost=self.pictures.cost(ta["arch"])),
                "b": dict(tb, cost=self.pictures.cost(tb["arch"])),
                "paths": paths, "differ": differ, "objectives": self.data.objectives}

    # ------------------------------------------------------------ answers
    def _send(self, body: bytes, ctype: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")         # a live study: always ask again
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj, status: int = 200) -> None:
        # allow_nan=False would fail on a metric like inf kept as text; NaN never reaches storage
        self._send(json.dumps(obj).encode("utf-8"), "application/json", status)

    def _svg(self, text: str) -> None:
        self._send(text.encode("utf-8"), "image/svg+xml")

    def _static(self, name: str) -> None:
        body = resources.files("nasl.dashboard").joinpath("static", name).read_bytes()
        self._send(body, STATIC[name])

    do_HEAD = do_GET

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass                                   # a request line per poll would drown the terminal


def _float(q: dict, name: str) -> float | None:
    if not q.get(name):
        return None
    try:
        return float(q[name])
    except ValueError:
        raise DashboardError(f"?{name}= takes a number (a summary's 'updated' time), not '{q[name]}'") from None


def _int(q: dict, name: str) -> int:
    try:
        return int(q[name])
    except (KeyError, ValueError):
        raise DashboardError(f"give the trial number as ?{name}=N") from None


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True          # Ctrl-C does not wait for a page's open request


def make_server(path, host: str = "127.0.0.1", port: int = 0):
    """A ready (not yet serving) dashboard server for the study at ``path``, and its URL.

    DashboardError for a missing file, a file that is not a study, or an
    address that cannot be bound (a port in use).
    """
    if not 0 <= int(port) <= 65535:
        raise DashboardError(f"--port {port} is not a port number (0 to 65535; 0 picks a free one)")
    data = StudyData(path)
    pictures = Pictures(data.study)
    handler = type("Handler", (_Handler,), {"data": data, "pictures": pictures})
    server_cls = _Server
    if ":" in host:                                # an IPv6 address such as ::1
        server_cls = type("Server6", (_Server,), {"address_family": socket.AF_INET6})
    try:
        server = server_cls((host, port), handler)
    except OSError as e:
        data.close()
        if e.errno == errno.EADDRINUSE:
            raise DashboardError(f"port {port} on {host} is in use; choose another with --port "
                                 f"(--port 0 picks a free one)") from None
        raise DashboardError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None
    server.data, server.pictures = data, pictures
    bound = server.server_address[0]
    server.local_names = _LOCAL_NAMES | {bound} if _is_loopback(bound) else None
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return server, f"http://{shown}:{bound_port}/"


def serve(path, host: str = "127.0.0.1", port: int = 8080, out=None) -> int:
    """Serve the dashboard until Ctrl-C; prints the URL first. Returns the exit status (0)."""
    out = out or sys.stdout
    server, url = make_server(path, host, port)
    threading.Thread(target=server.pictures.warm_up, daemon=True).start()
    print(f"nasl dashboard: {path} at {url} (Ctrl-C to stop)", file=out, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.data.close()
    return 0
