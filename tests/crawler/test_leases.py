"""Leases on the shared frontier (crawler.leases), against real Redis and a real SQLite ledger.

The end-to-end proof (kill -9 of a worker, nothing lost) is in test_scaleout.py;
these pin down each step: the atomic pop, the two-look settling, reclaiming only
expired workers and only once, and the hand-back at a clean stop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from scrapy import Request, Spider

from crawler.crawlkeys import CrawlKeys
from crawler.leases import LEASES_ATTR, LeasedPriorityQueue, Leases
from crawler.ledger import FetchRecord, Ledger
from crawler.ledger.records import utc_now

pytestmark = pytest.mark.services

CRAWL = "leases"


class _Crawler:
    """Just what the queue reads: ``spider.crawler`` -> the worker's ScaleOut (here: its Leases)."""


class _Spider(Spider):
    name = "fair"


@pytest.fixture
def server(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as found:
        found.start_crawl(CRAWL, user_agent="t", purposes=["ai-input"], seeds=[], settings={})
        yield found


def worker_queue(server: redis.Redis, keys: CrawlKeys, name: str, lease_seconds: float = 1.0
                 ) -> tuple[Leases, LeasedPriorityQueue]:
    leases = Leases(keys, name, lease_seconds)
    spider = _Spider()
    crawler = _Crawler()
    setattr(crawler, LEASES_ATTR, leases)
    spider.crawler = crawler  # type: ignore[assignment]
    return leases, LeasedPriorityQueue(server, spider, keys.requests)


def done(ledger: Ledger, url: str) -> None:
    ledger.record_fetch(FetchRecord(crawl_id=CRAWL, url=url, at=utc_now(), outcome="refused",
                                    reason="robots.txt disallow", status=None))


def test_a_pop_leases_the_request_in_the_same_step(server: redis.Redis, redis_prefix: str) -> None:
    keys = CrawlKeys(redis_prefix, CRAWL)
    leases, queue = worker_queue(server, keys, "w1")
    queue.push(Request("http://a.example/1"))
    request = queue.pop()
    assert request is not None and request.url == "http://a.example/1"
    assert server.zcard(keys.requests) == 0
    assert server.scard(keys.lease("w1")) == 1
    assert server.sismember(keys.workers, "w1")
    assert 0 < server.pttl(keys.alive("w1")) <= 1000
    assert list(leases.taken.values()) == ["http://a.example/1"]
    assert queue.pop() is None  # empty frontier: nothing leased


def test_a_lease_is_settled_at_the_second_look_after_its_outcome(
    server: redis.Redis, redis_prefix: str, ledger: Ledger
) -> None:
    keys = CrawlKeys(redis_prefix, CRAWL)
    leases, queue = worker_queue(server, keys, "w1")
    for n in (1, 2):
        queue.push(Request(f"http://a.example/{n}"))
    queue.pop()
    queue.pop()
    done(ledger, "http://a.example/1")
    leases.settle(server, ledger, idle=False)
    assert server.scard(keys.lease("w1")) == 2  # first look: a redirect target may not be queued yet
    leases.settle(server, ledger, idle=False)
    assert set(leases.taken.values()) == {"http://a.example/2"}
    assert server.scard(keys.lease("w1")) == 1
    # idle: an unrecorded lease is dropped at the second idle look (it will never get a row)
    leases.settle(server, ledger, idle=True)
    assert leases.taken
    leases.settle(server, ledger, idle=True)
    assert not leases.taken and server.scard(keys.lease("w1")) == 0


def test_only_an_expired_worker_is_reclaimed_and_only_once(
    server: redis.Redis, redis_prefix: str, ledger: Ledger
) -> None:
    keys = CrawlKeys(redis_prefix, CRAWL)
    _, dead_queue = worker_queue(server, keys, "dead", lease_seconds=1.0)
    for n in (1, 2, 3):
        dead_queue.push(Request(f"http://a.example/{n}", priority=n))
    for _ in range(3):
        dead_queue.pop()
    done(ledger, "http://a.example/3")  # the dead worker finished this one before it died
    first, first_queue = worker_queue(server, keys, "first")
    second, second_queue = worker_queue(server, keys, "second")

    assert first.reclaim_dead(server, first_queue, ledger) == 0  # still alive: nothing taken
    assert server.scard(keys.lease("dead")) == 3
    time.sleep(1.1)  # its lease runs out
    assert first.reclaim_dead(server, first_queue, ledger) == 2
    assert second.reclaim_dead(server, second_queue, ledger) == 0  # already taken back
    assert first.reclaimed == 2
    assert not server.exists(keys.lease("dead")) and not server.sismember(keys.workers, "dead")
    assert server.scard(keys.lease("first")) == 0  # moved through our lease set, then into the frontier
    back = [second_queue.pop(), second_queue.pop()]
    # the frontier's order (priority) is kept
    assert [r.url for r in back if r is not None] == ["http://a.example/2", "http://a.example/1"]
    assert second_queue.pop() is None


def test_a_clean_stop_hands_unfinished_requests_back(
    server: redis.Redis, redis_prefix: str, ledger: Ledger
) -> None:
    keys = CrawlKeys(redis_prefix, CRAWL)
    leases, queue = worker_queue(server, keys, "w1")
    for n in (1, 2):
        queue.push(Request(f"http://a.example/{n}"))
    queue.pop()
    queue.pop()
    done(ledger, "http://a.example/1")
    assert leases.hand_back(server, queue, ledger) == 1
    assert leases.returned == 1
    assert not server.exists(keys.lease("w1"), keys.alive("w1"))
    assert not server.sismember(keys.workers, "w1")
    _, other_queue = worker_queue(server, keys, "w2")
    request = other_queue.pop()
    assert request is not None and request.url == "http://a.example/2"


def test_others_holding_leases_keep_the_crawl_open(server: redis.Redis, redis_prefix: str) -> None:
    keys = CrawlKeys(redis_prefix, CRAWL)
    busy, busy_queue = worker_queue(server, keys, "busy")
    idle, _ = worker_queue(server, keys, "idle")
    assert not idle.others_hold_leases(server)
    busy_queue.push(Request("http://a.example/1"))
    busy_queue.pop()
    assert idle.others_hold_leases(server)
    assert not busy.others_hold_leases(server)
