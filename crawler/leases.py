"""Leases on the shared frontier: a request a worker took is not lost when the worker dies.

scrapy-redis pops a request *out* of the shared frontier when a worker takes
it; if that worker is then killed, the request is gone from Redis and never
reached the ledger. Here every pop also puts the request, atomically, into
the worker's *lease set* (``lease:<worker>``), and the worker keeps an
``alive:<worker>`` key with a time-to-live (``FAIRFETCH_LEASE_SECONDS``)
fresh while it runs. A request leaves the lease set once the ledger holds an
outcome for its URL (a stored page, refusal, redirect hop or error: every
settled request writes a fetch-log row), so the lease set holds what is in
flight plus the pipeline's unwritten batch.

When a worker's ``alive`` key has expired, any other worker of the crawl
*reclaims* its lease set (one Lua script moves it, so two reclaimers never
both get it): requests whose URL the ledger holds are done, the others go
back into the frontier. A worker that stops cleanly hands its own unfinished
leases back the same way. The surviving workers do not end the crawl while a
lease set is left, so a worker killed at the very end still has its requests
fetched by the others.

What this does not promise: a worker that is alive but stalls for longer
than the lease time (a frozen VM) has its requests taken back and fetched
again by another worker. The ledger's writes are idempotent, so that costs a
second fetch, never a second row.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

import redis
from scrapy_redis.queue import PriorityQueue

if TYPE_CHECKING:
    from scrapy import Request

    from crawler.crawlkeys import CrawlKeys
    from crawler.ledger import Ledger

logger = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 30.0
# The worker's Leases hang off the crawler under this name (set by crawler.scaleout.scaleout_for),
# so the frontier's queue finds them without importing crawler.scaleout.
LEASES_ATTR = "_fairfetch_leases"

# KEYS: frontier, my lease set, worker registry, my alive key; ARGV: worker, lease ms.
_POP = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0)
if #found == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('SADD', KEYS[2], found[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], '1', 'PX', ARGV[2])
return found[1]
"""

# KEYS: dead lease set, dead alive key, registry, my lease set, my alive key;
# ARGV: dead worker, me, lease ms. Returns the moved requests, or false when
# the worker is alive after all or another worker reclaimed it first.
_RECLAIM = """
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
redis.call('SREM', KEYS[3], ARGV[1])
local members = redis.call('SMEMBERS', KEYS[1])
if #members == 0 then return {} end
for i = 1, #members, 1000 do
  redis.call('SADD', KEYS[4], unpack(members, i, math.min(i + 999, #members)))
end
redis.call('DEL', KEYS[1])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('SET', KEYS[5], '1', 'PX', ARGV[3])
return members
"""


