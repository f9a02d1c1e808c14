"""The shared frontier's Scrapy side: scrapy-redis' scheduler that stops cleanly on Redis failure, and the extension that ends a worker only when the whole crawl is quiet.

The frontier (a priority queue) and the seen-set live in Redis under the
crawl's keys; taking a request also leases it (:mod:`crawler.leases`). A
worker's busy heartbeat, its lease renewal and the settling of what the
ledger has recorded run every ``_IDLE_HEARTBEAT`` seconds here, and an idle
worker looks at the frontier that often instead of Scrapy's 5 s.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.crawlkeys import ScaleOutError
from crawler.leases import LeasedPriorityQueue
from crawler.scaleout import scaleout_for, scaleout_keys
from crawler.shared_scripts import BUSY

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DEFAULT_IDLE_SECONDS = 10.0
_IDLE_HEARTBEAT = 0.5  # how often an idle worker looks at the shared frontier (Scrapy: 5 s)


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
                self._busy_script = server.register_script(BUSY)
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
