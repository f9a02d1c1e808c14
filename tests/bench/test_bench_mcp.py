"""What the MCP ``fetch`` tool costs over a plain HTTP GET of the same page.

Run with ``make bench``. One ``fairfetch mcp`` server (stdio, the SDK's own
client) and a plain ``httpx`` client fetch the same allowed pages of one
bench host of the fixture web, through its proxy on loopback, interleaved
page by page: the plain GET first (so the fixture server has the page
built and cached for both), then the tool call. The origin's robots.txt
(and tdmrep.json) are read before timing starts, so the figure is the
per-page cost: the decision before the request, the request, the judgement
of the response, extraction, classification, the ledger write and the MCP
round trip. Each page is fetched once by the tool (a repeat would come from
the server's paging cache).

Reported: median of each side, the median overhead in milliseconds, the
ratio, and the MCP round trip alone (the same pages again, answered from the
paging cache without a request); asserted: median overhead below
``MAX_OVERHEAD_MS``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import httpx
import pytest

from fixtures.web import FixtureWeb
from tests.mcp.session import Mcp, stdio_session

pytestmark = pytest.mark.bench

PAGES = 60
MAX_OVERHEAD_MS = 100.0


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(bench_hosts=1, bench_pages_per_host=PAGES + 1) as w:
        yield w


def test_bench_mcp_fetch_overhead_over_plain_get(web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> None:
    db = f"sqlite:///{tmp_path_factory.mktemp('bench-mcp') / 'ledger.sqlite'}"
    base = "http://bench-00.example"
    plain_ms: list[float] = []
    tool_ms: list[float] = []
    with httpx.Client(proxy=web.proxy_url, timeout=10) as client, stdio_session(web, "--db", db) as mcp:
        warm(mcp, client, base)
        for n in range(1, PAGES + 1):
            url = f"{base}/page/{n}"
            started = time.perf_counter()
            response = client.get(url)
            plain_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            started = time.perf_counter()
            result = mcp.call("fetch", url=url)
            tool_ms.append((time.perf_counter() - started) * 1000)
            assert not result.is_error
        cached_ms = []
        for n in range(1, PAGES + 1):  # the same pages again: from the paging cache, no request
            started = time.perf_counter()
            mcp.call("fetch", url=f"{base}/page/{n}")
            cached_ms.append((time.perf_counter() - started) * 1000)
    cached = statistics.median(cached_ms)
    plain, tool = statistics.median(plain_ms), statistics.median(tool_ms)
    overhead = statistics.median(t - p for t, p in zip(tool_ms, plain_ms, strict=True))
    print(f"\nMCP fetch vs plain httpx GET, {PAGES} pages: plain median {plain:.2f} ms, "
          f"fetch median {tool:.2f} ms, overhead median {overhead:.2f} ms, ratio {tool / plain:.1f}x; "
          f"MCP round trip of a cached page {cached:.2f} ms")
    assert overhead < MAX_OVERHEAD_MS


def warm(mcp: Mcp, client: httpx.Client, base: str) -> None:
    """robots.txt and tdmrep.json read (cached 24 h), the server's first-call imports done."""
    client.get(f"{base}/")
    assert not mcp.call("fetch", url=f"{base}/").is_error
