"""The download handler of a scaled-out crawl: a request to an origin with a Crawl-delay floor leaves only on the origin's crawl-wide turn.

The turn is a pacing record in Redis (:meth:`crawler.scaleout.ScaleOut.claim`),
so a robots.txt floor holds for the whole crawl, not per worker. Set as
``DOWNLOAD_HANDLERS`` by :func:`crawler.shared_crawl.scrapy_settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.middlewares.politeness import slot_floor
from crawler.pauses import PausingHTTPHandler
from crawler.scaleout import ScaleOut, scaleout_for

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


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
