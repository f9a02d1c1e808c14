"""The decisions that wrap every page request: before it is sent, and after it is answered.

Before: the origin's signal documents are fetched (once, see ``signals``) and
``norms.evaluate`` decides whether the URL may be requested at all. A refused
request never reaches the network; it gets a ``refused`` fetch-log row with the
reason. Redirect targets come back through here as new requests, so they are
checked like any other URL, on any host.

After: the response is judged with everything it carries (status, headers,
markup, licences it links to). HTTP 402 is paid only within the operator's
price ceiling; errors that survived the retries are logged as such; anything
else goes on to the spider with the verdict attached, or, for a page read in
the extraction pool, with the verdict being decided (``decided``): waiting for
a worker must not hold one of the crawl's request slots.

The parts are in their own modules: reading a response (``responses``), the
fetch-log rows of refusals and errors (``fetch_log``), price offers, 402s and
charges (``paying``), and the log of redirect hops (``redirect_log``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from scrapy import Request

from crawler.extract_pool import pool_for
from crawler.faults import http_error_kind
from crawler.middlewares.fetch_log import (
    Recorded,
    Refused,
    log_fetch,
    refusal_kind,
    refuse,
    robots_evidence,
    unreachable,
    verdict_evidence,
)
from crawler.middlewares.paying import PAID_META, offer_price, payment_required, settle
from crawler.middlewares.politeness import MAX_FLOOR, apply_floor, origin_floor, too_slow
from crawler.middlewares.redirect_log import RedirectLogMiddleware
from crawler.middlewares.responses import is_html, page_license_refs, scrapy_header_lines
from crawler.middlewares.signals import SIGNAL_META, SignalFetcher
from crawler.origin_cache import OriginSignals
from crawler.payment import OFFER_META
from crawler.recrawl import CONDITIONAL_META, prepare_request
from crawler.session import CrawlSession, session_for
from norms.html import HtmlDoc, parse_html
from norms.http import HeaderLines
from norms.model import LicenseRef, ObligationKind, SignalError
from norms.page_facts import PageFacts
from norms.purposes import evaluate_purposes, request_tokens, tokens_for
from norms.urls import normalize_url
from norms.verdict import Verdict

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.licensing import LicenceTokens
    from norms.rsl import LicenseSource

# Moved out along their seams and still importable from here, where settings and callers name them.
__all__ = [
    "GATE_STATUSES",
    "HEADERS_META",
    "HTML_META",
    "NORMALISED_META",
    "PAGE_WORK_META",
    "PAID_META",
    "SIGNAL_IDS_META",
    "VERDICT_META",
    "WARNINGS_META",
    "EnforceMiddleware",
    "Recorded",
    "RedirectLogMiddleware",
    "Refused",
    "is_html",
    "license_token_for",
    "page_license_refs",
    "refusal_kind",
    "scrapy_header_lines",
]

VERDICT_META = "fairfetch_verdict"  # the verdict after the response, for the spider
JUDGEMENT_META = "fairfetch_judgement"  # the verdict still being decided (a page read in the pool): decided()
HTML_META = "fairfetch_html"  # the parsed page (norms.html.HtmlDoc; tree-less if read in the pool), None if not HTML
PAGE_WORK_META = "fairfetch_page_work"  # the extraction pool's crawler.extract_pool.PageWork for the page
HEADERS_META = "fairfetch_headers"  # the response's norms.http.HeaderLines, built once per response
SIGNAL_IDS_META = "fairfetch_signal_ids"  # ledger snapshot ids in force for this page
WARNINGS_META = "fairfetch_signal_warnings"  # what signal discovery skipped on this page, and why
NORMALISED_META = "fairfetch_normalised"  # rescheduled under its RFC 3986 normal form
# Statuses whose response goes on to the spider to be stored metadata-only:
# the answer itself is the evidence that the page may not be used.
GATE_STATUSES = (401, 403, 451)


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


class EnforceMiddleware:
    """Decides before every page request and after every page response (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.session: CrawlSession = session_for(crawler)
        self.fetcher = SignalFetcher(crawler, self.session)
        self.licences: LicenceTokens | None = None
        if self.session.license_credentials:
            from crawler.licensing import LicenceTokens

            self.licences = LicenceTokens(crawler, self.session, self.fetcher, self.session.license_credentials)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EnforceMiddleware:
        return cls(crawler)

    # --- before ----------------------------------------------------------------

    async def process_request(self, request: Request) -> Request | None:
        if request.meta.get(SIGNAL_META):
            return None
        if not request.url.startswith(("http://", "https://")):
            refuse(self.session, request, f"unsupported URL scheme in {request.url[:80]!r}", "scheme", None)
        # Every URL (seed, link, redirect target) is decided and requested in
        # its RFC 3986 normal form: "/public/../private/a" is "/private/a".
        try:
            normal = normalize_url(request.url)
        except SignalError as exc:
            refuse(self.session, request, f"invalid URL: {exc}", "invalid-url", None)
        if normal != request.url and not request.meta.get(NORMALISED_META):
            # Rescheduled under its normal form; nothing is sent for the spelling
            # given. The scheduler already let this request through its duplicate
            # filter, whose fingerprint (w3lib's canonical URL) is the same for
            # both spellings, so the replacement must not be filtered again.
            return request.replace(url=normal, dont_filter=True, meta={**request.meta, NORMALISED_META: True})
        origin = await self.fetcher.for_url(request.url)
        request.meta["download_slot"] = origin.origin
        if origin.failure is not None:
            # The origin could not be reached at all (DNS, connection, timeout): an error of that
            # kind, not a publisher's refusal, though nothing is requested there all the same.
            unreachable(self.session, request, origin.failure, origin.robots.reason,
                        robots_evidence(origin, origin.robots.reason), origin.signal_ids)
        tokens = tokens_for(origin.robots, self.session.token, self.session.purposes)
        floor = max(origin_floor(origin.robots, token) for token in tokens)
        if too_slow(floor):
            reason = (f"robots.txt asks for {floor:g} s between requests, more than this crawl waits "
                      f"({MAX_FLOOR:g} s): origin not crawled")
            refuse(self.session, request, reason, "crawl-delay", None, robots_evidence(origin, reason),
                   origin.signal_ids)
        apply_floor(self.crawler, origin.origin, floor)
        verdict = evaluate_purposes(
            request.url,
            base_token=self.session.token,
            purposes=self.session.purposes,
            robots=origin.robots,
            licenses=origin.licenses,
            tdmrep=origin.tdmrep,
            grants=self.session.grants,
        )
        if not verdict.fetch.allowed:
            refuse(self.session, request, verdict.fetch.reason, refusal_kind(verdict), None,
                   verdict_evidence(verdict), origin.signal_ids)
        request.headers["User-Agent"] = self.session.user_agent_for(request_tokens(self.session.token, verdict))
        request.meta[SIGNAL_IDS_META] = list(origin.signal_ids)
        prepare_request(self.session, request)  # an earlier run's row: validators for a 304
        token = license_token_for(verdict, self.session.grants.license_tokens)
        if token is not None:
            request.headers["Authorization"] = f"License {token}"
        elif self.licences is not None:  # obtained from the licence server (OLP), refreshed once (CAP)
            missing = await self.licences.attach(request, verdict, origin)
            if missing is not None:
                refuse(self.session, request, missing, "licence", None, verdict_evidence(verdict),
                       origin.signal_ids)
        offer_price(self.session, request, origin.origin)
        return None

    # --- after -----------------------------------------------------------------

    async def process_response(self, request: Request, response: Response) -> Response | Request:
        if request.meta.get(SIGNAL_META):
            return response
        status = response.status
        self.session.wallet.release(request.meta.pop(OFFER_META, None))
        if self.licences is not None:
            challenged = self.licences.challenge(request, response)
            if isinstance(challenged, Request):
                log_fetch(self.session, request, "fetched", f"HTTP {status} License error=\"invalid_token\": "
                          "re-requested once with a fresh licence token", status)
                return challenged
            if challenged is not None:
                refuse(self.session, request, challenged, "licence", status)
        if status == 402:
            return payment_required(self.session, request, response)
        settle(self.session, request, response)  # a crawler-error refuses, a crawler-charged is recorded
        if status == 304 and request.meta.get(CONDITIONAL_META):
            # The stored row stands: logged here, its stored links followed by the spider.
            log_fetch(self.session, request, "not-modified", "HTTP 304: the stored page is current", 304)
            self.session.summary.not_modified += 1
            self.session.summary.note(request.url, "pages")
            return response
        if not (200 <= status < 300 or status in GATE_STATUSES):
            kind = http_error_kind(status)
            log_fetch(self.session, request, "error", f"HTTP {status}", status)
            self.session.summary.errors[kind] += 1
            self.session.summary.note(request.url, "errors")
            raise Recorded(f"HTTP {status}")
        origin = await self.fetcher.for_url(request.url)
        self.fetcher.page_answered(origin.origin)
        judging = self._judge_into_meta(request, response, origin)
        if is_html(response) and pool_for(self.crawler) is not None:
            # Read in the pool and decided off the download path: the page waits for a worker
            # without holding one of the crawl's request slots; the spider awaits the verdict
            # (decided()) before it uses the response.
            request.meta[JUDGEMENT_META] = asyncio.ensure_future(judging)
            return response
        await judging
        return response

    async def _judge_into_meta(self, request: Request, response: Response, origin: OriginSignals) -> None:
        verdict, page_ids = await self._judge(request, response, origin)
        request.meta[VERDICT_META] = verdict
        request.meta[SIGNAL_IDS_META] = list(dict.fromkeys([*origin.signal_ids, *page_ids]))

    async def _judge(
        self, request: Request, response: Response, origin: OriginSignals
    ) -> tuple[Verdict, list[int]]:
        headers = scrapy_header_lines(response)
        request.meta[HEADERS_META] = headers
        # One parse serves the norms, licence discovery, classification and link extraction:
        # in the extraction pool when there is one (the reactor then never parses the page).
        page: HtmlDoc | PageFacts | None = None
        html: HtmlDoc | None = None
        if is_html(response):
            pool = pool_for(self.crawler)
            if pool is None:
                page = html = parse_html(response.body)
            else:
                tokens = tuple(tokens_for(origin.robots, self.session.token, self.session.purposes))
                work = await pool.read(response.body, response.text, response.url, headers, tokens,
                                       self.session.extract)
                request.meta[PAGE_WORK_META] = work
                assert work.facts is not None
                page, html = work.facts, work.facts.doc
        request.meta[HTML_META] = html
        licenses: list[LicenseSource] = list(origin.licenses)
        ids: list[int] = []
        warnings: list[str] = []
        request.meta[WARNINGS_META] = warnings
        for ref in self._page_license_refs(response.url, headers, html, warnings):
            source, sid = await self.fetcher.license(ref)
            licenses.append(source)
            if sid is not None:
                ids.append(sid)
        verdict = evaluate_purposes(
            response.url,
            base_token=self.session.token,
            purposes=self.session.purposes,
            robots=origin.robots,
            licenses=licenses,
            tdmrep=origin.tdmrep,
            status=response.status,
            headers=headers,
            html=page,
            grants=self.session.grants,
        )
        return verdict, ids

    @staticmethod
    def _page_license_refs(
        url: str, headers: HeaderLines, html: HtmlDoc | None, warnings: list[str]
    ) -> list[LicenseRef]:
        return page_license_refs(url, headers, html, warnings=warnings)

    # --- failures ----------------------------------------------------------------

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Errors are logged by the spider's errback (it also sees errors raised
        # after this middleware, e.g. the redirect limit); only a price offer is undone.
        self.session.wallet.release(request.meta.pop(OFFER_META, None))
        return None


async def decided(response: Response) -> None:
    """Wait until ``response`` carries its verdict (``VERDICT_META``).

    A page read in the extraction pool is decided after ``process_response``
    has let it go, so that it does not hold a request slot while it waits for
    a worker; the spider awaits this before it uses the response. Any other
    response is decided already.
    """
    pending = response.meta.pop(JUDGEMENT_META, None)
    if pending is not None:
        await pending
