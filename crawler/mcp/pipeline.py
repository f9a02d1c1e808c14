"""One page fetched on an agent's behalf under exactly the crawler's rules, and recorded like a crawl.

Before the request (``crawler.middlewares.enforce.EnforceMiddleware.process_request``):
the origin's signal documents (``crawler.mcp.origins``), an origin asking for
more than ``MAX_FLOOR`` seconds between requests is refused, then
``norms.evaluate`` on the URL for the declared purpose; a refusal never
reaches the network. Redirect targets are checked like new URLs, on any
host. After the response (``process_response``): HTTP 402 is paid once
within ``--max-price`` or refused, errors are errors, and everything else is
judged with its status, headers, markup and the licences it names. The text
given back is what the crawler would store: main text extracted after the
paywalled and excluded parts are removed, nothing at all when no declared
purpose is allowed. Every request, refusal and error is a ledger row; every
judged page is a page row with its decisions and evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

import anyio

from crawler.ledger import (
    FetchRecord,
    PageRecord,
    decisions_from_verdict,
    evidence_from_verdict,
    obligations_from_verdict,
)
from crawler.ledger.records import utc_now
from crawler.mcp.config import Initiated, ServerConfig
from crawler.mcp.fetcher import Answer, HttpFetcher, Refused, Unresolvable
from crawler.mcp.origins import OriginDocs, initiated_by
from crawler.mcp.pacing import OriginPacer, TooEarly
from crawler.mcp.paying import Payer
from crawler.mcp.recorder import Recorder
from crawler.middlewares.enforce import GATE_STATUSES, license_token_for, page_license_refs
from crawler.middlewares.politeness import MAX_FLOOR, origin_floor, too_slow
from crawler.origin_cache import OriginSignals
from crawler.payment import explain_crawler_error
from norms.access import format_price
from norms.evaluate import evaluate
from norms.html import HtmlDoc, parse_html
from norms.http import HeaderLines, header_lines
from norms.model import Evidence, Signal, Usage
from norms.purposes import evaluate_purposes, request_tokens, tokens_for
from norms.verdict import Verdict

if TYPE_CHECKING:
    from attribution import Source
    from crawler.extract import Extracted
    from crawler.identity.signing import RequestSigner
    from norms.access import Price
    from norms.classify import Classification
    from norms.rsl import LicenseSource

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/plain", "text/markdown", "application/json", "text/csv")


class ToolFailure(Exception):
    """Something the agent (or the network) caused that is no norms decision: one plain sentence."""


@dataclass
class PageOutcome:
    """What one fetch came to. ``text`` and ``html`` are set only when the page may be used."""

    url: str
    final_url: str
    purpose: Usage
    initiated: Initiated
    allowed: bool
    reason: str
    decided_by: Evidence | None = None
    verdict: Verdict | None = None
    status: int | None = None
    origin: OriginSignals | None = None
    page_licenses: list[LicenseSource] = field(default_factory=list)
    headers: HeaderLines | None = None
    doc: HtmlDoc | None = None
    text: str | None = None
    html: str | None = None
    extracted: Extracted | None = None
    source: Source | None = None
    charged: str | None = None
    fetched_at: datetime = field(default_factory=utc_now)


def content_type(lines: HeaderLines) -> str:
    return next((v for k, v in lines if k == "content-type"), "").split(";")[0].strip().lower()


class Pipeline:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.recorder = Recorder(config)
        self.payer = Payer(config.wallet(), self.recorder)
        self.http = HttpFetcher(user_agent=config.user_agent("agent"), allow_private=config.allow_private,
                                signer=_signer(config))
        self.pacer = OriginPacer(config.limits.max_wait)
        self.docs = OriginDocs(config, self.http, self.pacer, self.recorder)

    async def aclose(self) -> None:
        await self.http.aclose()
        self.recorder.close()

    async def fetch(self, url: str, purpose: Usage, initiated: Initiated) -> PageOutcome:
        reset = initiated_by.set(initiated)
        try:
            return await self._fetch(url.strip(), purpose, initiated)
        finally:
            initiated_by.reset(reset)

    # --- the request loop -----------------------------------------------------------

    async def _fetch(self, url: str, purpose: Usage, initiated: Initiated) -> PageOutcome:
        url = urldefrag(url)[0] if url else url
        await self._check_target(url, initiated, first=True)
        token, grants, limits = self.config.token, self.config.grants, self.config.limits
        current = url
        chain = [url]
        quote: Price | None = None  # the 402 quote this retry pays exactly (reserved in the wallet)
        while True:
            origin = await self.docs.for_url(current)
            tokens = tokens_for(origin.robots, token, (purpose,))
            floor = max(origin_floor(origin.robots, t) for t in tokens)
            if too_slow(floor):
                reason = (f"robots.txt asks for {floor:g} s between requests, more than fairfetch waits "
                          f"({MAX_FLOOR:g} s): origin not fetched")
                await self._log(initiated, current, "refused", reason, None)
                return PageOutcome(url, current, purpose, initiated, False, reason,
                                   decided_by=_crawl_delay_evidence(origin, floor), origin=origin)
            self.pacer.set_floor(origin.origin, max(floor, self.pacer.floor(origin.origin)))
            verdict = evaluate_purposes(current, base_token=token, purposes=(purpose,), robots=origin.robots,
                                        licenses=origin.licenses, tdmrep=origin.tdmrep, grants=grants)
            if not verdict.fetch.allowed:
                await self._log(initiated, current, "refused", verdict.fetch.reason, None)
                return PageOutcome(url, current, purpose, initiated, False, verdict.fetch.reason,
                                   decided_by=decider(verdict, purpose), verdict=verdict, origin=origin)
            headers: dict[str, str] = {}
            licence_token = license_token_for(verdict, grants.license_tokens)
            if licence_token is not None:
                headers["Authorization"] = f"License {licence_token}"
            offered = self.payer.offer(headers, origin.origin, quote)
            try:
                async with self.pacer.turn(origin.origin):
                    answer = await self.http.get(
                        current, timeout=limits.page_timeout, max_bytes=limits.page_max_bytes, headers=headers,
                        user_agent=self.config.user_agent(initiated, request_tokens(token, verdict)))
            except TooEarly as exc:
                raise ToolFailure(str(exc)) from None
            finally:
                self.payer.wallet.release(offered)
            await self._failed(answer, initiated)
            status = answer.status
            assert status is not None
            location = answer.header("location")
            if 300 <= status < 400 and location:
                target = urldefrag(urljoin(current, location.strip()))[0]
                if target in chain:
                    reason = f"redirect loop: {' -> '.join([*chain, target])}"[:500]
                    await self._log(initiated, current, "error", reason, status)
                    raise ToolFailure(reason)
                if len(chain) > limits.max_redirects:
                    reason = f"more than {limits.max_redirects} redirects from {url}"
                    await self._log(initiated, current, "error", reason, status)
                    raise ToolFailure(reason)
                await self._log(initiated, current, "redirected", f"HTTP {status} to {location.strip()}", status)
                await self._check_target(target, initiated, first=False)
                chain.append(target)
                current = target
                quote = None
                continue
            if status == 402:
                refusal, quote = self.payer.payment_required(answer, quote)
                if refusal is not None:
                    await self._log(initiated, current, "refused", refusal, 402)
                    gated = evaluate(current, user_agent=token, purposes=(purpose,), robots=origin.robots,
                                     status=402, headers=answer.headers, grants=grants)
                    return PageOutcome(url, current, purpose, initiated, False, refusal,
                                       decided_by=decider(gated, purpose), verdict=gated, status=402,
                                       origin=origin, headers=header_lines(answer.headers))
                assert quote is not None
                await self._log(initiated, current, "fetched",
                                f"HTTP 402 payment required ({format_price(quote)}): "
                                "re-requested with crawler-exact-price", 402)
                continue
            errors = [v for k, v in answer.headers if k == "crawler-error"]
            if errors and not 200 <= status < 300:
                reason = f"HTTP {status} " + "; ".join(explain_crawler_error(c) for c in errors)
                await self._log(initiated, current, "refused", reason, status)
                raise ToolFailure(reason)
            if not (200 <= status < 300 or status in GATE_STATUSES):
                await self._log(initiated, current, "error", f"HTTP {status}", status)
                raise ToolFailure(f"{current} answered HTTP {status}: no page to give")
            if answer.truncated:
                reason = f"page larger than {limits.page_max_bytes} bytes: not read past the limit, not used"
                await self._log(initiated, current, "error", reason, status)
                raise ToolFailure(reason)
            if 200 <= status < 300 and answer.header("crawler-charged"):
                await self.payer.charged(initiated, current, origin.origin, answer.header("crawler-charged") or "")
            return await self._judge(url, current, purpose, initiated, origin, answer)

    async def _check_target(self, url: str, initiated: Initiated, *, first: bool) -> None:
        """The checker's guard on a URL before anything is requested from it (and on each redirect target)."""
        hop = "" if first else "redirect target "
        try:
            await self.http.validate(url)
        except Refused as exc:
            reason = f"{hop}refused: {exc}"
            if not self.config.allow_private and "address" in str(exc):
                reason += " (start the server with --allow-private to fetch from your own network)"
            if url:
                await self._log(initiated, url, "refused", reason, None)
            raise ToolFailure(reason) from None
        except Unresolvable as exc:
            await self._log(initiated, url, "error", f"dns: {exc}", None)
            raise ToolFailure(f"{hop}dns: {exc}") from None

    async def _failed(self, answer: Answer, initiated: Initiated) -> None:
        if answer.refused is not None:
            await self._log(initiated, answer.url, "refused", f"refused: {answer.refused}", None)
            raise ToolFailure(f"refused: {answer.refused}")
        if answer.error is not None:
            await self._log(initiated, answer.url, "error", answer.error, None)
            raise ToolFailure(f"{answer.url}: {answer.error}")

    # --- after the response ---------------------------------------------------------------

    async def _judge(self, url: str, final: str, purpose: Usage, initiated: Initiated,
                     origin: OriginSignals, answer: Answer) -> PageOutcome:
        lines = header_lines(answer.headers)
        status = answer.status
        assert status is not None
        ctype = content_type(lines)
        is_html = ctype in _HTML_TYPES or (not ctype and answer.body.lstrip()[:15].lower().startswith(b"<!doctype html"))
        doc = parse_html(answer.body) if is_html else None
        licenses = list(origin.licenses)
        ids = list(origin.signal_ids)
        page_licenses: list[LicenseSource] = []
        for ref in page_license_refs(final, lines, doc):
            source, sid = await self.docs.license(ref)
            page_licenses.append(source)
            if sid is not None:
                ids.append(sid)
        verdict = evaluate_purposes(final, base_token=self.config.token, purposes=(purpose,),
                                    robots=origin.robots, licenses=[*licenses, *page_licenses],
                                    tdmrep=origin.tdmrep, status=status, headers=lines, html=doc,
                                    grants=self.config.grants)
        permitted = bool(verdict.permitted_purposes) and status not in GATE_STATUSES
        outcome = PageOutcome(url, final, purpose, initiated, permitted,
                              verdict.fetch.reason if permitted or not verdict.fetch.allowed else f"HTTP {status}",
                              decided_by=None if permitted else decider(verdict, purpose), verdict=verdict,
                              status=status, origin=origin, page_licenses=page_licenses, headers=lines, doc=doc,
                              charged=next((v for k, v in lines if k == "crawler-charged"), None))
        # Decoded as Scrapy decodes a crawled page: header charset, BOM, <meta charset>, then guesses.
        from w3lib.encoding import html_to_unicode

        _encoding, body_text = html_to_unicode(next((v for k, v in lines if k == "content-type"), None),
                                               answer.body)
        classification: Classification | None = None
        metadata: dict[str, Any] = {}
        if doc is not None:
            from crawler.extract import extract
            from norms.classify import classify_page

            # Excluded parts are dropped first, so neither text nor metadata comes from them.
            outcome.extracted = extract(body_text, final, exclude_selectors=verdict.exclude_selectors, doc=doc)
            metadata = outcome.extracted.metadata()
            classification = classify_page(final, doc, headers=lines)
            # The page's own links, so that a source rebuilt from the ledger cites it the same way.
            for key, value in classification.links.model_dump().items():
                if value and key not in metadata:
                    metadata[key] = value
            if permitted:
                outcome.text = outcome.extracted.text or ""
                if verdict.exclude_selectors:
                    from norms.paywall import remove_parts

                    outcome.html = remove_parts(body_text, list(verdict.exclude_selectors))
                else:
                    outcome.html = body_text
        elif permitted and (ctype in _TEXT_TYPES or ctype.startswith("text/")):
            outcome.text = outcome.html = body_text
        elif permitted:
            await self._log(initiated, final, "error", f"unsupported content type {ctype or 'unknown'}", status)
            raise ToolFailure(f"{final} is {ctype or 'of unknown type'}: only HTML and text pages are given back")
        if final != url:
            metadata["redirected_from"] = [url]
        metadata["initiated"] = "user-initiated" if initiated == "user" else "autonomous"
        outcome.source = _source(verdict, outcome, classification)
        reason = outcome.reason
        crawl_id = await anyio.to_thread.run_sync(self.recorder.crawl_id, initiated)
        record = PageRecord(
            url=final,
            canonical_url=outcome.extracted.canonical_url if outcome.extracted else None,
            crawl_id=crawl_id,
            fetched_at=outcome.fetched_at,
            status=status,
            content_hash=hashlib.sha256(answer.body).hexdigest(),
            text=outcome.text,
            metadata=metadata,
            decisions=decisions_from_verdict(verdict),
            evidence=evidence_from_verdict(verdict),
            obligations=obligations_from_verdict(verdict),
            signal_ids=list(dict.fromkeys(ids)),
            source_class=getattr(classification, "source_class", None),
            page_role=getattr(classification, "page_role", None),
            platform=getattr(classification, "platform", None),
            user_agent=self.config.user_agent(initiated, request_tokens(self.config.token, verdict)),
            purposes=[purpose.value],
            fetch=FetchRecord(crawl_id=crawl_id, url=final, at=outcome.fetched_at,
                              outcome="fetched" if permitted else "refused", reason=reason[:500], status=status),
        )
        await anyio.to_thread.run_sync(self.recorder.page, record)
        return outcome

    async def _log(self, initiated: Initiated, url: str, outcome: Any, reason: str, status: int | None) -> None:
        # The ledger is synchronous (SQLAlchemy): written from a worker thread, the event loop
        # keeps serving the other clients while a database is slow.
        await anyio.to_thread.run_sync(lambda: self.recorder.fetch(initiated, url, outcome, reason, status))


