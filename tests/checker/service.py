"""The checker's web service, really served: by uvicorn in a background thread, or by ``fairfetch check --serve``."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import uvicorn

from crawler.checker.server import ServiceConfig, uvicorn_config
from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import FAIRFETCH, REPO, crawl_env


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


@contextmanager
def served_cli(web: FixtureWeb, **env: str) -> Iterator[str]:
    """``fairfetch check --serve`` as a user starts it (fixture proxy, private targets allowed); yields its base URL."""
    proc = subprocess.Popen(
        [str(FAIRFETCH), "check", "--serve", "--port", "0", "--allow-private", "--timeout", "10"],
        env={**crawl_env(web), **env}, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        announced = proc.stderr.readline()  # "fairfetch check: serving on http://127.0.0.1:PORT/ ..."
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", announced)
        assert match, announced
        base = f"http://127.0.0.1:{match.group(1)}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(base + "/", trust_env=False, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
