"""A worker that joins a shared crawl at any moment loses no page and fetches none twice.

The first worker starts a depth-limited crawl of four bench hosts; a second
worker ``--join``s it at one of several moments: before the first has even
registered the crawl, while the first is fetching robots.txt with its
frontier momentarily empty (the seeds taken, no page answered yet), and in the
middle of the crawl. Judged from outside: the fixture server's request log
(what each worker requested, told apart by its User-Agent) and the PostgreSQL
ledger against the pages within ``--depth`` links of a seed, computed from the
fixture web's own link graph.

Before crawler.depthbook a URL's depth was that of the first link seen to it;
with two workers answering in any order, pages within reach were reached along
a longer path first and their links cut at the limit (1,457 of 1,500 pages
stored at ``--depth 5``; 1,416 by one worker with Scrapy's LIFO queue).
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter, deque
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from fixtures.web import FixtureWeb
from fixtures.web.bench import BENCH_FORBIDDEN, _links, bench_host, page_path
from tests.crawler.crawlrun import path_of
from tests.crawler.test_scaleout import finish, ledger_rows, worker

HOSTS, PAGES, DEPTH = 4, 60, 4
JOINER = "https://joiner.example/bot"  # the joiner's --contact: its User-Agent tells its requests apart


def within_depth() -> set[tuple[str, str]]:
    """(host, path) of every bench page at most DEPTH links from a seed (breadth-first over the fixture's links)."""
    start = [(h, 0) for h in range(HOSTS)]
    dist = dict.fromkeys(start, 0)
    queue = deque(start)
    while queue:
        host, page = queue.popleft()
        if dist[(host, page)] >= DEPTH:
            continue
        for href, _ in _links(host, page, HOSTS, PAGES):
            if href.startswith(BENCH_FORBIDDEN):
                continue
            target = ((host + 1) % HOSTS, page) if href.startswith("http") else (
                host, 0 if href == "/" else int(href.rsplit("/", 1)[1]))
            if target not in dist:
                dist[target] = dist[(host, page)] + 1
                queue.append(target)
    return {(bench_host(h), page_path(p)) for h, p in dist}


def wait_for(check: Any, what: str, proc: subprocess.Popen[str], timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline and proc.poll() is None, f"never saw: {what}"
        time.sleep(0.01)


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.parametrize("moment", ["before-the-crawl-exists", "robots-and-empty-frontier", "mid-crawl"])
def test_a_joiner_at_any_moment_loses_no_page(moment: str, redis_url: str, redis_prefix: str, pg_url: str) -> None:
    expected = within_depth()
    assert len(expected) < HOSTS * PAGES  # the limit cuts: pages beyond it must not be requested
    crawl = f"join-{moment}"
    options = ("--depth", str(DEPTH), "--no-extract", "--concurrency", "8", "--delay", "0.3", "--idle", "2")
    keys = f"{redis_prefix}{crawl}:"
    with FixtureWeb(bench_hosts=HOSTS, bench_pages_per_host=PAGES) as web, \
            redis.Redis.from_url(redis_url) as client:
        seeds = [web.site(bench_host(h)).seed_url for h in range(HOSTS)]

        def pages_requested() -> int:
            return len([r for r in web.requests() if r.path.startswith("/page/")])

        joiner = None
        if moment == "before-the-crawl-exists":
            joiner = worker(web, redis_url, redis_prefix, crawl, pg_url, "--join", "--contact", JOINER, *options)
            time.sleep(1.0)
        first = worker(web, redis_url, redis_prefix, crawl, pg_url, *seeds, *options)
        try:
            if moment == "robots-and-empty-frontier":
                # the seeds are taken (seen, none left in the frontier) and no page is answered yet
                wait_for(lambda: client.scard(keys + "seen") >= HOSTS and client.zcard(keys + "requests") == 0
                         and pages_requested() == 0, "the seeds taken before any page", first)
            elif moment == "mid-crawl":
                wait_for(lambda: pages_requested() >= len(expected) // 6, "a sixth of the pages", first)
            if joiner is None:
                joiner = worker(web, redis_url, redis_prefix, crawl, pg_url, "--join", "--contact", JOINER,
                                *options)
            a, b = finish(first, timeout=120), finish(joiner, timeout=120)
        finally:
            first.kill()
            if joiner is not None:
                joiner.kill()
        log = web.requests()

    pages = [(r.host, r.path) for r in log if r.path == "/" or r.path.startswith("/page/")]
    twice = {k: n for k, n in Counter(pages).items() if n > 1}
    assert not twice, f"requested more than once: {twice}"
    assert not set(expected) - set(pages), f"never requested: {sorted(set(expected) - set(pages))[:8]}"
    assert set(pages) == expected, f"beyond --depth {DEPTH}: {sorted(set(pages) - expected)[:8]}"
    assert not [p for _, p in pages if p.startswith(BENCH_FORBIDDEN)]
    by_joiner = [r for r in log if JOINER in r.user_agent and (r.host, r.path) in expected]
    assert b["fetched"] == len(by_joiner) > 0, f"the joiner fetched nothing ({moment})"
    assert a["fetched"] + b["fetched"] == len(expected)
    assert a["finish_reason"] == b["finish_reason"] == "finished"
    with ledger_rows(pg_url) as conn:
        urls = Counter(row.url for row in conn.execute(sa.text("SELECT url FROM pages")))
    assert {(u.split("/")[2], path_of(u)) for u in urls} == expected
    assert max(urls.values()) == 1