def _signer(config: ServerConfig) -> RequestSigner | None:
    if not config.signing_key:
        return None
    from crawler.identity.keys import load_signing_key
    from crawler.identity.signing import RequestSigner

    return RequestSigner(load_signing_key(config.signing_key), config.signature_agent or "")


def decider(verdict: Verdict, purpose: Usage) -> Evidence | None:
    """The evidence that decided a refusal: the gate, else what denied the declared purpose."""
    return verdict.fetch.decided_by or verdict.usages[purpose].decided_by


def _crawl_delay_evidence(origin: OriginSignals, floor: float) -> Evidence:
    return Evidence(signal=Signal.ROBOTS, source=origin.robots.source_url or f"{origin.origin}/robots.txt",
                    raw=f"Crawl-delay/Request-rate: {floor:g} s",
                    rule=f"an origin asking for more than {MAX_FLOOR:g} s between requests is not fetched")


def _date(value: str | None) -> datetime | None:
    """The extractor's page date (ISO 8601), or None when it cannot be read."""
    from datetime import UTC

    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _source(verdict: Verdict, outcome: PageOutcome, classification: Classification | None) -> Source | None:
    """The page as the attribution library sees it (for the citation anchor and ``shape_answer``)."""
    from attribution import Source, SourceError

    found = outcome.extracted
    try:
        return Source.from_verdict(
            verdict,
            text=outcome.text or "",
            title=found.title if found else None,
            classification=classification,
            publisher=found.site_name if found else None,
            last_modified=_date(found.date) if found else None,
            retrieved_at=outcome.fetched_at,
        )
    except SourceError:
        return None
