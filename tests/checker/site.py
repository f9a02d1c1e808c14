"""A tiny real HTTP site on 127.0.0.1 for the checker's tests: fixed routes, a log of requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: str | bytes = ""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)


@dataclass
class LocalSite:
    routes: dict[str, Reply]
    base: str = ""
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)


@contextmanager
def local_site(routes: dict[str, Reply]) -> Iterator[LocalSite]:
    site = LocalSite(routes)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            site.seen.append((self.path, self.headers.get("Host", "")))
            reply = site.routes.get(self.path, Reply(404, "not found", (("Content-Type", "text/plain"),)))
            body = reply.body.encode() if isinstance(reply.body, str) else reply.body
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
