"""Hostile HTTP targets of our own, on 127.0.0.1: slow headers, slow body, endless body.

Each serves every request the same way, on raw sockets, so nothing in the
HTTP stack can tidy up what it sends. Every loop is bounded in time.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
MAX_SECONDS = 30.0  # no connection is served longer than this


def _serve(conn: socket.socket, mode: str, stop: threading.Event) -> None:
    started = time.monotonic()
    try:
        conn.settimeout(2)
        conn.recv(4096)
        if mode == "slow-headers":
            # Never finishes its headers: one byte every 0.3 s.
            for byte in HEAD + b"X-Pad: " + b"a" * 10_000:
                if stop.is_set() or time.monotonic() - started > MAX_SECONDS:
                    return
                conn.sendall(bytes([byte]))
                time.sleep(0.3)
        elif mode == "slow-body":
            conn.sendall(HEAD + b"Content-Length: 100000\r\n\r\nUser-agent: *\n")
            while not stop.is_set() and time.monotonic() - started < MAX_SECONDS:
                conn.sendall(b"#")
                time.sleep(0.3)
        elif mode == "huge-body":
            conn.sendall(HEAD + b"\r\n")  # no length: the body ends when we close
            chunk = b"Disallow: /x\n" * 8192
            sent = 0
            while not stop.is_set() and sent < 200 * 1024 * 1024 and time.monotonic() - started < MAX_SECONDS:
                conn.sendall(chunk)
                sent += len(chunk)
    except OSError:
        return
    finally:
        conn.close()


@contextmanager
def hostile_target(mode: str) -> Iterator[str]:
    """A server that answers every request in ``mode``; yields its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_serve, args=(conn, mode, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()
