"""Scale-out on Redis: two ``fairfetch crawl`` workers share one frontier, one signal cache and one ledger.

Everything runs for real: the fixture web in a subprocess, two worker
subprocesses through the CLI, Redis and PostgreSQL on 127.0.0.1. The server's
request log is the judge of what went over the wire.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from crawler.middlewares.signals import Fetched
from crawler.scaleout import (
    CrawlKeys,
    ScaleOutError,
    check_crawl_id,
    decode_fetched,
    encode_fetched,
    register_seeds,
    safe_url,
)
from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import FAIRFETCH, REPO, crawl_env, path_of

pytestmark = pytest.mark.services


def worker(
    web: FixtureWeb, redis_url: str, prefix: str, crawl_id: str, db_url: str, *args: str
) -> subprocess.Popen[str]:
    command = [
        str(FAIRFETCH), "crawl", *args, "--redis", redis_url, "--redis-prefix", prefix,
        "--crawl-id", crawl_id, "--db", db_url, "--json", "--idle", "3", "--no-extract",
    ]
    return subprocess.Popen(command, env=crawl_env(web), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 90) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker failed ({proc.returncode}):\n{err}\n{out}"
    summary: dict[str, Any] = json.loads(out)
    return summary


def two_workers(
    web: FixtureWeb, redis_url: str, prefix: str, crawl_id: str, db_url: str, seeds: list[str], *options: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first worker starts the crawl with the seeds; the second joins it; both run to the end."""
    first = worker(web, redis_url, prefix, crawl_id, db_url, *seeds, *options)
    try:
        time.sleep(0.3)  # the first worker registers the seeds; the second joins the crawl
        second = worker(web, redis_url, prefix, crawl_id, db_url, "--join", *options)
        try:
            return finish(first), finish(second)
        finally:
            second.kill()
    finally:
        first.kill()


@contextmanager
def ledger_rows(db_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@pytest.fixture
def bench_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(bench_hosts=4, bench_pages_per_host=30) as web:
        yield web


# --- two workers, one crawl -------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_fetch_every_page_once_and_share_robots(
    bench_web: FixtureWeb, redis_url: str, redis_prefix: str, pg_url: str
) -> None:
    web = bench_web
    bench = [h for h in web.hosts if h.startswith("bench-")]
    seeds = [web.site(h).seed_url for h in bench]
    a, b = two_workers(web, redis_url, redis_prefix, "bench-run", pg_url, seeds, "--depth", "0")

    log = web.requests()
    per_page = Counter((r.host, r.path) for r in log if r.path != "/robots.txt")
    robots = Counter(r.host for r in log if r.path == "/robots.txt")
    duplicates = {k: n for k, n in per_page.items() if n > 1}
    assert not duplicates, f"fetched more than once across the workers: {duplicates}"
    assert robots == dict.fromkeys(bench, 1), f"robots.txt per origin across both workers: {robots}"
    # the one fetch was shared: together the workers fetched each origin's robots.txt once
    assert a["signal_fetches"].get("robots.txt", 0) + b["signal_fetches"].get("robots.txt", 0) == len(bench)
    assert a["shared_signal_reads"] + b["shared_signal_reads"] > 0

    expected = {(h, p) for h in bench for p in web.site(h).expected["stored_paths"]}
    assert expected <= set(per_page), f"never requested: {sorted(expected - set(per_page))[:5]}"
    assert not [p for (_, p) in per_page if p.startswith("/private/")], "a robots.txt Disallow was ignored"
    assert a["fetched"] > 0 and b["fetched"] > 0, f"one worker did nothing: {a['fetched']} / {b['fetched']}"
    assert a["fetched"] + b["fetched"] == len(expected)
    assert a["crawl_id"] == b["crawl_id"] == "bench-run"

    with ledger_rows(pg_url) as conn:
        pages = conn.execute(sa.text("SELECT url, crawl_id, decisions, signal_ids FROM pages")).all()
        runs = conn.execute(sa.text("SELECT runs FROM crawls WHERE id = 'bench-run'")).scalar_one()
        snapshots = conn.execute(sa.text(
            "SELECT origin, id, seen_count FROM signal_snapshots WHERE kind = 'robots.txt'"
        )).all()
    urls = Counter(row.url for row in pages)
    assert {(u.split("/")[2], path_of(u)) for u in urls} == expected
    assert max(urls.values()) == 1, "a page is in the ledger twice"
    assert {row.crawl_id for row in pages} == {"bench-run"}
    # One robots.txt snapshot per origin, seen once: the second worker used the first one's copy...
    assert sorted(o for o, _, _ in snapshots) == sorted(f"http://{h}" for h in bench)
    assert {n for _, _, n in snapshots} == {1}
    robots_id = {origin: sid for origin, sid, _ in snapshots}
    for row in pages:
        # ...and every page, whichever worker fetched it, cites that snapshot as its evidence,
        assert robots_id[f"http://{row.url.split('/')[2]}"] in row.signal_ids, row.url
        # with a decision and its reasons for every usage.
        assert set(row.decisions) == {"search", "ai-index", "ai-input", "ai-train"}
        assert all(d["reasons"] for d in row.decisions.values())
    assert runs == 2  # each worker registered its start of the one crawl


def test_forbidden_path_never_requested_in_scale_out_mode(
    redis_url: str, redis_prefix: str, pg_url: str
) -> None:
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0) as web:
        seeds = [web.site(h).seed_url for h in ("agents.example", "open.example")]
        a, b = two_workers(web, redis_url, redis_prefix, "forbidden", pg_url, seeds)
        log = web.requests()
    agents = [r.path for r in log if r.host == "agents.example"]
    assert agents.count("/robots.txt") == 1
    assert not [p for p in agents if p.startswith("/members/")], agents
    assert any(p.startswith("/drafts/") for p in agents)  # the named group replaces '*'
    with ledger_rows(pg_url) as conn:
        refused = conn.execute(sa.text(
            "SELECT url FROM fetch_log WHERE outcome = 'refused' AND url LIKE 'http://agents.example/members/%'"
        )).all()
    assert refused, "the refusal of the disallowed link is not in the ledger"
    assert a["refused"] + b["refused"] >= len(refused)


@pytest.mark.slow
def test_crawl_delay_holds_across_two_workers(redis_url: str, redis_prefix: str, pg_url: str) -> None:
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0) as web:
        site = web.site("slow-delay.example")
        # One request in flight per worker: neither can hoard the host's pages, both take turns.
        a, b = two_workers(web, redis_url, redis_prefix, "slow", pg_url, [site.seed_url], "--concurrency", "1")
        log = web.requests_for("slow-delay.example")
    assert a["fetched"] > 0 and b["fetched"] > 0, f"not both workers fetched: {a['fetched']} / {b['fetched']}"
    assert a["fetched"] + b["fetched"] == len(site.expected["stored_paths"])
    # robots.txt sets the floor; every request after it (tdmrep.json, sitemap, pages) is paced
    times = [r.time for r in log if r.path != "/robots.txt"]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert len(times) >= len(site.expected["stored_paths"])
    assert min(gaps) >= site.expected["crawl_delay"], [round(g, 2) for g in gaps]
