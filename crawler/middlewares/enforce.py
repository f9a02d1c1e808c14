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

import contextlib
import logging
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urljoin

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawler.extract_pool import pool_for
from crawler.faults import REDIRECT_LOOP, http_error_kind
from crawler.ledger import FetchRecord, evidence_from_verdict
from crawler.ledger.records import storable_json, utc_now
from crawler.ledger.refusals import record_refusal
from crawler.limits import too_long
from crawler.middlewares.politeness import MAX_FLOOR, apply_floor, origin_floor, too_slow
from crawler.middlewares.signals import SIGNAL_META, SignalFetcher
from crawler.origin_cache import OriginSignals
from crawler.payment import OFFER_META, explain_crawler_error
from crawler.recrawl import CONDITIONAL_META, prepare_request
from crawler.request_meta import RECORDED_META
from crawler.session import CrawlSession, session_for
from norms.html import HtmlDoc, parse_html
from norms.http import HeaderLines, header_lines
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

logger = logging.getLogger(__name__)

VERDICT_META = "fairfetch_verdict"  # the verdict after the response, for the spider
HTML_META = "fairfetch_html"  # the parsed page (norms.html.HtmlDoc; tree-less if read in the pool), None if not HTML
PAGE_WORK_META = "fairfetch_page_work"  # the extraction pool's crawler.extract_pool.PageWork for the page
HEADERS_META = "fairfetch_headers"  # the response's norms.http.HeaderLines, built once per response
SIGNAL_IDS_META = "fairfetch_signal_ids"  # ledger snapshot ids in force for this page
WARNINGS_META = "fairfetch_signal_warnings"  # what signal discovery skipped on this page, and why
PAID_META = "fairfetch_paid_attempt"  # the quoted price this HTTP 402 retry offers exactly
PRICE_HEADERS = ("crawler-max-price", "crawler-exact-price")
NORMALISED_META = "fairfetch_normalised"  # rescheduled under its RFC 3986 normal form
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


