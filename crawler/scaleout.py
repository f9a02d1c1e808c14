"""Scale-out on Redis: several ``fairfetch crawl`` workers sharing one crawl.

Everything Redis-specific lives here, so that a single-machine crawl never
imports or needs Redis. Shared under one namespace per crawl id
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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.crawlkeys import DEFAULT_PREFIX, CrawlKeys, ScaleOutError, check_crawl_id
from crawler.depthbook import RedisDepthBook
from crawler.leases import DEFAULT_LEASE_SECONDS, LEASES_ATTR, LeasedPriorityQueue, Leases
from crawler.middlewares.politeness import slot_floor
from crawler.pauses import PausingHTTPHandler

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import Settings

__all__ = [  # the names of crawler.crawlkeys are part of this module's interface too
    "DEFAULT_PREFIX", "CrawlKeys", "ScaleOut", "ScaleOutError", "check_crawl_id", "register_seeds",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_IDLE_SECONDS = 10.0
REDIS_LOST = "redis_unavailable"  # the finish reason of a worker that lost Redis
LOCK_MS = 5_000  # a dead fetcher blocks an origin for at most this long
_LOCK_REFRESH = LOCK_MS / 3000  # seconds between lock renewals while fetching
_POLL = 0.05  # seconds between looks at a document another worker is fetching
_PACE_POLL = 0.2  # longest sleep before asking the pacing record again
_IDLE_HEARTBEAT = 0.5  # how often an idle worker looks at the shared frontier (Scrapy: 5 s)
_ATTR = "_fairfetch_scaleout"
# Ride out a blip of about a second, then give up: the scheduler's client is
# synchronous, so every retry and every timeout stalls the whole worker.
SOCKET_TIMEOUT = 5.0


def _retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), 3)


def _client_options() -> dict[str, Any]:
    return {"socket_connect_timeout": SOCKET_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT, "retry": _retry()}


# --- starting a worker -----------------------------------------------------------------


def connect(url: str) -> redis.Redis:
    """A client for ``url`` that has answered a PING; ScaleOutError in plain words otherwise."""
    try:
        client = redis.Redis.from_url(url, **_client_options())
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ScaleOutError(f"cannot reach Redis at {safe_url(url)}: {exc}") from exc
    return client


def safe_url(url: str) -> str:
    """The Redis URL without its password, for messages and summaries."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


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
    extensions["crawler.scaleout.SharedFrontierIdle"] = 10
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
        "REDIS_PARAMS": {**_client_options(), "encoding": "utf-8"},
        "SCHEDULER": "crawler.scaleout.SharedScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # a worker that stops leaves the frontier to the others
        "SCHEDULER_QUEUE_CLASS": "crawler.leases.LeasedPriorityQueue",  # scrapy-redis' PriorityQueue + leases
        "SCHEDULER_QUEUE_KEY": literal(keys.requests),
        "SCHEDULER_DUPEFILTER_KEY": literal(keys.seen),
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # never a blocking pop: it would freeze the reactor
        "DOWNLOAD_HANDLERS": {
            "http": "crawler.scaleout.PacedHTTPHandler",
            "https": "crawler.scaleout.PacedHTTPHandler",
        },
    }


# --- the crawl-wide state of one worker -----------------------------------------------------


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
            self._client = aioredis.Redis.from_url(
                self.url,
                socket_connect_timeout=SOCKET_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                retry=AsyncRetry(ExponentialBackoff(cap=0.5, base=0.05), 3),
            )
            self._claim = self._client.register_script(_CLAIM)
            self._pause = self._client.register_script(_PAUSE)
            self._paused = self._client.register_script(_PAUSED)
            self._release = self._client.register_script(_RELEASE)
            self._unlock = self._client.register_script(_UNLOCK)
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
            self._sync = redis.Redis.from_url(self.url, **_client_options())
        return RedisDepthBook(self._sync, self.keys, self.redis_lost)

    async def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None


# Pacing record value: "<next allowed epoch ms>:<holder token>". Times come from
# Redis' TIME so that workers on machines with skewed clocks agree.
_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
# KEYS: my alive key, the busy stamps; ARGV: lease ms, worker, stamps' expiry in seconds.
_BUSY = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
""" + _NOW + """
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
"""
_CLAIM = _NOW + """
local cur = redis.call('GET', KEYS[1])
if cur then
  local nxt = tonumber(string.match(cur, '^(%d+):'))
  if nxt and nxt > now then return nxt - now end
end
redis.call('SET', KEYS[1], (now + tonumber(ARGV[1])) .. ':' .. ARGV[2], 'PX', tonumber(ARGV[1]) + 60000)
return 0
"""
_RELEASE = _NOW + """
local nxt = now + tonumber(ARGV[1])
local cur = redis.call('GET', KEYS[1])
if cur then
  local held, holder = string.match(cur, '^(%d+):(.*)$')
  if holder ~= ARGV[2] and tonumber(held) > nxt then return 0 end
