"""A judged page response as its ledger row (``PageItem``), with the links found on it.

What is kept follows the verdict: the text only when a declared purpose
allows the page (extracted without the parts the publisher excluded, or
reused from an earlier run when the bytes are unchanged), the decisions,
evidence, obligations, classification and metadata always. Following the
links is the spider's business.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response

from crawler.extract_pool import PageWork
from crawler.items import PageItem
from crawler.ledger import decisions_from_verdict, evidence_from_verdict, obligations_from_verdict
from crawler.ledger.records import utc_now
from crawler.ledger.recrawl import StoredPage
from crawler.licensing import GRANT_META as LICENSE_GRANT_META
from crawler.middlewares.enforce import (
    GATE_STATUSES,
    HEADERS_META,
    HTML_META,
    PAGE_WORK_META,
    SIGNAL_IDS_META,
    VERDICT_META,
    WARNINGS_META,
)
from crawler.middlewares.fetch_log import refusal_kind
from crawler.middlewares.responses import scrapy_header_lines
from crawler.page_links import page_links
from crawler.recrawl import STORED_META, page_revocation, reusable_text, validator
from crawler.session import CrawlSession
from norms.classify import Classification, classify_page
from norms.html import HtmlDoc
from norms.verdict import Verdict


def page_item(
    session: CrawlSession, response: Response, work: PageWork | None
) -> tuple[PageItem, list[str], list[str]]:
    """The page's row, its links to follow and those beyond ``--max-links``.

    ``work`` is what the extraction pool did for the page, or None to extract here.
    """
    s = session
    verdict: Verdict = response.meta[VERDICT_META]
    s.summary.fetched += 1
    s.summary.note(response.url, "pages")
    doc: HtmlDoc | None = response.meta.get(HTML_META)  # tree-less when the pool read the page
    read: PageWork | None = response.meta.get(PAGE_WORK_META)
    permitted = verdict.permitted_purposes and response.status not in GATE_STATUSES
    text: str | None = None
    metadata: dict[str, Any] = {}
    canonical: str | None = None
    links: list[str] = []
    over: list[str] = []
    stored: StoredPage | None = response.meta.get(STORED_META)
    content_hash = hashlib.sha256(response.body).hexdigest()
    reused = None
    if permitted and s.extract and doc is not None and not verdict.exclude_selectors:
        reused = reusable_text(s, stored, content_hash)
    if doc is not None:
        if read is not None and read.links is not None:
            found_links = list(read.links)
        else:
            found_links = page_links(doc, response.url, limit=None)
        if s.max_links:
            links, over = found_links[: s.max_links], found_links[s.max_links :]
        else:
            links = found_links
        if reused is not None:
            # Byte-identical to what an earlier run stored: its text and metadata, not a new extraction.
            text, metadata, canonical = reused
            metadata = {k: v for k, v in metadata.items() if k not in ("links", "redirected_from")}
            s.summary.unchanged += 1
        elif s.extract:
            # Excluded parts are dropped first, so metadata never comes from them either.
            if work is not None and work.extracted is not None:
                found = work.extracted
            else:  # imported here: with the pool, trafilatura is never loaded in this process
                from crawler.extract import extract

                found = extract(response.text, response.url, exclude_selectors=verdict.exclude_selectors,
                                doc=doc if doc.root is not None else None)
            metadata = found.metadata()
            canonical = found.canonical_url
            if permitted:
                text = found.text
    redirects = response.meta.get("redirect_urls") or []
    if redirects:
        metadata["redirected_from"] = list(redirects)
    metadata["links"] = links
    if response.meta.get(WARNINGS_META):
        metadata["signal_warnings"] = list(response.meta[WARNINGS_META])
    if response.meta.get(LICENSE_GRANT_META):  # fetched under this RSL licence token (ledger licences)
        metadata["license_grant"] = dict(response.meta[LICENSE_GRANT_META])
    # A Pay Per Crawl charge (crawler-charged) is among them: norms.access reads it.
    obligations = obligations_from_verdict(verdict)
    if permitted:
        outcome, reason = "fetched", verdict.fetch.reason
    else:
        outcome = "refused"
        reason = verdict.fetch.reason if not verdict.fetch.allowed else f"HTTP {response.status}"
        s.summary.refused[refusal_kind(verdict)] += 1
    classification = work.classification if work is not None else _classify(response.url, doc, response)
    decisions = decisions_from_verdict(verdict)
    evidence = evidence_from_verdict(verdict)
    signal_ids = list(response.meta.get(SIGNAL_IDS_META) or [])
    revocation = page_revocation(
        s, stored, verdict, usable=response.status not in GATE_STATUSES,
        decisions=decisions, evidence=evidence, signal_ids=signal_ids,
    )
    item = PageItem(
        url=response.url,
        status=response.status,
        fetched_at=utc_now(),
        text=text,
        content_hash=content_hash,
        metadata=metadata,
        decisions=decisions,
        evidence=evidence,
        obligations=obligations,
        signal_ids=signal_ids,
        outcome=outcome,
        reason=reason,
        permitted=bool(permitted),
        canonical_url=canonical,
        source_class=_value(getattr(classification, "source_class", None)),
        page_role=_value(getattr(classification, "page_role", None)),
        platform=getattr(classification, "platform", None),
        host=(urlsplit(response.url).hostname or "").lower(),
        classification=classification,
        links=links,
        etag=validator(response.headers.get(b"ETag")) if response.status == 200 else None,
        last_modified=validator(response.headers.get(b"Last-Modified")) if response.status == 200 else None,
        revocation=revocation,
    )
    return item, links, over


def _classify(url: str, html: HtmlDoc | None, response: Response) -> Classification | None:
    """What kind of source the page is (canonical, aggregator, community), for attribution."""
    if html is None:
        return None
    headers = response.meta.get(HEADERS_META)
    return classify_page(url, html, headers=headers if headers is not None else scrapy_header_lines(response))


def _value(v: Any) -> str | None:
    return None if v is None else str(getattr(v, "value", v))