def page_license_refs(
    url: str, headers: HeaderLines, html: HtmlDoc | None, *, warnings: list[str] | None = None
) -> list[LicenseRef]:
    """RSL licences a response names: ``Link`` headers, ``<link>`` and inline ``<script>``.

    What discovery cannot read (a target that is not a URL) is skipped and
    noted in ``warnings``; the crawler keeps them on the page's ledger row.
    """
    from norms.rsl import discover_from_headers, discover_from_html

    refs = list(discover_from_headers(headers, url, warnings=warnings))
    if html is not None:
        refs.extend(discover_from_html(html, url, warnings=warnings))
    return list(dict.fromkeys(refs))


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
            self._refuse(request, f"unsupported URL scheme in {request.url[:80]!r}", "scheme", None)
        # Every URL (seed, link, redirect target) is decided and requested in
        # its RFC 3986 normal form: "/public/../private/a" is "/private/a".
        try:
            normal = normalize_url(request.url)
        except SignalError as exc:
            self._refuse(request, f"invalid URL: {exc}", "invalid-url", None)
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
            self._error(request, origin.failure, origin.robots.reason,
                        _robots_evidence(origin, origin.robots.reason), origin.signal_ids)
        tokens = tokens_for(origin.robots, self.session.token, self.session.purposes)
        floor = max(origin_floor(origin.robots, token) for token in tokens)
        if too_slow(floor):
            reason = (f"robots.txt asks for {floor:g} s between requests, more than this crawl waits "
                      f"({MAX_FLOOR:g} s): origin not crawled")
            self._refuse(request, reason, "crawl-delay", None, _robots_evidence(origin, reason), origin.signal_ids)
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
            self._refuse(request, verdict.fetch.reason, refusal_kind(verdict), None,
                         _verdict_evidence(verdict), origin.signal_ids)
        request.headers["User-Agent"] = self.session.user_agent_for(request_tokens(self.session.token, verdict))
        request.meta[SIGNAL_IDS_META] = list(origin.signal_ids)
        prepare_request(self.session, request)  # an earlier run's row: validators for a 304
        token = license_token_for(verdict, self.session.grants.license_tokens)
        if token is not None:
            request.headers["Authorization"] = f"License {token}"
        elif self.licences is not None:  # obtained from the licence server (OLP), refreshed once (CAP)
            missing = await self.licences.attach(request, verdict, origin)
            if missing is not None:
                self._refuse(request, missing, "licence", None, _verdict_evidence(verdict), origin.signal_ids)
        self._offer_price(request, origin.origin)
        return None

    def _offer_price(self, request: Request, origin: str) -> None:
        """Set this attempt's price header: the quote on a 402 retry, the ceiling where the origin charges.

        A retry or redirect copy of an earlier attempt arrives with that
        attempt's header and reservation: both are dropped first.
        """
        from norms.access import format_price

        wallet = self.session.wallet
        wallet.release(request.meta.pop(OFFER_META, None))
        for name in PRICE_HEADERS:
            request.headers.pop(name, None)
        quote = request.meta.get(PAID_META)
        if isinstance(quote, tuple):  # reserved when the 402 was read
            request.headers["crawler-exact-price"] = format_price(quote)
            request.meta[OFFER_META] = quote[0]
            return
        offer = wallet.proactive_offer(origin)
        if offer is not None:
            request.headers["crawler-max-price"] = format_price(offer)
            request.meta[OFFER_META] = offer[0]

    # --- after -----------------------------------------------------------------

    async def process_response(self, request: Request, response: Response) -> Response | Request:
        if request.meta.get(SIGNAL_META):
            return response
        status = response.status
        self.session.wallet.release(request.meta.pop(OFFER_META, None))
        if self.licences is not None:
            challenged = self.licences.challenge(request, response)
            if isinstance(challenged, Request):
                self._log(request, "fetched", f"HTTP {status} License error=\"invalid_token\": "
                          "re-requested once with a fresh licence token", status)
                return challenged
            if challenged is not None:
                self._refuse(request, challenged, "licence", status)
        if status == 402:
            return self._payment_required(request, response)
        crawler_errors = response.headers.getlist(b"crawler-error")
        if crawler_errors and not 200 <= status < 300:
            codes = [c.decode("latin-1") for c in crawler_errors]
            self._refuse(request, f"HTTP {status} " + "; ".join(explain_crawler_error(c) for c in codes),
                         "payment", status)
        if 200 <= status < 300 and response.headers.get(b"crawler-charged"):
            self._charged(request, response)
        if status == 304 and request.meta.get(CONDITIONAL_META):
            # The stored row stands: logged here, its stored links followed by the spider.
            self._log(request, "not-modified", "HTTP 304: the stored page is current", 304)
            self.session.summary.not_modified += 1
            self.session.summary.note(request.url, "pages")
            return response
        if not (200 <= status < 300 or status in GATE_STATUSES):
            kind = http_error_kind(status)
            self._log(request, "error", f"HTTP {status}", status)
            self.session.summary.errors[kind] += 1
            self.session.summary.note(request.url, "errors")
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

    def _payment_required(self, request: Request, response: Response) -> Request:
        """HTTP 402: re-request once with the exact quote if we may pay it, else refuse; never store unpaid."""
        from norms.access import parse_price

        raw = (response.headers.get(b"crawler-price") or b"").decode("latin-1").strip()
        price = parse_price(raw) if raw else None
        errors = [c.decode("latin-1") for c in response.headers.getlist(b"crawler-error")]
        said = "".join(f"; {explain_crawler_error(c)}" for c in errors)
        if request.meta.get(PAID_META):
            self._refuse(request, f"HTTP 402 even with crawler-exact-price {raw or '(no quote)'}{said}",
                         "payment", 402)
        if price is None:
            self._refuse(request, f"HTTP 402 with no usable crawler-price ({raw or 'none'}){said}", "payment", 402)
        why = self.session.wallet.refusal(*price)
        if why is not None:
            kind, reason = why
            self._refuse(request, f"HTTP 402 ({raw}): {reason}", kind, 402)
        self.session.wallet.reserve(price)
        self._log(request, "fetched", f"HTTP 402 payment required ({raw}): re-requested with crawler-exact-price", 402)
        return request.replace(dont_filter=True, meta={**request.meta, PAID_META: price})

    def _charged(self, request: Request, response: Response) -> None:
        """A 2xx carrying ``crawler-charged``: count it against the budget and append it to the ledger."""
        from crawler.ledger.spend import record_payment
        from crawler.origin_cache import origin_of
        from norms.access import parse_price

        raw = (response.headers.get(b"crawler-charged") or b"").decode("latin-1").strip()
        price = parse_price(raw)
        if price is None:
            return  # unreadable: norms.access records it as evidence on the page
        origin = origin_of(request.url)
        self.session.wallet.charged(origin, price)
        record_payment(self.session.ledger, crawl_id=self.session.crawl_id, url=request.url, at=utc_now(),
                       amount=price[0], currency=price[1], kind="pay-per-crawl",
                       detail=f"crawler-charged: {raw}")

    # --- failures ----------------------------------------------------------------

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Errors are logged by the spider's errback (it also sees errors raised
        # after this middleware, e.g. the redirect limit); only a price offer is undone.
        self.session.wallet.release(request.meta.pop(OFFER_META, None))
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

    def _refuse(
        self,
        request: Request,
        reason: str,
        kind: str,
        status: int | None,
        evidence: list[dict[str, Any]] | None = None,
        signal_ids: tuple[int, ...] | list[int] = (),
    ) -> NoReturn:
        """A refusal: fetch-log row and its evidence (``ledger show`` reads both), then stop the request."""
        entry = FetchRecord(crawl_id=self.session.crawl_id, url=request.url, at=utc_now(),
                            outcome="refused", reason=reason, status=status)
        record_refusal(self.session.ledger, entry, kind=kind, evidence=evidence or [], signal_ids=list(signal_ids))
        request.meta[RECORDED_META] = True
        self.session.summary.refused[kind] += 1
        self.session.summary.note(request.url, "refused")
        logger.info("refused %s: %s", request.url, reason)
        raise Refused(reason)

    def _error(self, request: Request, kind: str, reason: str, evidence: list[dict[str, Any]],
               signal_ids: tuple[int, ...]) -> None:
        """An error before the request (the origin is unreachable): counted under its kind, with evidence."""
        text = f"{kind}: {reason}"[:500]
        entry = FetchRecord(crawl_id=self.session.crawl_id, url=request.url, at=utc_now(),
                            outcome="error", reason=text, status=None)
        record_refusal(self.session.ledger, entry, kind=kind, evidence=evidence, signal_ids=list(signal_ids))
        request.meta[RECORDED_META] = True
        self.session.summary.errors[kind] += 1
        raise Recorded(text)


def _verdict_evidence(verdict: Verdict) -> list[dict[str, Any]]:
    """The deciding evidence first, then the rest of the verdict's."""
    evidence = evidence_from_verdict(verdict)
    decided = verdict.fetch.decided_by
    if decided is None:
        return evidence
    first = storable_json(decided)
    return [first, *(e for e in evidence if e != first)]


def _robots_evidence(origin: OriginSignals, reason: str) -> list[dict[str, Any]]:
    robots = origin.robots
    return [{
        "signal": "robots.txt",
        "source": robots.source_url or f"{origin.origin}/robots.txt",
        "raw": "; ".join(origin.notes) or robots.reason,
        "rule": reason,
        "line": None,
        "element": None,
    }]


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
