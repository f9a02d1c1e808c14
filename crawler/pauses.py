"""Pausing an origin that said "slow down": HTTP 429 and 503, with or without ``Retry-After``.

A ``429`` or ``503`` pauses the whole origin, not only the URL that got it:
no request to that origin leaves before the pause is over. ``Retry-After``
(RFC 9110 10.2.3: seconds, or an HTTP-date) sets the pause; without it the
pause doubles with each such answer in a row, from ``FAIRFETCH_BACKOFF_BASE``
(1 s, 2 s, 4 s ...), and any other answer resets the count.

The wait happens in the download handler (:class:`PausingHTTPHandler`), right
before a request leaves: requests already queued in Scrapy's download slot,
retries made by Scrapy's ``RetryMiddleware`` and signal documents all wait
alike, so nothing can slip past the pause. A request that would have to wait
longer than ``FAIRFETCH_MAX_PAUSE`` (120 s) is given up instead (error kind
``retry-after``, a fetch-log row); the origin stays paused for as long as it
asked. Scaled out, the pause is also written to Redis and every worker waits
for it: ``crawler.paced_download.PacedHTTPHandler`` subclasses this handler
and hands it the crawl's :class:`SharedPauses` (this module never imports
``crawler.paced_download``, which would close an import circle).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Protocol

from crawler.faults import OriginPaused
from crawler.identity.handler import SigningHTTPHandler
from crawler.origin_cache import origin_of

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

SLOW_DOWN = (429, 503)
MAX_PAUSE = 120.0  # the same ceiling as a Crawl-delay (crawler.middlewares.politeness.MAX_FLOOR)
BACKOFF_BASE = 1.0
_ATTR = "_fairfetch_pauses"


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks for (delta-seconds or HTTP-date); None if absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # not "¹" or "٣": str.isdigit admits them, int() does not
        return float(int(text[:12]))  # a 13-digit wait is "forever" already
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass
class Pauses:
    """Per-origin pauses of one crawler process (times on the monotonic clock)."""

    max_pause: float = MAX_PAUSE
    base: float = BACKOFF_BASE
    until: dict[str, float] = field(default_factory=dict)
    asked: dict[str, str] = field(default_factory=dict)  # origin -> what it asked for, in words
    strikes: Counter[str] = field(default_factory=Counter)
    clock: object = time.monotonic

    def now(self) -> float:
        return float(self.clock())  # type: ignore[operator]

    def answered(self, origin: str, status: int, retry_after: str | None) -> float:
        """Note an answer of ``origin``; returns the pause it starts (0 when it asks for none)."""
        if status not in SLOW_DOWN:
            if status < 500:
                self.strikes.pop(origin, None)
            return 0.0
        seconds = retry_after_seconds(retry_after)
        if seconds is None:
            seconds = self.base * 2 ** min(self.strikes[origin], 30)
            asked = f"HTTP {status} without Retry-After (backoff)"
        else:
            asked = f"HTTP {status} Retry-After: {(retry_after or '').strip()[:60]}"
        self.strikes[origin] += 1
        self.pause(origin, seconds, asked)
        return seconds

    def pause(self, origin: str, seconds: float, asked: str) -> None:
        until = self.now() + seconds
        if until > self.until.get(origin, 0.0):
            self.until[origin] = until
            self.asked[origin] = asked

    def remaining(self, origin: str) -> float:
        until = self.until.get(origin)
        if until is None:
            return 0.0
        left = until - self.now()
        if left <= 0:
            del self.until[origin]
            return 0.0
        return left

    def give_up(self, origin: str) -> OriginPaused:
        asked = self.asked.get(origin, "a pause")
        return OriginPaused(
            f"{origin} answered {asked}: a longer pause than this crawl waits "
            f"({self.max_pause:g} s), request given up"
        )


class SharedPauses(Protocol):
    """The pauses every worker of a scaled-out crawl obeys (``crawler.scaleout.ScaleOut`` is one)."""

    async def pause(self, origin: str, seconds: float, asked: str) -> None: ...

    async def paused_for(self, origin: str) -> tuple[float, str]: ...


def pauses_for(crawler: Crawler) -> Pauses:
    found: Pauses | None = getattr(crawler, _ATTR, None)
    if found is None:
        found = Pauses(
            max_pause=crawler.settings.getfloat("FAIRFETCH_MAX_PAUSE", MAX_PAUSE),
            base=crawler.settings.getfloat("FAIRFETCH_BACKOFF_BASE", BACKOFF_BASE),
        )
        setattr(crawler, _ATTR, found)
    return found


class PausingHTTPHandler(SigningHTTPHandler):
    """Scrapy's HTTP handler that holds each request until its origin's pause is over (module docstring).

    The wait comes before the signature (``SigningHTTPHandler``): a signed request never waits.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pausing_crawler = crawler

    async def download_request(self, request: Request) -> Response:
        crawler = self._pausing_crawler
        pauses = pauses_for(crawler)
        origin = origin_of(request.url)
        shared = self.shared_pauses()
        while True:
            left = pauses.remaining(origin)
            if shared is not None:
                # Another worker may have been told to slow down: its pause holds here too.
                theirs, asked = await shared.paused_for(origin)
                if theirs > left:
                    pauses.pause(origin, theirs, asked)
                    left = theirs
            if left <= 0:
                break
            if left > pauses.max_pause:
                raise pauses.give_up(origin)
            await asyncio.sleep(left)
        response = await super().download_request(request)
        raw = response.headers.get(b"Retry-After")
        seconds = pauses.answered(origin, response.status, raw.decode("latin-1") if raw else None)
        if seconds > 0 and shared is not None:
            await shared.pause(origin, seconds, pauses.asked.get(origin, ""))
        return response

    def shared_pauses(self) -> SharedPauses | None:
        """The crawl-wide pauses to obey beside this process's own; None on one machine."""
        return None
