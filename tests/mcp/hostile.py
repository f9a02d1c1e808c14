"""A hostile web of our own for the MCP server's tests, served as an HTTP proxy.

Requests for ``hostile.invalid`` get the traps below; every other host is
relayed to the fixture web's proxy, so one proxy serves both. Each trap is
one class of attack on a fetcher: no answer at all, headers dribbled a byte
at a time, a header flood, an endless body, redirects into the private
network.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HOST = "hostile.invalid"
PAGE = (b"<!doctype html><html><head><title>Quiet page</title></head><body><article><h1>Quiet page</h1>"
        b"<p>The lighthouse keeper logged every passing ship in a leather-bound book for forty years.</p>"
        b"</article></body></html>")

LATIN1 = ('<!doctype html><html lang="fr"><head><meta charset="iso-8859-1"><title>Le caf\u00e9 du port</title>'
          "</head><body><article><h1>Le caf\u00e9 du port</h1><p>Le caf\u00e9 cr\u00e8me co\u00fbte deux euros "
          "\u00e0 No\u00ebl, et la terrasse reste ouverte jusqu'\u00e0 la mar\u00e9e haute du soir.</p>"
          "<p>Die Stra\u00dfe \u00fcber den Deich ist im Winter gesperrt, sagt der Hafenmeister.</p>"
          "</article></body></html>")


@dataclass
class Hostile:
    proxy_url: str = ""
    port: int = 0
    seen: list[str] = field(default_factory=list)  # absolute URLs requested


def _send(conn: socket.socket, data: bytes) -> None:
    with suppress(OSError):
        conn.sendall(data)


def _trap(conn: socket.socket, path: str, hostile: Hostile) -> None:
    if path == "/robots.txt":
        _send(conn, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    elif path == "/ok":
        _send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
              + str(len(PAGE)).encode() + b"\r\nConnection: close\r\n\r\n" + PAGE)
    elif path == "/snippet":  # a publisher allowing excerpts of at most 40 characters
        page = PAGE.replace(b"<head>", b'<head><meta name="robots" content="max-snippet:40">')
        _send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
              + str(len(page)).encode() + b"\r\nConnection: close\r\n\r\n" + page)
    elif path == "/latin1":  # declared only in <meta>, as many older European sites do
        page = LATIN1.encode("iso-8859-1")
        _send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
              + str(len(page)).encode() + b"\r\nConnection: close\r\n\r\n" + page)
    elif path.startswith("/go-"):
        target = {"/go-metadata": "http://169.254.169.254/latest/meta-data/",
                  "/go-loopback": f"http://127.0.0.1:{hostile.port}/ok"}[path]
        _send(conn, f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n".encode())
    elif path == "/hang":
        time.sleep(8)  # says nothing at all
    elif path == "/drip":
        _send(conn, b"HTTP/1.1 200 OK\r\nX-Drip: ")
        for _ in range(40):
            time.sleep(0.2)
            _send(conn, b"a")
    elif path == "/header-flood":
        head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Flood-%d: %s\r\n" % (i, b"f" * 90) for i in range(3000))
        _send(conn, head + b"Content-Length: 2\r\nConnection: close\r\n\r\nok")
    elif path == "/endless":
        _send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body>")
        for _ in range(400):  # 4 MB if nobody stops reading
            _send(conn, b"<p>" + b"more " * 2000 + b"</p>")
    else:
        _send(conn, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def _relay(conn: socket.socket, url: str, headers: dict[str, str], upstream: str) -> None:
    parts = urlsplit(upstream)
    client = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=20)
    try:
        client.request("GET", url, headers={k: v for k, v in headers.items() if k.lower() != "connection"})
        response = client.getresponse()
        body = response.read()
        head = f"HTTP/1.1 {response.status} {response.reason}\r\n"
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                head += f"{name}: {value}\r\n"
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        _send(conn, head.encode("latin-1") + body)
    finally:
        client.close()


@contextmanager
def hostile_proxy(upstream: str) -> Iterator[Hostile]:
    hostile = Hostile()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            conn: socket.socket = self.request
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            if not target.startswith("http://"):
                target = f"http://{headers.get('Host', '127.0.0.1')}{target}"
            hostile.seen.append(target)
            url = urlsplit(target)
            if url.hostname == HOST or url.hostname == "127.0.0.1":
                _trap(conn, url.path, hostile)
            else:
                _relay(conn, target, headers, upstream)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    hostile.port = server.server_address[1]
    hostile.proxy_url = f"http://127.0.0.1:{hostile.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hostile
    finally:
        server.shutdown()
        server.server_close()
