"""Re-crawls: conditional requests for stored pages, and revocation when the signals now say no.

When ``fairfetch crawl`` runs again on the same ledger (a new crawl run; a
resumed run replays its own pages instead, ``crawler.spiders.fair``):

* **Conditional requests.** A page stored earlier with text, for the same
  user agent and at least the purposes now declared, is requested with
  ``If-None-Match`` (its ETag) and ``If-Modified-Since`` (its Last-Modified).
  A ``304`` writes a ``not-modified`` fetch-log row and keeps the stored row
  as it is; its stored links are followed. A ``200`` whose body hash equals
  the stored one reuses the stored text instead of extracting it again, so
  the page row is refreshed (decisions, time) but no new content is written.
  Pages stored without text (metadata-only, revoked) are requested in full:
  what they were denied for may have been lifted.
* **Sitemap lastmod is never used to skip a request.** It is what the
  publisher's CMS claims, often wrong, and says nothing about page-level
  signals (``noai``, a paywall, ``X-Robots-Tag``) that can change without the
  text changing; a conditional request costs one small round trip and sees them.
* **Site-level revocation.** When an origin's signal documents have been read
  in this run, every stored page of that origin that was judged under other
  snapshots is re-evaluated (``norms.purposes.evaluate_purposes``, before-request signals:
  robots.txt, its licences, tdmrep.json) for the purposes it was stored for;
  a purpose now denied is revoked without refetching the page.
* **Page-level revocation.** A refetched page that now carries ``noai``,
  ``noindex``, a paywall, a denying header or a 401/403/451 is compared with
  the stored row; purposes it was stored for and that are denied now are
  revoked.

Policy (``--revocation``; only stricter than the default can be chosen):
``newer-signal`` (default) purges a page's text when *every* purpose it was
stored for is denied now, and records the denial of a single purpose in its
decisions (text kept for the purposes still allowed); a robots.txt that is
unreachable or answers 5xx revokes nothing (a fault is not a publisher's
decision). ``strict`` purges on the denial of *any* stored purpose and treats
an unreachable robots.txt as the disallow-all RFC 9309 makes it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.ledger.recrawl import (
    StoredPage,
    hosts_with_pages,
    pages_of_host,
    stored_page,
    stored_text,
)
from crawler.ledger.revocation import RevocationRecord, record_revocations
from crawler.origin_cache import OriginSignals, origin_of

if TYPE_CHECKING:
    from scrapy import Request

    from crawler.session import CrawlSession
    from norms.verdict import Verdict

logger = logging.getLogger(__name__)

STORED_META = "fairfetch_stored"  # the StoredPage of a URL an earlier run stored
CONDITIONAL_META = "fairfetch_conditional"  # validators were sent: a 304 is expected and fine
POLICIES = ("newer-signal", "strict")
_MAX_VALIDATOR = 1000  # longer ETag / Last-Modified values are not kept (and never sent back)


def check_policy(value: str) -> str:
    if value not in POLICIES:
        raise ValueError(
            f"revocation policy {value!r} is not one of {', '.join(POLICIES)} "
            "(revocation can be made stricter, never switched off)"
        )
    return value


def validator(value: bytes | None) -> str | None:
    """A response's ETag / Last-Modified as stored: None when absent, unprintable or too long."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if not text or len(text) > _MAX_VALIDATOR or any(ord(c) < 32 for c in text):
        return None
    return text


# --- before the request ----------------------------------------------------------------


def prepare_request(session: CrawlSession, request: Request) -> None:
    """Attach what an earlier run stored for this URL; add validators when a 304 could stand for it."""
    stored_hosts = session.stored_hosts
    if stored_hosts is None:
        stored_hosts = session.stored_hosts = hosts_with_pages(session.ledger)
    if not stored_hosts or (urlsplit(request.url).hostname or "").lower() not in stored_hosts:
        return
    stored = stored_page(session.ledger, request.url)
    if stored is None:
        return
    request.meta[STORED_META] = stored
    if not _conditional_ok(session, stored):
        return
    if stored.etag:
        request.headers["If-None-Match"] = stored.etag
    if stored.last_modified:
        request.headers["If-Modified-Since"] = stored.last_modified
    request.meta[CONDITIONAL_META] = True
    handled = list(request.meta.get("handle_httpstatus_list") or [])
    request.meta["handle_httpstatus_list"] = [*handled, 304]


def _conditional_ok(session: CrawlSession, stored: StoredPage) -> bool:
    """A 304 may stand for the stored row only if that row answers this crawl's question."""
    return (
        stored.status == 200
        and stored.revoked_at is None
        and bool(stored.etag or stored.last_modified)
        and (stored.has_text or not session.extract)
        and stored.user_agent == session.user_agent
        and {p.value for p in session.purposes} <= set(stored.purposes)
    )


def stored_links(session: CrawlSession, url: str) -> list[str]:
    _text, metadata, _canonical = stored_text(session.ledger, url)
    return [str(link) for link in metadata.get("links") or []]


def reusable_text(
    session: CrawlSession, stored: StoredPage | None, body_hash: str
) -> tuple[str, dict[str, Any], str | None] | None:
    """The stored text, metadata and canonical URL when the body is byte-identical to the stored one."""
    if stored is None or stored.content_hash != body_hash or not stored.has_text or stored.revoked_at is not None:
        return None
    text, metadata, canonical = stored_text(session.ledger, stored.url)
    return (text, metadata, canonical) if text is not None else None


