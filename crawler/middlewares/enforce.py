"""The decisions that wrap every page request: before it is sent, and after it is answered.

Before: the origin's signal documents are fetched (once, see ``signals``) and
``norms.evaluate`` decides whether the URL may be requested at all. A refused
request never reaches the network; it gets a ``refused`` fetch-log row with the
reason. Redirect targets come back through here as new requests, so they are
checked like any other URL, on any host.

After: the response is judged with everything it carries (status, headers,
markup, licences it links to). HTTP 402 is paid only within the operator's
price ceiling; errors that survived the retries are logged as such; anything
else goes on to the spider with the verdict attached.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawler.faults import REDIRECT_LOOP, http_error_kind
from crawler.ledger import FetchRecord
from crawler.ledger.records import utc_now
from crawler.middlewares.politeness import MAX_FLOOR, apply_floor, origin_floor, too_slow
from crawler.middlewares.signals import SIGNAL_META, SignalFetcher
from crawler.origin_cache import OriginSignals
from crawler.session import CrawlSession, session_for
from norms.evaluate import evaluate
from norms.html import HtmlDoc, parse_html
from norms.http import HeaderLines, header_lines
from norms.model import LicenseRef, ObligationKind
from norms.verdict import Verdict

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from norms.rsl import LicenseSource

logger = logging.getLogger(__name__)

VERDICT_META = "fairfetch_verdict"  # the verdict after the response, for the spider
HTML_META = "fairfetch_html"  # the parsed page (norms.html.HtmlDoc), None if not HTML
HEADERS_META = "fairfetch_headers"  # the response's norms.http.HeaderLines, built once per response
SIGNAL_IDS_META = "fairfetch_signal_ids"  # ledger snapshot ids in force for this page
PAID_META = "fairfetch_paid_attempt"  # this request carries our price ceiling (HTTP 402 retry)
RECORDED_META = "fairfetch_recorded"  # the outcome is already in the ledger
# Statuses whose response goes on to the spider to be stored metadata-only:
# the answer itself is the evidence that the page may not be used.
GATE_STATUSES = (401, 403, 451)
_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


class Refused(IgnoreRequest):
    """The norms refused this request (or the use of its response); the ledger has the reason."""


class Recorded(IgnoreRequest):
    """The response was an error that is already logged; nothing for the spider to do."""


def license_token_for(verdict: Verdict, tokens: dict[str, str]) -> str | None:
    """The RSL licence token to present (``Authorization: License <token>``, RSL CAP), if one applies.

    A permitted purpose that depends on a licence server carries a
    ``license-token`` obligation naming the server; the operator's token for
    that server is what proves the licence to the content host.
    """
    for usage in verdict.permitted_purposes:
        for obligation in verdict.usages[usage].obligations:
            if obligation.kind is ObligationKind.LICENSE_TOKEN and obligation.url in tokens:
                return tokens[obligation.url]
    return None


def refusal_kind(verdict: Verdict) -> str:
    """Summary key for a refusal: which signal decided it."""
    ev = verdict.fetch.decided_by
    return ev.signal.value if ev is not None else "norms"


def scrapy_header_lines(response: Response) -> HeaderLines:
    """Scrapy's bytes headers as the ordered ``(name, value)`` lines ``norms`` reads (repeats kept)."""
    return header_lines(
        [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items()
            for value in values
        ]
    )


