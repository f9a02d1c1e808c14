"""The checker's web service, really served by uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import uvicorn

from crawler.checker.server import ServiceConfig, uvicorn_config


@contextmanager
def running_service(config: ServiceConfig) -> Iterator[str]:
    """Serve ``config`` on a free port; yields the base URL; stops the server afterwards."""
    server = uvicorn.Server(uvicorn_config(replace(config, host="127.0.0.1", port=0)))
    thread = threading.Thread(target=server.run, name="checker-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the checker service did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
