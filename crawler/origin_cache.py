"""Per-origin signal state, fetched once and shared by every request to that origin.

RFC 9309 wants robots.txt fetched before the first request to an origin and
reused for at most 24 hours; TDMRep wants tdmrep.json checked before scraping
a server; RSL licence documents are shared by many pages (often by many
origins). :class:`SingleFlight` gives all three the same semantics: the first
caller for a key runs the fetch, concurrent callers for the same key wait for
that one result instead of starting their own, and the result is reused until
it is older than the time-to-live.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from norms.robots import RobotsTxt
    from norms.rsl import LicenseSource
    from norms.tdmrep import TdmRepFile

K = TypeVar("K")
V = TypeVar("V")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` with the default port dropped: the unit robots.txt applies to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True, slots=True)
class OriginSignals:
    """What is known about one origin before any of its pages is requested.

    ``signal_ids`` are the ledger snapshot ids of the documents in force
    (robots.txt, its licences, tdmrep.json); ``notes`` say in words what went
    wrong while fetching them (a timeout, a licence that could not be read);
    ``failure`` names the network failure that kept robots.txt from being
    fetched at all, so the crawl counts it as an error rather than a refusal.
    """

    origin: str
    robots: RobotsTxt
    licenses: tuple[LicenseSource, ...] = ()
    tdmrep: TdmRepFile | None = None
    signal_ids: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    failure: str | None = None  # robots.txt unreachable for a network reason: "dns", "connection", "timeout"


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    at: float


@dataclass
class SingleFlight(Generic[K, V]):
    """A cache of async results where each key is computed by one caller at a time."""

    fetch: Callable[[K], Awaitable[V]]
    ttl: float
    clock: Callable[[], float] = time.monotonic
    _done: dict[K, _Entry[V]] = field(default_factory=dict)
    _pending: dict[K, asyncio.Future[V]] = field(default_factory=dict)
    fetches: int = 0

    def peek(self, key: K) -> V | None:
        """The cached value if it is still fresh, without fetching."""
        entry = self._done.get(key)
        if entry is not None and self.clock() - entry.at < self.ttl:
            return entry.value
        return None

    async def get(self, key: K) -> V:
        fresh = self.peek(key)
        if fresh is not None:
            return fresh
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            self.fetches += 1
            value = await self.fetch(key)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            del self._pending[key]
        self._done[key] = _Entry(value, self.clock())
        future.set_result(value)
        return value
