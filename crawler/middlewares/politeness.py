"""Crawl-delay and Request-rate per origin, on top of AutoThrottle.

Every request of an origin goes through one Scrapy download slot keyed by the
origin (``download_slot`` meta). When robots.txt asks for a delay, the slot
gets a *floor*: ``max(Crawl-delay, Request-rate seconds / requests)`` plus a
small margin, with no random jitter below it. AutoThrottle still adapts the
delay to the server's latency, but :class:`OriginThrottle` never lets it drop
below the floor.

Scrapy counts a slot's delay from when the previous request *left*; a slow
answer would then eat into the pause the server sees. A floored slot
therefore has one request in flight at a time, and :class:`OriginThrottle`
restarts the clock when the previous response has *arrived*, so the server
always gets at least the pause it asked for between finishing one answer and
receiving the next request. This needs
``AUTOTHROTTLE_ENABLED`` (on in ``crawler.settings``); without it the floor
still applies, counted Scrapy's way.
"""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy.extensions.throttle import AutoThrottle

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from norms.robots import RobotsTxt

# A little more than asked, for clock granularity and timer slack.
ARRIVAL_MARGIN = 0.05
# The longest pause this crawler waits between two requests to one origin. An
# origin whose robots.txt asks for more is not crawled at all (only its
# robots.txt is read): waiting a day per page would stall the crawl, and
# going faster than asked is not ours to decide.
MAX_FLOOR = 120.0


def origin_floor(robots: RobotsTxt, token: str) -> float:
    """The minimum seconds between two requests to the origin, per its robots.txt (0 if none)."""
    floor = 0.0
    delay = robots.crawl_delay(token)
    if delay:
        floor = max(floor, float(delay))
    rate = robots.request_rate(token)
    if rate is not None and rate.requests > 0:
        floor = max(floor, float(rate.seconds) / float(rate.requests))
    return floor


def too_slow(floor: float) -> bool:
    """Does the origin ask for longer pauses than this crawler waits (``MAX_FLOOR``)?"""
    return floor > MAX_FLOOR


def apply_floor(crawler: Crawler, slot_key: str, floor: float) -> None:
    """Make the download slot ``slot_key`` wait at least ``floor`` seconds between requests."""
    if floor <= 0:
        return
    delay = floor + ARRIVAL_MARGIN
    downloader = crawler.engine.downloader
    settings = downloader.per_slot_settings.setdefault(slot_key, {})
    settings["delay"] = delay
    settings["jitter"] = 0.0
    settings["concurrency"] = 1  # one request at a time: each pause follows a finished answer
    slot = downloader.slots.get(slot_key)
    if slot is not None:
        slot.delay = max(slot.delay, delay)
        slot.jitter = 0.0
        slot.concurrency = 1


def release_turn(crawler: Crawler, slot_key: str) -> None:
    """A signal document of the origin has been answered: the next request need not wait a throttle turn.

    robots.txt, tdmrep.json and same-origin licences are read one at a time,
    each after the previous answer arrived, before the first page. Letting
    them spend AutoThrottle's start-up delay (0.5 s a turn) delays every
    origin's first page by a second without sparing the server anything. An
    origin that asked for a Crawl-delay or Request-rate keeps its floor for
    every request, these included.

    Forgetting when the last request left is not enough: when a download
    finishes, Scrapy's downloader looks at the slot's queue and, if the delay
    has not passed, schedules a wake-up for when it has, *even with an empty
    queue* (``Slot.latercall``). The next request waits for that wake-up
    whatever ``lastseen`` says, so it is cancelled here and the queue looked at
    again now.
    """
    if slot_floor(crawler, slot_key) > 0:
        return
    downloader = crawler.engine.downloader
    slot = downloader.slots.get(slot_key)
    if slot is None:
        return
    slot.lastseen = 0.0
    if slot.latercall is not None:
        slot.latercall.cancel()
        slot.latercall = None
        downloader._process_queue(slot)  # what the cancelled wake-up would have done


def slot_floor(crawler: Crawler, slot_key: str | None) -> float:
    if slot_key is None:
        return 0.0
    value: Any = crawler.engine.downloader.per_slot_settings.get(slot_key, {}).get("delay", 0.0)
    return float(value)


class OriginThrottle(AutoThrottle):
    """AutoThrottle that respects each origin's robots.txt floor."""

    def _adjust_delay(self, slot: Any, latency: float, response: Response) -> None:
        # AutoThrottle lowers the delay on 200s only (error pages are small and quick). A 304
        # answering our conditional request (crawler.recrawl) is a success: without this a
        # re-crawl of unchanged pages never left the 0.5 s start delay and ran 3x slower
        # than the first crawl (tests/bench/test_bench_recrawl.py).
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)

    def _response_downloaded(self, response: Response, request: Request, spider: Any) -> None:
        super()._response_downloaded(response, request, spider)
        key = request.meta.get("download_slot")
        floor = slot_floor(self.crawler, key)
        if floor and key is not None:
            slot = self.crawler.engine.downloader.slots.get(key)
            if slot is not None:
                slot.delay = max(slot.delay, floor)
                slot.lastseen = monotonic()  # the pause starts when the answer is in
