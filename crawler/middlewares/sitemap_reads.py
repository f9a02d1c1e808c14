"""Reading an origin's sitemap footprint beside the crawl, for host classification only.

Source classification tells a platform of millions of templated pages from
a small canonical site by its sitemap, but no page waits for it. Read early,
the sitemap took a turn of the origin's download slot during AutoThrottle's
slow start, and the origin's second page waited behind it; so it is read once
``SITEMAP_AFTER_PAGES`` pages of the origin are answered, or when the crawl
goes idle (which then stays open until the reads are in).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from crawler.limits import too_long
from crawler.middlewares.signal_download import SITEMAP, DocumentDownloader, normal_or_none
from crawler.origin_cache import origin_of
from norms.model import SignalError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.session import CrawlSession
    from norms.classify import SitemapStats
    from norms.robots import RobotsTxt

logger = logging.getLogger(__name__)

# The sitemap is read once this many pages of the origin are answered (or when the
# crawl goes idle): read earlier, it took a turn of the slot's slow start from the pages.
SITEMAP_AFTER_PAGES = 4


class SitemapReads:
    """The sitemap reads of one crawl: which origins wait for theirs, and those in flight."""

    def __init__(self, crawler: Crawler, session: CrawlSession, downloader: DocumentDownloader) -> None:
        self.crawler = crawler
        self.session = session
        self.downloader = downloader
        self._background: set[asyncio.Future[None]] = set()  # sitemap reads in flight
        self._sitemaps_due: dict[str, RobotsTxt] = {}  # origins whose sitemap read waits for pages
        self._answered: dict[str, int] = {}  # answered pages per origin, until its sitemap read starts
        crawler.signals.connect(self._start_due_sitemaps, signal=signals.spider_idle)

    def due(self, origin: str, robots: RobotsTxt) -> None:
        """Read the sitemaps ``robots`` names for ``origin`` once its first pages are answered."""
        self._sitemaps_due[origin] = robots

    def page_answered(self, origin: str) -> None:
        """Count an answered page of ``origin``; its sitemap read starts after ``SITEMAP_AFTER_PAGES``."""
        if origin not in self._sitemaps_due:
            return
        answered = self._answered[origin] = self._answered.get(origin, 0) + 1
        if answered >= SITEMAP_AFTER_PAGES:
            self._start_sitemaps(origin)

    def _start_sitemaps(self, origin: str) -> None:
        robots = self._sitemaps_due.pop(origin, None)
        self._answered.pop(origin, None)
        if robots is None:
            return
        task = asyncio.ensure_future(self._collect_sitemaps(origin, robots))
        self._background.add(task)
        task.add_done_callback(self._sitemap_done)

    def _sitemap_done(self, task: asyncio.Future[None]) -> None:
        self._background.discard(task)
        if not self._background:
            # A crawl kept open for these reads looks again at once, not at the next heartbeat.
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()

    def _start_due_sitemaps(self) -> None:
        """spider_idle: read the sitemaps still waiting for pages; the crawl stays open until they are in."""
        for origin in list(self._sitemaps_due):
            self._start_sitemaps(origin)
        if self._background:
            raise DontCloseSpider

    async def _collect_sitemaps(self, origin: str, robots: RobotsTxt) -> None:
        try:
            stats = await self._sitemaps(origin, robots)
        except Exception:  # classification loses one input; the crawl must not notice
            logger.exception("reading the sitemaps of %s failed", origin)
            return
        if stats:
            self.session.sitemap_stats[urlsplit(origin).hostname or origin] = stats

    async def _sitemaps(self, origin: str, robots: RobotsTxt) -> tuple[SitemapStats, ...]:
        """The origin's sitemap footprint: its first own sitemap and, for an index, one child.

        Source classification tells a platform of millions of templated pages
        from a small canonical site by it. Two capped requests at most, only on
        the origin itself and only where robots.txt allows them.
        """
        from norms.classify import sitemap_stats
        from norms.classify.footprint import MAX_BYTES

        # Sitemap URLs (from robots.txt, and an index's children) are decided
        # and requested in normal form, like page URLs; each redirect hop too.
        own = [u for u in map(normal_or_none, robots.sitemaps) if u is not None and origin_of(u) == origin]
        stats: list[SitemapStats] = []
        url = own[0] if own else None

        def permitted(target: str) -> bool:
            return origin_of(target) == origin and robots.allowed(target, self.session.token)

        while url is not None and len(stats) < 2:
            if not permitted(url):
                break
            doc = await self.downloader.download(url, kind=SITEMAP, origin=origin,
                                       timeout=self.session.signal_timeout, max_bytes=MAX_BYTES, record=False,
                                       hop_allowed=permitted)
            if doc.error is not None or doc.status != 200 or not doc.body:
                break
            try:
                found = sitemap_stats(doc.body, url=url)
            except SignalError as exc:
                logger.info("%s: sitemap %s unreadable: %s", origin, url, exc)
                break
            stats.append(found)
            url = normal_or_none(found.children[0]) if found.children else None
            if url is not None and too_long(self.session, url, "sitemap child"):
                break
        return tuple(stats)
