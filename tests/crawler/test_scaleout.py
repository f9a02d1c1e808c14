"""Scale-out on Redis: two ``fairfetch crawl`` workers share one frontier, one signal cache and one ledger.

Everything runs for real: the fixture web in a subprocess, two worker
subprocesses through the CLI, Redis and PostgreSQL on 127.0.0.1. The server's
request log is the judge of what went over the wire.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy import Spider
from scrapy.crawler import Crawler

from crawler.crawlkeys import CrawlKeys, ScaleOutError, check_crawl_id
from crawler.middlewares.signal_download import Fetched, decode_fetched, encode_fetched
from crawler.scaleout import LOCK_MS, ScaleOut, register_seeds, safe_url
from fixtures.web import FixtureWeb
from tests.crawler.crawlrun import FAIRFETCH, REPO, crawl_env, path_of


def worker(
    web: FixtureWeb, redis_url: str, prefix: str, crawl_id: str, db_url: str, *args: str
) -> subprocess.Popen[str]:
    # "--idle 3" first: a test's own --idle comes later on the command line, and the last one wins.
    command = [
        str(FAIRFETCH), "crawl", "--idle", "3", *args, "--redis", redis_url, "--redis-prefix", prefix,
        "--crawl-id", crawl_id, "--db", db_url, "--json",
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


@pytest.mark.services
@pytest.mark.slow
def test_two_workers_fetch_every_page_once_and_share_robots(
    bench_web: FixtureWeb, redis_url: str, redis_prefix: str, pg_url: str
) -> None:
    web = bench_web
    bench = [h for h in web.hosts if h.startswith("bench-")]
    seeds = [web.site(h).seed_url for h in bench]
    a, b = two_workers(web, redis_url, redis_prefix, "bench-run", pg_url, seeds, "--depth", "0", "--no-extract")

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


@pytest.mark.services
@pytest.mark.slow
def test_enforcement_is_the_same_in_scale_out_mode(redis_url: str, redis_prefix: str, pg_url: str) -> None:
    """The whole fixture web by two workers: the expectations the single-worker suite holds, hold."""
    # hang.example must outlast --robots-timeout: a socket closed without an answer is retried by
    # Twisted's connection pool, and that second robots.txt request would not be ours to count.
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0, hang_seconds=30) as web:
        seeds = list(web.seeds())
        for host in web.hosts:  # every expected path, so each decision is tested even where no link leads
            expected = web.site(host).expected
            seeds += [f"http://{host}{p}" for p in [*expected["stored_paths"], *expected["refused_paths"]]]
        a, b = two_workers(web, redis_url, redis_prefix, "whole-web", pg_url, list(dict.fromkeys(seeds)),
                           "--robots-timeout", "2", "--depth", "4")
        log = web.requests()
        sites = {h: web.site(h).expected for h in web.hosts}
    assert a["fetched"] > 0 and b["fetched"] > 0
    robots = Counter(r.host for r in log if r.path == "/robots.txt")
    for host, expected in sites.items():
        requested = [r.path for r in log if r.host == host and r.path != "/robots.txt"]
        forbidden = [p for p in requested if any(p.startswith(f) for f in expected["forbidden_paths"])]
        assert not forbidden, f"{host}: robots.txt Disallow ignored in scale-out mode: {forbidden}"
        if "robots_requests_max" not in expected:  # a redirect loop's hops are logged as robots requests
            assert robots[host] == expected["robots_fetches"], host
    with ledger_rows(pg_url) as conn:
        pages = {row.url: row for row in conn.execute(sa.text("SELECT url, text, decisions FROM pages"))}
    for host, expected in sites.items():
        for path in expected["stored_paths"]:
            page = pages.get(f"http://{host}{path}")
            assert page is not None and page.text, f"not stored with text: {host}{path}"
            assert page.decisions["ai-input"]["allowed"] is True
        for path in expected["refused_paths"]:
            page = pages.get(f"http://{host}{path}")
            assert page is None or page.text is None, f"refused but stored with text: {host}{path}"


@pytest.mark.services
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
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) >= len(site.expected["stored_paths"])
    assert min(gaps) >= site.expected["crawl_delay"], [round(g, 2) for g in gaps]


@pytest.mark.services
@pytest.mark.slow
def test_a_killed_workers_requests_are_taken_back_and_nothing_is_lost(
    redis_url: str, redis_prefix: str, pg_url: str
) -> None:
    """kill -9 one of two workers mid-crawl: the survivor puts its leased requests back and finishes the crawl.

    Without leases, the requests the killed worker had taken from the shared
    frontier (up to its concurrency, plus the pipeline's unwritten batch) are
    gone from Redis and never reach the ledger.
    """
    with FixtureWeb(bench_hosts=3, bench_pages_per_host=30) as web:
        bench = [h for h in web.hosts if h.startswith("bench-")]
        seeds = [web.site(h).seed_url for h in bench]
        # --delay keeps the crawl slow enough (about 0.2 s per page per origin) to kill it halfway,
        # with requests waiting in the killed worker's download slots.
        options = ("--depth", "0", "--no-extract", "--delay", "0.2", "--lease", "2")
        victim = worker(web, redis_url, redis_prefix, "killed", pg_url, *seeds, *options)
        survivor: subprocess.Popen[str] | None = None
        try:
            time.sleep(0.3)
            survivor = worker(web, redis_url, redis_prefix, "killed", pg_url, "--join", *options)
            deadline = time.monotonic() + 40
            while len([r for r in web.requests() if r.path.startswith("/page/")]) < 25:
                assert time.monotonic() < deadline and victim.poll() is None, "the crawl never got going"
                time.sleep(0.05)
            victim.kill()  # SIGKILL: no clean shutdown, no final ledger batch
            victim.wait(timeout=10)
            summary = finish(survivor, timeout=120)
        finally:
            victim.kill()
            if survivor is not None:
                survivor.kill()
        expected = {(h, p) for h in bench for p in web.site(h).expected["stored_paths"]}

    assert summary["requests_reclaimed"] > 0, summary
    with ledger_rows(pg_url) as conn:
        urls = Counter(row.url for row in conn.execute(sa.text("SELECT url FROM pages")))
    stored = {(u.split("/")[2], path_of(u)) for u in urls}
    assert not expected - stored, f"lost with the killed worker: {sorted(expected - stored)[:5]}"
    assert stored == expected
    assert max(urls.values()) == 1, "a page is in the ledger twice"
    with redis.Redis.from_url(redis_url) as client:
        namespace = f"{redis_prefix}killed:"
        assert not client.keys(f"{namespace}lease:*"), "leases left behind after the crawl ended"
        assert client.scard(f"{namespace}workers") == 0


def test_leases_need_at_least_a_second() -> None:
    done = run_cli("http://a.example/", "--redis", "redis://x", "--lease", "0.5")
    assert done.returncode == 2 and "--lease must be at least 1 second" in done.stderr


# --- starting and joining --------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FAIRFETCH), "crawl", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--join", "--redis", "redis://127.0.0.1:6379/0"], "--join needs --redis URL and the --crawl-id"),
        (["--join", "--crawl-id", "c1"], "--join needs --redis URL"),
        (["http://a.example/", "--join", "--redis", "redis://x", "--crawl-id", "c1"], "--join takes no seed"),
        ([], "give at least one SEED_URL"),
        (["http://a.example/", "--redis", "redis://x", "--crawl-id", "no spaces"], "crawl id 'no spaces'"),
        (["http://a.example/", "--redis", "redis://x", "--idle", "0"], "--idle must be positive"),
        (["--join", "--redis", "redis://x", "--crawl-id", "c1", "--join-wait", "-1"], "--join-wait must not be"),
        (["http://a.example/", "--redis", "redis://x", "--jobdir", "j"], "--jobdir and --redis do not mix"),
    ],
)
def test_usage_errors_exit_2_with_a_plain_message(args: list[str], message: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr


def test_unreachable_redis_fails_before_crawling(tmp_path: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = run_cli("http://a.example/", "--redis", f"redis://:secret@127.0.0.1:{port}/0",
                   "--db", f"sqlite:///{tmp_path}/l.sqlite")
    assert proc.returncode == 1
    text = " ".join(proc.stderr.split())
    assert f"cannot reach Redis at redis://:***@127.0.0.1:{port}/0" in text
    assert "secret" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.services
def test_joining_an_unknown_crawl_waits_then_fails(redis_url: str, redis_prefix: str, tmp_path: Any) -> None:
    started = time.monotonic()
    proc = run_cli("--join", "--redis", redis_url, "--redis-prefix", redis_prefix, "--crawl-id", "nobody",
                   "--join-wait", "1", "--db", f"sqlite:///{tmp_path}/l.sqlite")
    assert proc.returncode == 1
    text = " ".join(proc.stderr.split())
    assert "waiting up to 1 s for crawl nobody to be started" in text
    assert "no crawl 'nobody' in Redis" in text and "after waiting 1 s" in text
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started >= 1


@pytest.mark.services
def test_a_joiner_waits_for_the_crawl_to_be_registered(redis_url: str, redis_prefix: str) -> None:
    """The joiner asks before the first worker registered the seeds: it waits, then joins."""
    keys = CrawlKeys(redis_prefix, "late")
    client = redis.Redis.from_url(redis_url)
    told: list[float] = []
    try:
        threading.Timer(0.5, lambda: register_seeds(client, keys, ["http://a.example/"], join=False)).start()
        started = time.monotonic()
        seeds = register_seeds(client, keys, [], join=True, wait=10,
                               waiting=lambda: told.append(time.monotonic() - started))
        waited = time.monotonic() - started
        assert seeds == ["http://a.example/"]
        assert len(told) == 1 and told[0] < 0.2
        assert 0.4 <= waited < 2
        with pytest.raises(ScaleOutError, match=r"after waiting 0\.3 s"):
            register_seeds(client, CrawlKeys(redis_prefix, "never"), [], join=True, wait=0.3)
    finally:
        client.close()


@pytest.mark.services
def test_seeds_are_registered_once_and_define_the_crawl(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    keys = CrawlKeys(redis_prefix, "seeded")
    try:
        seeds = ["http://a.example/", "http://b.example/"]
        assert register_seeds(client, keys, seeds, join=False) == seeds
        assert register_seeds(client, keys, [], join=True) == seeds
        assert register_seeds(client, keys, list(reversed(seeds)), join=False) == seeds  # a restart
        with pytest.raises(ScaleOutError, match="already runs with other seeds"):
            register_seeds(client, keys, ["http://c.example/"], join=False)
        with pytest.raises(ScaleOutError, match="no crawl 'other'"):
            register_seeds(client, CrawlKeys(redis_prefix, "other"), [], join=True)
    finally:
        client.close()


def test_crawl_ids_and_urls_in_messages() -> None:
    assert check_crawl_id("20261121T203000Z-ab12cd34") == "20261121T203000Z-ab12cd34"
    for bad in ("", "-lead", "a b", "a:b", "x" * 101, "a%s"):
        with pytest.raises(ScaleOutError):
            check_crawl_id(bad)
    assert safe_url("redis://user:pw@h:6379/0") == "redis://user:***@h:6379/0"
    assert safe_url("redis://h:6379/0") == "redis://h:6379/0"
    keys = CrawlKeys("pre:", "c1")
    assert {keys.requests, keys.seen, keys.seeds, keys.active} == {
        "pre:c1:requests", "pre:c1:seen", "pre:c1:seeds", "pre:c1:active"}
    assert keys.document("robots.txt", "http://a.example/robots.txt").startswith("pre:c1:doc:robots.txt:")


def test_a_fetched_document_survives_the_trip_through_redis() -> None:
    for doc in (
        Fetched("http://a/robots.txt", "http://b/r.txt", 200, b"User-agent: *\nDisallow: /x\n", None, 2, False, 7),
        Fetched("http://a/robots.txt", "http://a/robots.txt", None, None, "timeout: took too long", 0, False, None),
        Fetched("http://a/robots.txt", "http://a/robots.txt", 200, b"", None, 0, True, 3),
    ):
        encoded = encode_fetched(doc)
        assert decode_fetched({k.encode(): v for k, v in encoded.items()}) == doc


@settings(deadline=None)  # a loaded CI machine is no reason to fail a decoding property
@given(st.dictionaries(st.sampled_from([b"meta", b"body", b"other"]), st.binary(max_size=200)))
def test_a_foreign_hash_in_redis_is_refused_in_words(raw: dict[bytes, bytes]) -> None:
    try:
        doc = decode_fetched(raw)
    except ScaleOutError as exc:
        assert "not one fairfetch wrote" in str(exc)
    else:
        assert isinstance(doc, Fetched)


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from(["url", "status", "has_body", "redirects", "error", "signal_id",
                                        "final_url", "truncated"]),
                       st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.lists(st.integers())))
def test_a_hash_with_foreign_meta_is_refused_in_words(meta: dict[str, Any]) -> None:
    """Any other exception (a raw KeyError, TypeError ...) fails the test."""
    try:
        doc = decode_fetched({b"meta": json.dumps(meta).encode(), b"body": b"x"})
    except ScaleOutError as exc:
        assert "not one fairfetch wrote" in str(exc)
    else:
        assert doc.redirects == int(meta["redirects"])


# --- shared documents and pacing, two workers in one process --------------------------------


CODEC: dict[str, Any] = {"encode": encode_fetched, "decode": decode_fetched}


def worker_state(redis_url: str, prefix: str) -> ScaleOut:
    crawler = Crawler(Spider, {"FAIRFETCH_SIGNAL_TTL": 60})
    return ScaleOut(crawler, redis_url, CrawlKeys(prefix, "unit"), ttl=60)


@pytest.mark.services
def test_concurrent_workers_fetch_a_document_once(redis_url: str, redis_prefix: str) -> None:
    calls: list[str] = []
    doc = Fetched("http://a.example/robots.txt", "http://a.example/robots.txt", 200, b"ok", None, 0, False, 1)

    async def fetch() -> Fetched:
        calls.append("fetch")
        await asyncio.sleep(0.3)
        return doc

    async def main() -> list[Fetched]:
        workers = [worker_state(redis_url, redis_prefix) for _ in range(3)]
        try:
            return list(await asyncio.gather(*(w.fetch_once("robots.txt", doc.url, fetch, **CODEC)
                                               for w in workers)))
        finally:
            for w in workers:
                await w.close()

    assert asyncio.run(main()) == [doc, doc, doc]
    assert calls == ["fetch"]


@pytest.mark.services
def test_a_dead_fetchers_lock_lapses_and_another_worker_fetches(redis_url: str, redis_prefix: str) -> None:
    doc = Fetched("http://a.example/robots.txt", "http://a.example/robots.txt", 404, b"", None, 0, False, None)
    keys = CrawlKeys(redis_prefix, "unit")
    client = redis.Redis.from_url(redis_url)
    client.set(keys.lock("robots.txt", doc.url), "a-worker-that-died", px=400)
    client.close()

    async def fetch() -> Fetched:
        return doc

    async def main() -> tuple[Fetched, float]:
        w = worker_state(redis_url, redis_prefix)
        started = time.monotonic()
        try:
            return await w.fetch_once("robots.txt", doc.url, fetch, **CODEC), time.monotonic() - started
        finally:
            await w.close()

    got, waited = asyncio.run(main())
    assert got == doc
    assert 0.3 <= waited < LOCK_MS / 1000  # it waited for the dead holder's lock, and no longer


@pytest.mark.services
def test_pacing_spaces_requests_from_the_previous_answer_across_workers(
    redis_url: str, redis_prefix: str
) -> None:
    async def main() -> list[float]:
        a, b = worker_state(redis_url, redis_prefix), worker_state(redis_url, redis_prefix)
        origin, floor = "http://slow.example", 0.4
        started = time.monotonic()
        try:
            token = await a.claim(origin, floor, guard=5)
            claimed_a = time.monotonic() - started
            waiting = asyncio.ensure_future(b.claim(origin, floor, guard=5))
            await asyncio.sleep(0.3)  # a's request is "in flight": b must not go
            assert not waiting.done()
            answered = time.monotonic() - started
            await a.release(origin, token, floor)
            await b.release(origin, await waiting, floor)
            claimed_b = time.monotonic() - started
            return [claimed_a, answered, claimed_b]
        finally:
            await a.close()
            await b.close()

    claimed_a, answered, claimed_b = asyncio.run(main())
    assert claimed_a < 0.2
    assert claimed_b - answered >= 0.4 - 0.01  # the floor counts from a's answer, on Redis' clock


# --- Redis lost in the middle of a crawl --------------------------------------------------------


class TcpRelay:
    """A TCP relay to Redis that the test can cut, as a network failure or a Redis crash would."""

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.cut_off = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut_off:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.cut_off = True
        self.server.close()
        for s in self.sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.mark.services
@pytest.mark.slow
def test_a_worker_that_loses_redis_stops_and_says_so(redis_url: str, redis_prefix: str, pg_url: str) -> None:
    relay = TcpRelay(redis.Redis.from_url(redis_url).connection_pool.connection_kwargs["port"])
    with FixtureWeb(bench_hosts=0, bench_pages_per_host=0) as web:
        site = web.site("slow-delay.example")  # slow on purpose: ~2 s per page
        proc = worker(web, f"redis://127.0.0.1:{relay.port}/0", redis_prefix, "lost", pg_url, site.seed_url)
        try:
            deadline = time.monotonic() + 30
            while not [r for r in web.requests_for(site.host) if r.path.startswith("/diary/")]:
                assert time.monotonic() < deadline and proc.poll() is None, "the crawl never got going"
                time.sleep(0.1)
            relay.cut()
            cut_at = time.monotonic()
            out, err = proc.communicate(timeout=40)
            stopped_after = time.monotonic() - cut_at
        finally:
            proc.kill()
    assert proc.returncode == 1, err
    assert "stopped because Redis failed" in " ".join(err.split())
    summary = json.loads(out)
    assert summary["finish_reason"] == "redis_unavailable"
    assert summary["fetched"] < len(site.expected["stored_paths"])
    # It notices at its next Redis call and drops the requests queued for their turn (crawler.stopping).
    assert stopped_after < 15, f"took {stopped_after:.1f} s to stop"
