"""Each redirect hop in the fetch log, before Scrapy turns it into a new request that is checked again.

A redirect target is decided like any other URL when its request reaches
``EnforceMiddleware``; this middleware only writes the hop down, and stops a
loop (which the scheduler would drop silently as a duplicate) or a target
over the URL length limit with a row that says so.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from crawler.faults import REDIRECT_LOOP
from crawler.ledger import FetchRecord
from crawler.ledger.records import utc_now
from crawler.limits import too_long
from crawler.middlewares.fetch_log import Recorded
from crawler.middlewares.signals import SIGNAL_META
from crawler.request_meta import RECORDED_META
from crawler.session import session_for
from norms.model import SignalError
from norms.urls import normalize_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class RedirectLogMiddleware:
    """Logs each redirect hop before RedirectMiddleware turns it into a new (re-checked) request."""

    def __init__(self, crawler: Crawler) -> None:
        self.session = session_for(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectLogMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(SIGNAL_META) or request.meta.get("dont_redirect"):
            return response
        location = response.headers.get(b"Location")
        if 300 <= response.status < 400 and location:
            target = location.decode("latin-1").strip()
            absolute = urljoin(request.url, target)
            # The hop is requested (and so compared) in normal form; an invalid
            # one is refused when the redirected request reaches EnforceMiddleware.
            with contextlib.suppress(SignalError):
                absolute = normalize_url(absolute)
            chain = [*request.meta.get("redirect_urls", []), request.url]
            if absolute in chain:
                # A loop: the scheduler would silently drop the repeat as a
                # duplicate, so say here what happened.
                reason = f"{REDIRECT_LOOP}: {' -> '.join([*chain, absolute])}"[:500]
                self.session.ledger.record_fetch(
                    FetchRecord(crawl_id=self.session.crawl_id, url=request.url, at=utc_now(),
                                outcome="error", reason=reason, status=response.status)
                )
                self.session.summary.errors[REDIRECT_LOOP] += 1
                request.meta[RECORDED_META] = True
                raise Recorded(reason)
            self.session.ledger.record_fetch(
                FetchRecord(
                    crawl_id=self.session.crawl_id,
                    url=request.url,
                    at=utc_now(),
                    outcome="redirected",
                    reason=f"HTTP {response.status} to {target}"[:500],
                    status=response.status,
                )
            )
            self.session.summary.redirected += 1
            if too_long(self.session, absolute, "redirect target"):
                request.meta[RECORDED_META] = True
                raise Recorded(f"redirect target over the URL length limit: {absolute[:80]}...")
        return response
