"""The checker against targets and clients that try to hurt it.

Slow headers and slow bodies cannot stretch a check past its deadline; a huge
body is cut at its cap; hostile strings in every field of an uploaded file
set are escaped; 200 concurrent requests and hundreds of idle half-open
connections leave the server's threads and memory bounded.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import threading
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest

from crawler.checker.fetch import Limits
from crawler.checker.live import check
from crawler.checker.server import ServiceConfig
from tests.checker.hostile import hostile_target
from tests.checker.service import running_service

pytestmark = pytest.mark.slow

DEADLINE = 2.0
LIMITS = Limits(timeout=DEADLINE, deadline=DEADLINE, allow_private=True)
XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.mark.parametrize("mode", ["slow-headers", "slow-body"])
def test_a_slow_target_cannot_outlast_the_deadline(mode: str) -> None:
    with hostile_target(mode) as base:
        started = time.monotonic()
        report = check(base + "/", limits=LIMITS)
        elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + 0.8, elapsed
    robots = report.documents[0]
    assert robots.error is not None and robots.error.startswith("timeout")
    assert "robots-unreachable" in {p.code for p in report.problems}  # read as 'disallow everything'


def test_a_huge_body_is_cut_at_its_cap_without_holding_it() -> None:
    tracemalloc.start()
    try:
        with hostile_target("huge-body") as base:
            started = time.monotonic()
            report = check(base + "/", limits=Limits(timeout=5, deadline=8, allow_private=True))
            elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    robots = report.documents[0]
    assert robots.truncated and robots.bytes == 512_000
    assert "robots-too-large" in {p.code for p in report.problems}
    assert elapsed < 8 + 1 and peak < 40 * 1024 * 1024, (elapsed, peak)  # within the deadline, memory capped


def _threads() -> int:
    return threading.active_count()


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_200_concurrent_checks_get_a_clear_503_and_stay_bounded() -> None:
    config = ServiceConfig(limits=LIMITS, max_checks=4, rate_per_minute=10_000)
    with hostile_target("slow-headers") as target, running_service(config) as base:
        threads_before, rss_before = _threads(), _rss_kib()
        peak_threads = threads_before

        async def one(client: httpx.AsyncClient) -> httpx.Response:
            return await client.get(base + "/api/check", params={"url": target + "/"})

        async def storm() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
            async with httpx.AsyncClient(trust_env=False, timeout=30, limits=limits) as client:
                return await asyncio.gather(*(one(client) for _ in range(200)))

        def watch(stop: threading.Event) -> None:
            nonlocal peak_threads
            while not stop.is_set():
                peak_threads = max(peak_threads, _threads())
                time.sleep(0.05)

        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(stop,), daemon=True)
        watcher.start()
        started = time.monotonic()
        responses = asyncio.run(storm())
        elapsed = time.monotonic() - started
        stop.set()
        watcher.join(2)
        rss_growth = _rss_kib() - rss_before
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) + statuses.count(503) == 200
    assert 1 <= statuses.count(200) <= 8 and statuses.count(503) >= 190
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] and "checks are running" in busy.json()["error"]
    assert busy.headers["content-security-policy"].startswith("default-src 'none'")
    assert elapsed < DEADLINE * 3 + 5
    assert peak_threads - threads_before < 30, (threads_before, peak_threads)
    assert rss_growth < 150 * 1024, rss_growth


def test_idle_and_slow_loris_connections_are_closed_without_threads() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    count = min(300, soft // 4)
    config = ServiceConfig(limits=LIMITS, request_timeout=1.0)
    with running_service(config) as base:
        port = int(base.rsplit(":", 1)[1])
        threads_before = _threads()
        socks = []
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # a head that never ends
            socks.append(s)
        assert _threads() - threads_before < 5
        time.sleep(1.5)
        closed = 0
        for s in socks:
            s.settimeout(3)
            try:
                closed += s.recv(1) == b""
            except OSError:
                closed += 1
            s.close()
        assert closed == count
        # And the server still answers.
        assert httpx.get(base + "/", trust_env=False, timeout=5).status_code == 200


def test_rate_limit_per_client_is_429_with_retry_after() -> None:
    config = ServiceConfig(limits=Limits(timeout=2, deadline=2), rate_per_minute=3)
    with running_service(config) as base:
        codes = []
        with httpx.Client(trust_env=False, timeout=10) as client:
            for _ in range(5):
                r = client.get(base + "/api/check", params={"url": "http://127.0.0.1:9/"})
                codes.append(r.status_code)
            assert client.get(base + "/").status_code == 200  # the form is never limited
        assert codes[:3] == [400, 400, 400] and codes[3:] == [429, 429]  # refused targets count too
        assert "retry-after" in r.headers and r.headers["x-content-type-options"] == "nosniff"


def test_hostile_uploads_are_escaped_everywhere_and_bodies_are_capped() -> None:
    config = ServiceConfig(limits=LIMITS, max_body=200_000)
    robots = f"User-agent: *\nDisallow: /{XSS}\nContent-Signal: ai-train=no, {XSS}=yes\n{XSS}: 1\n"
    licence = f'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><{XSS[2:9]} a="{XSS}"/></content></rsl>'
    html = f"<html><head><meta name=robots content='noai, max-snippet:{XSS}'></head><body>x</body></html>"
    with running_service(config) as base, httpx.Client(trust_env=False, timeout=20) as client:
        files = {"robots_file": (f"{XSS}.txt", robots.encode()), "rsl_file": (f"{XSS}.xml", licence.encode()),
                 "html_file": (XSS, html.encode())}
        r = client.post(base + "/check", data={"url": f"https://a.example/{XSS}", "headers": f"X-Robots-Tag: {XSS}"},
                        files=files)
        assert r.status_code == 200, r.text[:500]
        assert "<script" not in r.text and "<img" not in r.text and "onerror=alert" not in r.text.replace(
            "onerror=alert(2)&gt;", "")
        assert "&lt;script&gt;" in r.text
        big = client.post(base + "/api/check", data={"url": "https://a.example/"},
                          files={"robots_file": ("robots.txt", b"#" * 300_000)})
        assert big.status_code == 413 and big.headers["content-security-policy"]