end
redis.call('SET', KEYS[1], nxt .. ':' .. ARGV[2], 'PX', tonumber(ARGV[1]) + 60000)
return 1
"""
# Pause record: "<paused until epoch ms>:<what the origin answered>", never shortened.
_PAUSE = _NOW + """
local till = now + tonumber(ARGV[1])
local cur = redis.call('GET', KEYS[1])
if cur then
  local held = tonumber(string.match(cur, '^(%d+):'))
  if held and held >= till then return 0 end
end
redis.call('SET', KEYS[1], till .. ':' .. ARGV[2], 'PX', tonumber(ARGV[1]) + 1000)
return 1
"""
_PAUSED = _NOW + """
local cur = redis.call('GET', KEYS[1])
if not cur then return {0, ''} end
local held, asked = string.match(cur, '^(%d+):(.*)$')
local left = tonumber(held) - now
if left <= 0 then return {0, ''} end
return {left, asked}
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


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


# --- Scrapy components -------------------------------------------------------------------


class SharedScheduler(RedisScheduler):
    """scrapy-redis' scheduler that stops the worker clearly when Redis fails."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        scaleout_for(crawler)  # the worker's leases, which the frontier's queue takes requests into
        try:
            instance: SharedScheduler = super().from_crawler(crawler)
        except redis.RedisError as exc:
            raise ScaleOutError(f"cannot reach Redis for the shared frontier: {exc}") from exc
        instance.crawler = crawler
        return instance

    def _lost(self, exc: redis.RedisError) -> None:
        scaleout = scaleout_for(self.crawler)
        if scaleout is not None:
            scaleout.redis_lost(exc)

    def enqueue_request(self, request: Request) -> bool:
        """Seen-set and frontier in one atomic step (crawler.leases.LeasedPriorityQueue.push_new)."""
        queue = self.queue
        try:
            if not isinstance(queue, LeasedPriorityQueue):  # pragma: no cover - another queue class configured
                return bool(super().enqueue_request(request))
            fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
            if not queue.push_new(request, fingerprint, self.df.key):
                self.df.log(request, self.spider)
                return False
        except redis.RedisError as exc:
            self._lost(exc)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis", spider=self.spider)
        return True

    def next_request(self) -> Request | None:
        try:
            request: Request | None = super().next_request()
        except redis.RedisError as exc:
            self._lost(exc)
            return None
        return request

    def has_pending_requests(self) -> bool:
        try:
            return bool(super().has_pending_requests())
        except redis.RedisError as exc:
            self._lost(exc)
            return False


class PacedHTTPHandler(PausingHTTPHandler):
    """Scrapy's HTTP handler (pausing, signing when a key is set), waiting for the origin's shared turn right before the request leaves.

    Waiting here, and not in a middleware, means nothing (slot delays,
    AutoThrottle) can come between the claimed turn and the request itself.
    Only origins whose robots.txt sets a floor are paced.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._fairfetch_crawler = crawler

    async def download_request(self, request: Request) -> Response:
        crawler = self._fairfetch_crawler
        scaleout = scaleout_for(crawler)
        origin = request.meta.get("download_slot")
        floor = slot_floor(crawler, origin)
        if scaleout is None or origin is None or floor <= 0:
            return await super().download_request(request)
        timeout = float(request.meta.get("download_timeout") or crawler.settings.getfloat("DOWNLOAD_TIMEOUT"))
        token = await scaleout.claim(origin, floor, guard=timeout + floor)
        try:
            return await super().download_request(request)
        finally:
            await scaleout.release(origin, token, floor)

    def shared_pauses(self) -> ScaleOut | None:
        """The crawl's pauses in Redis: a 429/503 told to any worker holds for all (crawler.pauses)."""
        return scaleout_for(self._fairfetch_crawler)