# --- page-level revocation -------------------------------------------------------------


def _allowed(verdict: Verdict, purpose: str, usable: bool) -> bool | None:
    for usage, decision in verdict.usages.items():
        if str(usage) == purpose:
            return usable and verdict.fetch.allowed and decision.allowed
    return None  # not asked this run: no say


def page_revocation(
    session: CrawlSession,
    stored: StoredPage | None,
    verdict: Verdict,
    *,
    usable: bool,
    decisions: dict[str, Any],
    evidence: list[dict[str, Any]],
    signal_ids: list[int],
) -> RevocationRecord | None:
    """The revocation a refetched page brings, if purposes it was stored for are denied now."""
    if stored is None or stored.revoked_at is not None:
        return None
    kept_for = stored.stored_for
    denied = [p for p in kept_for if _allowed(verdict, p, usable) is False]
    if not denied:
        return None
    purge = len(denied) == len(kept_for) or session.revocation == "strict"
    return RevocationRecord(
        url=stored.url, crawl_id=session.crawl_id, scope="page", purposes=denied,
        reason=_reason(verdict, denied[0], usable), purge=purge and stored.has_text,
        old_fetched_at=stored.fetched_at, old_signal_ids=list(stored.signal_ids), new_signal_ids=signal_ids,
        old_decisions=stored.decisions, new_decisions=decisions,
        old_evidence=stored.evidence, new_evidence=evidence,
    )


def _reason(verdict: Verdict, purpose: str, usable: bool) -> str:
    if not verdict.fetch.allowed:
        return verdict.fetch.reason
    for usage, decision in verdict.usages.items():
        if str(usage) == purpose and decision.reasons:
            return f"{purpose}: {decision.reasons[0]}"
    return f"{purpose}: denied" if usable else f"{purpose}: the page answered with a gate status"


# --- site-level revocation -------------------------------------------------------------


async def revisit(session: CrawlSession, signals: OriginSignals, *, unreachable: bool) -> None:
    """Run :func:`revisit_origin` off the reactor thread, if the ledger holds pages of the origin at all."""
    stored = session.stored_hosts
    if stored is not None and (urlsplit(signals.origin).hostname or "") not in stored:
        return  # nothing stored of this origin: the common case costs no thread hop
    session.summary.revoked += await asyncio.to_thread(revisit_origin, session, signals, unreachable=unreachable)


def revisit_origin(session: CrawlSession, signals: OriginSignals, *, unreachable: bool) -> int:
    """Re-evaluate the stored pages of ``signals.origin`` under the signals just read; returns revocations.

    Runs in a worker thread (``asyncio.to_thread``): pure evaluation plus ledger
    reads and one write transaction.
    """
    from crawler.ledger import decisions_from_verdict, evidence_from_verdict
    from norms.purposes import evaluate_purposes

    if unreachable and session.revocation != "strict":
        return 0
    host = urlsplit(signals.origin).hostname or ""
    stored_hosts = session.stored_hosts
    if stored_hosts is None:
        stored_hosts = session.stored_hosts = hosts_with_pages(session.ledger)
    if host not in stored_hosts:
        return 0
    now_ids = set(signals.signal_ids)
    tokens: dict[str, str] = {}
    items: list[RevocationRecord] = []
    for stored in pages_of_host(session.ledger, host):
        if origin_of(stored.url) != signals.origin or not stored.stored_for:
            continue
        if now_ids <= set(stored.signal_ids):
            continue  # judged under these very documents
        token = tokens.get(stored.crawl_id)
        if token is None:
            crawl = session.ledger.crawl(stored.crawl_id) or {}
            token = tokens[stored.crawl_id] = str((crawl.get("settings") or {}).get("token") or session.token)
        # As the crawl judges a request: each purpose under its own token's group (norms.purposes).
        verdict = evaluate_purposes(
            stored.url, base_token=token, purposes=stored.stored_for, robots=signals.robots,
            licenses=signals.licenses, tdmrep=signals.tdmrep, grants=session.grants,
        )
        denied = [p for p in stored.stored_for if _allowed(verdict, p, True) is False]
        if not denied:
            continue
        fresh = decisions_from_verdict(verdict)
        decisions = {**stored.decisions, **{p: fresh[p] for p in denied if p in fresh}}
        purge = len(denied) == len(stored.stored_for) or session.revocation == "strict"
        items.append(RevocationRecord(
            url=stored.url, crawl_id=session.crawl_id, scope="site", purposes=denied,
            reason=_reason(verdict, denied[0], True), purge=purge and stored.has_text,
            old_fetched_at=stored.fetched_at, old_signal_ids=list(stored.signal_ids),
            new_signal_ids=sorted(now_ids), old_decisions=stored.decisions, new_decisions=decisions,
            old_evidence=stored.evidence, new_evidence=evidence_from_verdict(verdict),
        ))
    applied = record_revocations(session.ledger, items)
    if applied:
        logger.info("%s: newer signals revoked %d stored page(s)", signals.origin, applied)
    return applied
