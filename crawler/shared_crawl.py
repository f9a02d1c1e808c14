"""A shared crawl in Redis: its seeds, stored by the first worker and read by those that join, and the Scrapy settings of a worker.

What ``fairfetch crawl --redis`` does before Scrapy starts. The running
worker's parts (:mod:`crawler.scaleout`, :mod:`crawler.shared_frontier`,
:mod:`crawler.paced_download`) are named in the settings as dotted paths, so
this module imports none of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis

from crawler.crawlkeys import CrawlKeys, ScaleOutError
from crawler.leases import DEFAULT_LEASE_SECONDS
from crawler.redis_clients import client_options

if TYPE_CHECKING:
    from scrapy.settings import Settings

DEFAULT_JOIN_WAIT = 60.0  # how long --join waits for the crawl's first worker to register it
_JOIN_POLL = 0.1


def register_seeds(client: redis.Redis, keys: CrawlKeys, seeds: list[str], *, join: bool,
                   wait: float = 0.0, waiting: Callable[[], None] | None = None) -> list[str]:
    """The crawl's seeds: stored by the first worker, read back by the ones that ``join``.

    The seeds also define the crawl's scope (their hosts), so every worker
    must use the same ones: starting a crawl id that already exists with other
    seeds is refused (restarting it with the same seeds is fine).

    A joining worker may be started before the first one got as far as
    registering the crawl (both launched together by a scheduler, or the first
    still importing): it waits up to ``wait`` seconds for the seeds to appear,
    calling ``waiting`` once if it has to, and only then says the crawl is unknown.
    """
    deadline = time.monotonic() + wait
    told = False
    try:
        if not join and client.set(keys.seeds, json.dumps(seeds), nx=True):
            return seeds
        raw = client.get(keys.seeds)
        while raw is None and join and time.monotonic() < deadline:
            if waiting is not None and not told:
                waiting()
                told = True
            time.sleep(_JOIN_POLL)
            raw = client.get(keys.seeds)
    except redis.RedisError as exc:
        raise ScaleOutError(f"Redis failed while registering the crawl: {exc}") from exc
    if raw is None:
        waited = f" after waiting {wait:g} s" if join and wait > 0 else ""
        raise ScaleOutError(
            f"no crawl {keys.crawl_id!r} in Redis under {keys.namespace!r}{waited}: "
            "start it with seed URLs first"
        )
    found = [str(s) for s in json.loads(raw)]
    if not join and sorted(set(found)) != sorted(set(seeds)):
        raise ScaleOutError(
            f"crawl {keys.crawl_id!r} already runs with other seeds ({', '.join(found[:3])}"
            f"{', ...' if len(found) > 3 else ''}): --join it, or pick another --crawl-id"
        )
    return found


def apply_settings(settings: Settings, url: str, keys: CrawlKeys, idle_seconds: float,
                   lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
    """Turn a crawl's Scrapy settings into those of one worker of the shared crawl ``keys``."""
    settings.setdict(scrapy_settings(url, keys, idle_seconds, lease_seconds), priority="cmdline")
    extensions = settings.getdict("EXTENSIONS")
    extensions["crawler.shared_frontier.SharedFrontierIdle"] = 10
    settings.set("EXTENSIONS", extensions, priority="cmdline")


def scrapy_settings(url: str, keys: CrawlKeys, idle_seconds: float,
                    lease_seconds: float = DEFAULT_LEASE_SECONDS) -> dict[str, Any]:
    """The Scrapy settings that turn a crawl into one worker of a shared crawl (EXTENSIONS aside)."""

    def literal(key: str) -> str:  # scrapy-redis formats its keys with % {"spider": ...}
        return key.replace("%", "%%")

    return {
        "FAIRFETCH_REDIS_URL": url,
        "FAIRFETCH_REDIS_PREFIX": keys.prefix,
        "FAIRFETCH_CRAWL_ID": keys.crawl_id,
        "FAIRFETCH_IDLE_SECONDS": idle_seconds,
        "FAIRFETCH_LEASE_SECONDS": lease_seconds,
        "REDIS_URL": url,
        "REDIS_PARAMS": {**client_options(), "encoding": "utf-8"},
        "SCHEDULER": "crawler.shared_frontier.SharedScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # a worker that stops leaves the frontier to the others
        "SCHEDULER_QUEUE_CLASS": "crawler.leases.LeasedPriorityQueue",  # scrapy-redis' PriorityQueue + leases
        "SCHEDULER_QUEUE_KEY": literal(keys.requests),
        "SCHEDULER_DUPEFILTER_KEY": literal(keys.seen),
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # never a blocking pop: it would freeze the reactor
        "DOWNLOAD_HANDLERS": {
            "http": "crawler.paced_download.PacedHTTPHandler",
            "https": "crawler.paced_download.PacedHTTPHandler",
        },
    }

