"""How enforcement writes a request's outcome to the ledger's fetch log, and stops the request.

A request that is refused, or fails before it is sent, gets exactly one
fetch-log row (with the evidence ``ledger show`` prints) and is then stopped
with ``Refused`` or ``Recorded``; ``RECORDED_META`` tells the spider's error
handler that the row is already written.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NoReturn

from scrapy.exceptions import IgnoreRequest

from crawler.ledger import FetchRecord, evidence_from_verdict
from crawler.ledger.records import storable_json, utc_now
from crawler.ledger.refusals import record_refusal
from crawler.request_meta import RECORDED_META
from norms.verdict import Verdict

if TYPE_CHECKING:
    from scrapy import Request

    from crawler.origin_cache import OriginSignals
    from crawler.session import CrawlSession

logger = logging.getLogger("crawler.middlewares.enforce")  # the name refusal lines have always had


class Refused(IgnoreRequest):
    """The norms refused this request (or the use of its response); the ledger has the reason."""


class Recorded(IgnoreRequest):
    """The response was an error that is already logged; nothing for the spider to do."""


def refusal_kind(verdict: Verdict) -> str:
    """Summary key for a refusal: which signal decided it."""
    ev = verdict.fetch.decided_by
    return ev.signal.value if ev is not None else "norms"


def log_fetch(session: CrawlSession, request: Request, outcome: str, reason: str, status: int | None) -> None:
    """A fetch-log row for a request that goes on (fetched, not-modified) or is over (error)."""
    session.ledger.record_fetch(
        FetchRecord(
            crawl_id=session.crawl_id,
            url=request.url,
            at=utc_now(),
            outcome=outcome,
            reason=reason,
            status=status,
        )
    )
    request.meta[RECORDED_META] = True


def refuse(
    session: CrawlSession,
    request: Request,
    reason: str,
    kind: str,
    status: int | None,
    evidence: list[dict[str, Any]] | None = None,
    signal_ids: tuple[int, ...] | list[int] = (),
) -> NoReturn:
    """A refusal: fetch-log row and its evidence (``ledger show`` reads both), then stop the request."""
    entry = FetchRecord(crawl_id=session.crawl_id, url=request.url, at=utc_now(),
                        outcome="refused", reason=reason, status=status)
    record_refusal(session.ledger, entry, kind=kind, evidence=evidence or [], signal_ids=list(signal_ids))
    request.meta[RECORDED_META] = True
    session.summary.refused[kind] += 1
    session.summary.note(request.url, "refused")
    logger.info("refused %s: %s", request.url, reason)
    raise Refused(reason)


def unreachable(session: CrawlSession, request: Request, kind: str, reason: str,
                evidence: list[dict[str, Any]], signal_ids: tuple[int, ...]) -> NoReturn:
    """An error before the request (the origin is unreachable): counted under its kind, with evidence."""
    text = f"{kind}: {reason}"[:500]
    entry = FetchRecord(crawl_id=session.crawl_id, url=request.url, at=utc_now(),
                        outcome="error", reason=text, status=None)
    record_refusal(session.ledger, entry, kind=kind, evidence=evidence, signal_ids=list(signal_ids))
    request.meta[RECORDED_META] = True
    session.summary.errors[kind] += 1
    raise Recorded(text)


def verdict_evidence(verdict: Verdict) -> list[dict[str, Any]]:
    """The deciding evidence first, then the rest of the verdict's."""
    evidence = evidence_from_verdict(verdict)
    decided = verdict.fetch.decided_by
    if decided is None:
        return evidence
    first = storable_json(decided)
    return [first, *(e for e in evidence if e != first)]


def robots_evidence(origin: OriginSignals, reason: str) -> list[dict[str, Any]]:
    """robots.txt as the evidence of a refusal or error decided for the whole origin."""
    robots = origin.robots
    return [{
        "signal": "robots.txt",
        "source": robots.source_url or f"{origin.origin}/robots.txt",
        "raw": "; ".join(origin.notes) or robots.reason,
        "rule": reason,
        "line": None,
        "element": None,
    }]
