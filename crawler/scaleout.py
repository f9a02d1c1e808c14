"""Scale-out on Redis: several ``fairfetch crawl`` workers sharing one crawl.

Everything Redis-specific lives here and in the modules named below, so that
a single-machine crawl never imports or needs Redis. Shared under one namespace per crawl id
(``<prefix><crawl id>:``, see :class:`CrawlKeys`):

* the frontier and the seen-set (scrapy-redis' scheduler and dupefilter,
  persisted, so workers can join, stop and restart);
* the seeds, so a joining worker knows the crawl's hosts without being told;
* every per-origin signal document (robots.txt, RSL licences, tdmrep.json,
  sitemaps) as fetched -- status, body, redirects, error, ledger snapshot id --
  with the signal TTL (24 h). One worker fetches a document under a short
  lock; the others wait and rebuild the parsed objects from the shared bytes
  through norms, so every worker decides exactly as a lone crawler would;
* one pacing record per origin with a Crawl-delay / Request-rate floor, so the
  floor holds for the whole crawl and not per worker, and one pause record per
  origin that answered 429/503 (``crawler.pauses``), so every worker waits;
* each worker's *leases*: the requests it took from the frontier and has not
  settled in the ledger yet, so a killed worker's requests go back into the
  frontier instead of being lost (:mod:`crawler.leases`).

Redis failures are never papered over: the worker stops its crawl with the
finish reason ``redis_unavailable`` and ``fairfetch crawl`` exits with code 1.

This module holds one worker's handle on all that (:class:`ScaleOut`: shared
documents, pacing, pauses, the Redis-lost switch). Around it:
:mod:`crawler.shared_crawl` registers the crawl and turns a crawl's settings
into a worker's, :mod:`crawler.shared_frontier` is the scheduler and the
quiet-crawl heartbeat, :mod:`crawler.paced_download` the paced download
handler, :mod:`crawler.shared_scripts` the Lua they run and
:mod:`crawler.redis_clients` their clients.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import redis
import redis.asyncio as aioredis

from crawler import shared_scripts as scripts
from crawler.crawlkeys import DEFAULT_PREFIX, CrawlKeys, ScaleOutError, check_crawl_id
from crawler.depthbook import RedisDepthBook
from crawler.leases import DEFAULT_LEASE_SECONDS, LEASES_ATTR, Leases
from crawler.redis_clients import async_client_options, client_options, connect, safe_url
from crawler.shared_crawl import apply_settings, register_seeds

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = [  # what starts a worker (crawler.shared_crawl, crawler.redis_clients) is part of this interface too
    "DEFAULT_PREFIX", "CrawlKeys", "ScaleOut", "ScaleOutError", "apply_settings", "check_crawl_id", "connect",
    "register_seeds", "safe_url", "scaleout_for",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

REDIS_LOST = "redis_unavailable"  # the finish reason of a worker that lost Redis
LOCK_MS = 5_000  # a dead fetcher blocks an origin for at most this long
_LOCK_REFRESH = LOCK_MS / 3000  # seconds between lock renewals while fetching
_POLL = 0.05  # seconds between looks at a document another worker is fetching
_PACE_POLL = 0.2  # longest sleep before asking the pacing record again
_ATTR = "_fairfetch_scaleout"


class ScaleOut:
    """One worker's handle on its shared crawl: documents, pacing and the Redis-lost switch."""

    def __init__(self, crawler: Crawler, url: str, keys: CrawlKeys, ttl: float) -> None:
        self.crawler = crawler
        self.url = url
        self.keys = keys
        self.ttl = max(1, int(ttl))
        self.lost: str | None = None  # why Redis was given up on, if it was
        self._closing: asyncio.Future[None] | None = None
        self.shared_reads = 0  # signal documents another worker had fetched
        self._client: aioredis.Redis | None = None
        self._sync: redis.Redis | None = None  # for the depth book (the spider's calls are synchronous)
        self._claim: Any = None
        self._release: Any = None
        self._unlock: Any = None
        self._pause: Any = None
        self._paused: Any = None
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.leases = Leases(keys, self.worker, crawler.settings.getfloat(
            "FAIRFETCH_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))

    @property
    def client(self) -> aioredis.Redis:
        # Created on first use, inside the running asyncio loop it will live in.
        if self._client is None:
            self._client = aioredis.Redis.from_url(self.url, **async_client_options())
            self._claim = self._client.register_script(scripts.CLAIM)
            self._pause = self._client.register_script(scripts.PAUSE)
            self._paused = self._client.register_script(scripts.PAUSED)
            self._release = self._client.register_script(scripts.RELEASE)
            self._unlock = self._client.register_script(scripts.UNLOCK)
        return self._client

    def redis_lost(self, exc: BaseException) -> None:
        """Stop this worker's crawl, once, saying why: a worker without Redis must not go on alone."""
        if self.lost is not None:
            return
        self.lost = f"{type(exc).__name__}: {exc}"
        logger.error("Redis at %s failed (%s): stopping this worker", safe_url(self.url), self.lost)
        try:
            engine = self.crawler.engine
        except RuntimeError:  # not crawling (yet): nothing to stop
            return
        if engine is not None and engine.spider is not None:
            self._closing = asyncio.ensure_future(engine.close_spider_async(reason=REDIS_LOST))
            from crawler.stopping import drop_unsent_soon

            drop_unsent_soon(self.crawler)  # their leases go back to the frontier with the others

    # --- signal documents ------------------------------------------------------------

    async def fetch_once(
        self,
        kind: str,
        url: str,
        fetch: Callable[[], Awaitable[T]],
        *,
        encode: Callable[[T], Mapping[str, bytes]],
        decode: Callable[[Mapping[bytes, bytes]], T],
    ) -> T:
        """The shared copy of a signal document, fetched by exactly one worker of the crawl.

        The fetcher holds ``lock:<kind>:<url>`` (``SET NX PX``, renewed while
        it works); the others poll until the copy appears. If the holder dies
        its lock lapses after ``LOCK_MS`` and the next worker fetches. The
        document is stored as the hash ``encode`` makes of it and rebuilt by
        ``decode`` (``crawler.middlewares.signal_download`` owns both: this module
        knows nothing of what a document holds).
        """
        key = self.keys.document(kind, url)
        lock = self.keys.lock(kind, url)
        token = uuid.uuid4().hex
        client = self.client
        try:
            while True:
                raw: Any = await client.hgetall(key)  # bytes -> bytes: the client does not decode
                if raw:
                    self.shared_reads += 1
                    return decode(raw)
                if await client.set(lock, token, nx=True, px=LOCK_MS):
                    # The holder we waited for may have stored its copy and
                    # unlocked between our look and our SET: look once more.
                    raw = await client.hgetall(key)
                    if not raw:
                        break
                    await self._unlock(keys=[lock], args=[token])
                    self.shared_reads += 1
                    return decode(raw)
                await asyncio.sleep(_POLL)
        except redis.RedisError as exc:
            self.redis_lost(exc)
            raise
        keeper = asyncio.ensure_future(self._keep_lock(lock, token))
        try:
            doc = await fetch()
            async with client.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping=dict[Any, Any](encode(doc)))
                pipe.expire(key, self.ttl)
                await pipe.execute()
        except redis.RedisError as exc:
            self.redis_lost(exc)
            raise
        finally:
            keeper.cancel()
            try:
                assert self._unlock is not None
                await self._unlock(keys=[lock], args=[token])
            except redis.RedisError as exc:
                self.redis_lost(exc)
        return doc

    async def _keep_lock(self, lock: str, token: str) -> None:
        while True:
            await asyncio.sleep(_LOCK_REFRESH)
            try:
                if await self.client.get(lock) == token.encode():
                    await self.client.pexpire(lock, LOCK_MS)
            except redis.RedisError:
                return  # the fetch itself will meet the failure and report it

    # --- pacing ----------------------------------------------------------------------

    async def claim(self, origin: str, floor: float, guard: float) -> str:
        """Wait for this origin's turn; returns the holder token for :meth:`release`.

        The pacing record holds the earliest time (Redis' own clock, shared by
        every machine) the next request may start. A claim sets it ``guard``
        seconds ahead while the request is in flight, so a worker that dies
        mid-request blocks the origin for no longer than that.
        """
        token = uuid.uuid4().hex
        key = self.keys.pace(origin)
        self.client  # noqa: B018 - registers the scripts
        assert self._claim is not None
        while True:
            try:
                wait_ms = int(await self._claim(keys=[key], args=[int(guard * 1000), token]))
            except redis.RedisError as exc:
                self.redis_lost(exc)
                raise
            if wait_ms <= 0:
                return token
            await asyncio.sleep(min(wait_ms / 1000, _PACE_POLL))

    async def release(self, origin: str, token: str, floor: float) -> None:
        """The answer is in: the next request to ``origin`` may start ``floor`` seconds from now."""
        assert self._release is not None
        try:
            await self._release(keys=[self.keys.pace(origin)], args=[int(floor * 1000), token])
        except redis.RedisError as exc:
            self.redis_lost(exc)

    # --- "slow down" pauses (crawler.pauses) ------------------------------------------

    async def pause(self, origin: str, seconds: float, asked: str) -> None:
        """No worker sends anything to ``origin`` for ``seconds`` (a longer pause already set stands)."""
        self.client  # noqa: B018 - registers the scripts
        assert self._pause is not None
        try:
            await self._pause(keys=[self.keys.pause(origin)], args=[max(1, int(seconds * 1000)), asked[:200]])
        except redis.RedisError as exc:
            self.redis_lost(exc)
            raise

    async def paused_for(self, origin: str) -> tuple[float, str]:
        """Seconds the crawl must still wait before ``origin`` (0 if not paused), and what the origin said."""
        self.client  # noqa: B018 - registers the scripts
        assert self._paused is not None
        try:
            left, asked = await self._paused(keys=[self.keys.pause(origin)])
        except redis.RedisError as exc:
            self.redis_lost(exc)
            raise
        text = asked.decode("utf-8", "replace") if isinstance(asked, bytes) else str(asked)
        return int(left) / 1000, text

    def depth_book(self) -> RedisDepthBook:
        """The crawl's shared depth book (crawler.depthbook), on a synchronous client like the frontier's."""
        if self._sync is None:
            self._sync = redis.Redis.from_url(self.url, **client_options())
        return RedisDepthBook(self._sync, self.keys, self.redis_lost)

    async def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def scaleout_for(crawler: Crawler) -> ScaleOut | None:
    """The worker's :class:`ScaleOut`, or None when the crawl runs on one machine."""
    found: ScaleOut | None = getattr(crawler, _ATTR, None)
    if found is not None:
        return found
    url = crawler.settings.get("FAIRFETCH_REDIS_URL")
    if not url:
        return None
    crawl_id = check_crawl_id(str(crawler.settings.get("FAIRFETCH_CRAWL_ID") or ""))
    keys = CrawlKeys(crawler.settings.get("FAIRFETCH_REDIS_PREFIX") or DEFAULT_PREFIX, crawl_id)
    found = ScaleOut(crawler, url, keys, crawler.settings.getfloat("FAIRFETCH_SIGNAL_TTL"))
    setattr(crawler, _ATTR, found)
    setattr(crawler, LEASES_ATTR, found.leases)  # for the frontier's queue (crawler.leases)
    return found


def scaleout_keys(crawler: Crawler) -> CrawlKeys:
    found = scaleout_for(crawler)
    if found is None:
        raise ScaleOutError("the crawl is not scaled out (no FAIRFETCH_REDIS_URL)")
    return found.keys
