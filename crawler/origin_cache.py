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
    ttl: float | None = None  # seconds these signals may be reused (None: the cache's default)


MIN_SIGNAL_TTL = 60.0
"""No signal document is re-read more often than this, whatever its cache headers say."""


def cache_seconds(cache_control: str | None, expires: str | None = None, date: str | None = None) -> float | None:
    """How long a response may be reused per its ``Cache-Control`` (``max-age``; ``no-store``/``no-cache``: 0)
    or ``Expires`` minus ``Date``; None when the headers say nothing usable."""
    from email.utils import parsedate_to_datetime

    if cache_control:
        for part in cache_control.lower().split(","):
            name, _, value = part.strip().partition("=")
            if name in ("no-store", "no-cache"):
                return 0.0
            if name == "max-age":
                try:
                    return max(0.0, float(int(value.strip().strip('"'))))
                except ValueError:
                    return None
    if expires:
        try:
            until = parsedate_to_datetime(expires)
            now = parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError, IndexError):
            return 0.0  # RFC 9111: an invalid Expires means already expired
        if until.tzinfo is None or (now is not None and now.tzinfo is None):
            return 0.0
        import datetime as _dt

        reference = now or _dt.datetime.now(_dt.UTC)
        return max(0.0, (until - reference).total_seconds())
    return None


def clamp_ttl(seconds: float | None, default: float) -> float:
    """A document's own lifetime bounded to ``[MIN_SIGNAL_TTL, default]``; ``default`` when it has none."""
    if seconds is None:
        return default
    return min(max(seconds, MIN_SIGNAL_TTL), default)


def rsl_ttl(body: bytes | None, url: str, default: float) -> float:
    """An RSL document's reuse time: its ``max-age`` (days) when it states one other than RSL's
    default of 30, else ``default``; within ``[MIN_SIGNAL_TTL, default]`` (None: no usable body)."""
    from norms.model import SignalError
    from norms.rsl import parse_rsl
    from norms.rsl.document import DEFAULT_MAX_AGE_DAYS

    if not body:
        return default
    try:
        days = parse_rsl(body, source_url=url).max_age_days
    except SignalError:
        return default
    return default if days == DEFAULT_MAX_AGE_DAYS else clamp_ttl(days * 86400.0, default)


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    at: float
    ttl: float | None = None


@dataclass
class SingleFlight(Generic[K, V]):
    """A cache of async results where each key is computed by one caller at a time."""

    fetch: Callable[[K], Awaitable[V]]
    ttl: float
    clock: Callable[[], float] = time.monotonic
    ttl_of: Callable[[V], float | None] | None = None  # a value's own lifetime, if it carries one
    _done: dict[K, _Entry[V]] = field(default_factory=dict)
    _pending: dict[K, asyncio.Future[V]] = field(default_factory=dict)
    fetches: int = 0

    def peek(self, key: K) -> V | None:
        """The cached value if it is still fresh, without fetching."""
        entry = self._done.get(key)
        if entry is not None and self.clock() - entry.at < (self.ttl if entry.ttl is None else entry.ttl):
            return entry.value
        return None

    def put(self, key: K, value: V) -> None:
        """Cache ``value`` for ``key`` as if fetched now (a verdict learnt another way)."""
        own = self.ttl_of(value) if self.ttl_of is not None else None
        self._done[key] = _Entry(value, self.clock(), own)

    def forget(self, key: K) -> None:
        """Drop a cached value (it turned out to be stale): the next ``get`` fetches again."""
        self._done.pop(key, None)

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
        own = self.ttl_of(value) if self.ttl_of is not None else None
        self._done[key] = _Entry(value, self.clock(), own)
        future.set_result(value)
        return value