def is_html(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    return ctype in _HTML_TYPES or (not ctype and response.body.lstrip()[:15].lower().startswith(b"<!doctype html"))


class EnforceMiddleware:
    """Decides before every page request and after every page response (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.session: CrawlSession = session_for(crawler)
        self.fetcher = SignalFetcher(crawler, self.session)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EnforceMiddleware:
        return cls(crawler)

    # --- before ----------------------------------------------------------------

    async def process_request(self, request: Request) -> None:
        if request.meta.get(SIGNAL_META):
            return None
        if not request.url.startswith(("http://", "https://")):
            self._refuse(request, f"unsupported URL scheme in {request.url[:80]!r}", "scheme", None)
        origin = await self.fetcher.for_url(request.url)
        request.meta["download_slot"] = origin.origin
        floor = origin_floor(origin.robots, self.session.token)
        if too_slow(floor):
            self._refuse(
                request,
                f"robots.txt asks for {floor:g} s between requests, more than this crawl waits "
                f"({MAX_FLOOR:g} s): origin not crawled",
                "crawl-delay",
                None,
            )
        apply_floor(self.crawler, origin.origin, floor)
        verdict = evaluate(
            request.url,
            user_agent=self.session.token,
            purposes=self.session.purposes,
            robots=origin.robots,
            licenses=origin.licenses,
            tdmrep=origin.tdmrep,
            grants=self.session.grants,
        )
        if not verdict.fetch.allowed:
            self._refuse(request, verdict.fetch.reason, refusal_kind(verdict), None)
        request.meta[SIGNAL_IDS_META] = list(origin.signal_ids)
        token = license_token_for(verdict, self.session.grants.license_tokens)
        if token is not None:
            request.headers["Authorization"] = f"License {token}"
        if request.meta.get(PAID_META):
            from norms.access import pay_per_crawl_headers

            quoted = request.meta[PAID_META]
            price = quoted if isinstance(quoted, tuple) else None
            for name, value in pay_per_crawl_headers(price, self.session.grants).items():
                request.headers[name] = value
        return None

    # --- after -----------------------------------------------------------------

    async def process_response(self, request: Request, response: Response) -> Response | Request:
        if request.meta.get(SIGNAL_META):
            return response
        status = response.status
        if status == 402:
            return self._payment_required(request, response)
        if not (200 <= status < 300 or status in GATE_STATUSES):
            kind = http_error_kind(status)
            self._log(request, "error", f"HTTP {status}", status)
            self.session.summary.errors[kind] += 1
            raise Recorded(f"HTTP {status}")
        origin = await self.fetcher.for_url(request.url)
        self.fetcher.page_answered(origin.origin)
        verdict, page_ids = await self._judge(request, response, origin)
        request.meta[VERDICT_META] = verdict
        request.meta[SIGNAL_IDS_META] = list(dict.fromkeys([*origin.signal_ids, *page_ids]))
        return response

    async def _judge(
        self, request: Request, response: Response, origin: OriginSignals
    ) -> tuple[Verdict, list[int]]:
        headers = scrapy_header_lines(response)
        request.meta[HEADERS_META] = headers
        # One parse serves the norms, licence discovery, classification and link extraction.
        html = parse_html(response.body) if is_html(response) else None
        request.meta[HTML_META] = html
        licenses: list[LicenseSource] = list(origin.licenses)
        ids: list[int] = []
        for ref in self._page_license_refs(response.url, headers, html):
            source, sid = await self.fetcher.license(ref)
            licenses.append(source)
            if sid is not None:
                ids.append(sid)
        verdict = evaluate(
            response.url,
            user_agent=self.session.token,
            purposes=self.session.purposes,
            robots=origin.robots,
            licenses=licenses,
            tdmrep=origin.tdmrep,
            status=response.status,
            headers=headers,
            html=html,
            grants=self.session.grants,
        )
        return verdict, ids

    @staticmethod
    def _page_license_refs(url: str, headers: HeaderLines, html: HtmlDoc | None) -> list[LicenseRef]:
        """RSL licences the response names: ``Link`` headers, ``<link>`` and inline ``<script>``."""
        from norms.rsl import discover_from_headers, discover_from_html

        refs = list(discover_from_headers(headers, url))
        if html is not None:
            refs.extend(discover_from_html(html, url))
        return list(dict.fromkeys(refs))

    def _payment_required(self, request: Request, response: Response) -> Request:
        """HTTP 402: pay once within the ceiling, else refuse; never store the page unpaid."""
        from norms.access import parse_price

        grants = self.session.grants
        raw = (response.headers.get(b"crawler-price") or b"").decode("latin-1").strip()
        price = parse_price(raw) if raw else None
        if grants.max_price is None:
            self._refuse(request, "HTTP 402 payment required and no price ceiling (--max-price) set",
                         "payment", 402)
        if request.meta.get(PAID_META):
            self._refuse(request, f"HTTP 402 even with our price ceiling ({raw or 'no price quoted'})",
                         "payment", 402)
        if price is not None and not grants.accepts_price(*price):
            self._refuse(request, f"HTTP 402: price {raw} above the ceiling", "payment", 402)
        self._log(request, "fetched",
                  f"HTTP 402 payment required ({raw or 'no price quoted'}): re-requested within the ceiling", 402)
        return request.replace(dont_filter=True, meta={**request.meta, PAID_META: price or True})

    # --- failures ----------------------------------------------------------------

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Errors are logged by the spider's errback (it also sees errors raised
        # after this middleware, e.g. the redirect limit); nothing to do here.
        return None

    # --- ledger ------------------------------------------------------------------

    def _log(self, request: Request, outcome: str, reason: str, status: int | None) -> None:
        self.session.ledger.record_fetch(
            FetchRecord(
                crawl_id=self.session.crawl_id,
                url=request.url,
                at=utc_now(),
                outcome=outcome,
                reason=reason,
                status=status,
            )
        )
        request.meta[RECORDED_META] = True

    def _refuse(self, request: Request, reason: str, kind: str, status: int | None) -> None:
        self._log(request, "refused", reason, status)
        self.session.summary.refused[kind] += 1
        logger.info("refused %s: %s", request.url, reason)
        raise Refused(reason)


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
        return response