class SharedFrontierIdle:
    """Keeps a worker alive until the whole crawl has been quiet for ``FAIRFETCH_IDLE_SECONDS``.

    Quiet means: the shared frontier is empty, no worker holds a lease
    (:mod:`crawler.leases`) *and* no worker has had a request in flight for
    that long. An empty queue alone is no reason to stop -- another worker may
    be one response (or one Crawl-delay) away from adding links, or dead with
    requests that must go back into the frontier. Each busy worker stamps
    ``active`` (a sorted set: worker -> Redis time in ms) every
    ``_IDLE_HEARTBEAT`` seconds; idle workers look at the frontier as often,
    instead of Scrapy's 5 s. The same heartbeat keeps the worker's lease
    alive and settles the leases the ledger has an outcome for.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.idle_ms = int(crawler.settings.getfloat("FAIRFETCH_IDLE_SECONDS", DEFAULT_IDLE_SECONDS) * 1000)
        found = scaleout_for(crawler)
        if found is None:
            raise ScaleOutError("SharedFrontierIdle needs a scaled-out crawl (FAIRFETCH_REDIS_URL)")
        self.scaleout = found
        self.worker = found.worker
        self._stamp: Any = None
        self._busy_script: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedFrontierIdle:
        ext = cls(crawler)
        crawler.signals.connect(ext._opened, signal=signals.spider_opened)
        crawler.signals.connect(ext._idle, signal=signals.spider_idle)
        crawler.signals.connect(ext._closed, signal=signals.spider_closed)
        return ext

    @property
    def _scheduler(self) -> SharedScheduler | None:
        slot = self.crawler.engine._slot if self.crawler.engine is not None else None
        scheduler = slot.scheduler if slot is not None else None
        return scheduler if isinstance(scheduler, SharedScheduler) else None

    def _ledger(self) -> Any:
        from crawler.session import session_for

        return session_for(self.crawler).ledger

    def _opened(self, spider: Spider) -> None:
        from twisted.internet import task

        # The engine starts its heartbeat after this signal; an instance value
        # shadows the class default (5 s) for this worker only.
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = _IDLE_HEARTBEAT
        self._stamp = task.LoopingCall(self._mark_busy)
        self._stamp.start(_IDLE_HEARTBEAT, now=True)

    def _mark_busy(self) -> None:
        engine = self.crawler.engine
        scheduler = self._scheduler
        if scheduler is None or engine is None or engine._slot is None or self.scaleout.lost is not None:
            return
        busy = bool(engine.downloader.active or not engine.scraper.slot.is_idle())  # type: ignore[union-attr]
        try:
            server: redis.Redis = scheduler.server
            leases = self.scaleout.leases
            if not busy:
                leases.keep_alive(server)
                return
            leases.settle(server, self._ledger(), idle=False)
            if self._busy_script is None:
                self._busy_script = server.register_script(_BUSY)
            # Alive key, busy stamp (Redis time) and its expiry: one round trip, was four.
            self._busy_script(keys=[leases.keys.alive(self.worker), scaleout_keys(self.crawler).active],
                              args=[leases.lease_ms, self.worker, 24 * 3600])
        except redis.RedisError as exc:
            scheduler._lost(exc)

    def _idle(self, spider: Spider) -> None:
        scaleout = self.scaleout
        scheduler = self._scheduler
        if scheduler is None or scaleout.lost is not None:
            return  # let it close: the reason is already set
        if scheduler.has_pending_requests():
            raise DontCloseSpider
        try:
            server: redis.Redis = scheduler.server
            leases = scaleout.leases
            leases.settle(server, self._ledger(), idle=True)
            if leases.reclaim_dead(server, scheduler.queue, self._ledger()):
                raise DontCloseSpider  # a dead worker's requests are back in the frontier
            if leases.taken or leases.others_hold_leases(server):
                raise DontCloseSpider  # requests still out: settled soon, or taken back once a lease runs out
            key = scaleout_keys(self.crawler).active
            now_ms = _redis_ms(server)
            server.zadd(key, {self.worker: now_ms}, nx=True)  # the quiet period counts from our first idle look
            last = server.zrevrange(key, 0, 0, withscores=True)
        except redis.RedisError as exc:
            scheduler._lost(exc)
            return
        last_busy = int(last[0][1]) if last else 0
        if now_ms - last_busy < self.idle_ms:
            raise DontCloseSpider

    async def _closed(self, spider: Spider) -> None:
        if self._stamp is not None and self._stamp.running:
            self._stamp.stop()
        scheduler = self._scheduler
        if scheduler is not None and self.scaleout.lost is None:
            # After the pipeline's last write: what this worker took and did not finish goes back.
            try:
                returned = self.scaleout.leases.hand_back(scheduler.server, scheduler.queue, self._ledger())
                if returned:
                    logger.info("%d unfinished requests handed back to the shared frontier", returned)
            except redis.RedisError as exc:
                logger.warning("could not hand back this worker's unfinished requests: %s", exc)
        if scheduler is not None:
            # Leaving anyway: a stamp left behind only keeps the others waiting idle_seconds.
            with contextlib.suppress(redis.RedisError):
                scheduler.server.zrem(scaleout_keys(self.crawler).active, self.worker)
        await self.scaleout.close()


def _redis_ms(server: redis.Redis) -> int:
    seconds, micros = server.time()
    return int(seconds) * 1000 + int(micros) // 1000


def scaleout_keys(crawler: Crawler) -> CrawlKeys:
    found = scaleout_for(crawler)
    if found is None:
        raise ScaleOutError("the crawl is not scaled out (no FAIRFETCH_REDIS_URL)")
    return found.keys
