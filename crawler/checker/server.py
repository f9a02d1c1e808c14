"""A small web page for the checker on the standard library's ``ThreadingHTTPServer``.

``GET /`` a form; ``GET /check?url=...`` the HTML report; ``GET /check.json?url=...``
the JSON report; a 400 page for a refused or malformed target. Bound to
127.0.0.1 unless told otherwise. Every response carries a Content-Security-
Policy that allows no script and no external resource, ``nosniff`` and
``no-referrer``; request lines and queries are size-limited, and only GET
and HEAD are served.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from crawler.checker.fetch import Limits
from crawler.checker.guard import Refused
from crawler.checker.render_html import render_form, render_html, render_refusal
from crawler.checker.report import check

MAX_REQUEST_LINE = 4096
MAX_URL = 2048
SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
)


class CheckServer(ThreadingHTTPServer):
    """The server; ``limits`` apply to every check it runs."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], limits: Limits) -> None:
        super().__init__(address, CheckHandler)
        self.limits = limits


class CheckHandler(BaseHTTPRequestHandler):
    server: CheckServer
    server_version = "fairfetch-check"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # quiet: no request log on stderr
        return

    def handle_one_request(self) -> None:
        """As the base class, with a request line of at most ``MAX_REQUEST_LINE`` bytes."""
        self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.requestline = ""
            self.request_version = "HTTP/1.1"
            self.command = "GET"
            self._send(414, "text/plain; charset=utf-8", b"request line too long\n")
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        method = getattr(self, "do_" + self.command, None)
        if method is None:
            self._send(405, "text/plain; charset=utf-8", b"only GET and HEAD\n", extra=(("Allow", "GET, HEAD"),))
            return
        method()
        self.wfile.flush()

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/":
            self._html(200, render_form())
            return
        if parts.path not in ("/check", "/check.json"):
            self._send(404, "text/plain; charset=utf-8", b"not found\n")
            return
        want_json = parts.path == "/check.json"
        if len(parts.query) > MAX_URL * 3:
            self._refuse("the query is too long", "", want_json)
            return
        values = parse_qs(parts.query).get("url", [])
        url = values[0].strip() if values else ""
        if not url:
            self._refuse("give the URL to check: ?url=https://your.site/page", "", want_json)
            return
        if len(url) > MAX_URL:
            self._refuse(f"the URL is longer than {MAX_URL} characters", "", want_json)
            return
        try:
            report = check(url, limits=self.server.limits)
        except Refused as exc:
            self._refuse(str(exc), url, want_json)
            return
        if want_json:
            self._send(200, "application/json", report.model_dump_json(indent=2).encode())
        else:
            self._html(200, render_html(report))

    def _refuse(self, message: str, url: str, want_json: bool) -> None:
        if want_json:
            self._send(400, "application/json", json.dumps({"error": message}).encode())
        else:
            self._html(400, render_refusal(message, url))

    def _html(self, status: int, text: str) -> None:
        self._send(status, "text/html; charset=utf-8", text.encode("utf-8"))

    def _send(self, status: int, ctype: str, body: bytes, extra: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (*SECURITY_HEADERS, *extra):
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def make_server(host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None) -> CheckServer:
    """A bound server (``port=0``: any free port, see ``server_address``); call ``serve_forever``."""
    return CheckServer((host, port), limits or Limits())


def serve_in_thread(server: CheckServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="checker-web", daemon=True)
    thread.start()
    return thread