class Leases:
    """One worker's lease bookkeeping: what it took from the frontier and has not settled yet."""

    def __init__(self, keys: CrawlKeys, worker: str, lease_seconds: float) -> None:
        self.keys = keys
        self.worker = worker
        self.lease_ms = max(1000, int(lease_seconds * 1000))
        self.taken: dict[bytes, str] = {}  # encoded request -> URL, for the ledger check
        self._recorded_once: set[bytes] = set()  # seen recorded at the previous look
        self._stale_once: set[bytes] = set()  # seen unrecorded while the worker was idle
        self.reclaimed = 0  # requests of dead workers put back into the frontier
        self.returned = 0  # own unfinished requests handed back at a clean stop

    @property
    def own(self) -> str:
        return self.keys.lease(self.worker)

    def keep_alive(self, server: redis.Redis) -> None:
        server.set(self.keys.alive(self.worker), "1", px=self.lease_ms)

    def settle(self, server: redis.Redis, ledger: Ledger, *, idle: bool) -> None:
        """Drop the leases whose outcome the ledger holds; when ``idle``, also those that will have none.

        Both take two looks: a URL's row can be written a moment before the
        request that follows from it (a redirect target) is in the frontier,
        and the pipeline may still be writing its last batch when the worker
        first goes idle. At the second look that has happened.
        """
        if not self.taken:
            self._recorded_once.clear()
            self._stale_once.clear()
            return
        recorded = ledger.recorded_urls(self.keys.crawl_id, set(self.taken.values()))
        now_recorded = {data for data, url in self.taken.items() if url in recorded}
        done = now_recorded & self._recorded_once
        self._recorded_once = now_recorded - done
        if idle:
            # Nothing is in flight: an unrecorded lease was settled without a row (say, a
            # callback that failed) and would keep every worker of the crawl waiting.
            stale = set(self.taken) - now_recorded
            done |= stale & self._stale_once
            self._stale_once = stale - done
        else:
            self._stale_once.clear()
        if done:
            server.srem(self.own, *done)
            for data in done:
                self.taken.pop(data, None)

    def reclaim_dead(self, server: redis.Redis, queue: PriorityQueue, ledger: Ledger) -> int:
        """Put the unfinished requests of every worker whose lease ran out back into the frontier."""
        back = 0
        script = server.register_script(_RECLAIM)
        for raw in server.smembers(self.keys.workers):
            other = raw.decode() if isinstance(raw, bytes) else str(raw)
            if other == self.worker:
                continue
            moved = script(
                keys=[self.keys.lease(other), self.keys.alive(other), self.keys.workers, self.own,
                      self.keys.alive(self.worker)],
                args=[other, self.worker, self.lease_ms],
            )
            if not moved:
                continue
            count = self._requeue(server, queue, ledger, list(moved))
            if count:
                logger.warning("worker %s stopped answering: %d of its requests are back in the frontier",
                               other, count)
            back += count
        self.reclaimed += back
        return back

    def others_hold_leases(self, server: redis.Redis) -> bool:
        """Does any other worker still hold requests (working, or dead and not yet expired)?"""
        for raw in server.smembers(self.keys.workers):
            other = raw.decode() if isinstance(raw, bytes) else str(raw)
            if other != self.worker and server.scard(self.keys.lease(other)):
                return True
        return False

    def hand_back(self, server: redis.Redis, queue: PriorityQueue, ledger: Ledger) -> int:
        """A clean stop: unfinished requests go back into the frontier, and this worker leaves the crawl."""
        members = [m if isinstance(m, bytes) else m.encode("latin-1") for m in server.smembers(self.own)]
        count = self._requeue(server, queue, ledger, members) if members else 0
        pipe = server.pipeline()
        pipe.delete(self.own, self.keys.alive(self.worker))
        pipe.srem(self.keys.workers, self.worker)
        pipe.execute()
        self.taken.clear()
        self.returned += count
        return count

    def _requeue(self, server: redis.Redis, queue: PriorityQueue, ledger: Ledger, members: list[bytes]) -> int:
        """Back into the frontier, those of ``members`` (now in our lease set) the ledger has no outcome for."""
        requests: dict[bytes, Request] = {}
        for data in members:
            try:
                requests[data] = queue._decode_request(data)
            except Exception:  # one undecodable entry must not block the crawl
                logger.exception("a leased request in Redis cannot be decoded; dropped")
        recorded = ledger.recorded_urls(self.keys.crawl_id, {r.url for r in requests.values()})
        pending = [(data, r) for data, r in requests.items() if r.url not in recorded]
        pipe = server.pipeline()  # MULTI/EXEC: back in the frontier and out of the lease set together
        for data, request in pending:
            # The frontier's own encoding; it bypasses the seen-set, which holds these already.
            pipe.zadd(queue.key, {data: frontier_score(request.priority)})
        if members:
            pipe.srem(self.own, *members)
        pipe.execute()
        for data in members:
            self.taken.pop(data, None)
        return len(pending)


# KEYS: frontier, seen-set; ARGV: fingerprint ('' for a request that is not filtered), score, request.
_PUSH_NEW = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return 1
"""


def frontier_score(priority: int) -> float:
    """The request's place in the frontier: by priority, then at random.

    scrapy-redis scores by priority alone, and Redis orders equal scores by
    their bytes -- the pickled request, that is by URL, that is by host. Every
    worker then took a run of requests for one host, which its per-host
    concurrency serves a few at a time while the rest of the crawl waited. A
    random fraction below 1 keeps the priority classes (breadth-first depth,
    retries, signal documents) in order and interleaves hosts within each.
    """
    return -priority + random.random() * 0.9


class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis' priority queue whose pop also leases the request to this worker (one Lua call).

    Pushing a new request also marks it seen in the same Lua call
    (:meth:`push_new`): one round trip instead of two, and no moment at which a
    request is in the seen-set but not yet in the frontier (a worker killed
    there lost it for good).
    """

    def __init__(self, server: redis.Redis, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self._pop = server.register_script(_POP)
        self._push_new = server.register_script(_PUSH_NEW)

    def push(self, request: Request) -> None:
        self.server.execute_command("ZADD", self.key, frontier_score(request.priority),
                                    self._encode_request(request))

    def push_new(self, request: Request, fingerprint: str | None, seen_key: str) -> bool:
        """Mark ``request`` seen and put it in the frontier, atomically; False if it was seen already."""
        return bool(self._push_new(keys=[self.key, seen_key],
                                   args=[fingerprint or "", frontier_score(request.priority),
                                         self._encode_request(request)]))

    @property
    def leases(self) -> Leases:
        found: Leases | None = getattr(self.spider.crawler, LEASES_ATTR, None)
        if found is None:  # pragma: no cover - crawler.shared_frontier.SharedScheduler sets it up first
            raise RuntimeError("LeasedPriorityQueue needs a scaled-out crawl (crawler.shared_crawl.apply_settings)")
        return found

    def pop(self, timeout: int = 0) -> Request | None:
        leases = self.leases
        data = self._pop(
            keys=[self.key, leases.own, leases.keys.workers, leases.keys.alive(leases.worker)],
            args=[leases.worker, leases.lease_ms],
        )
        if not data:
            return None
        request: Request = self._decode_request(data)
        leases.taken[data] = request.url
        return request
