"""Writing pages to the ledger, and each host's source class once the crawl is over.

Pages are written in batches: one SQLite transaction per page cost about a
millisecond of the reactor thread's time, as much as the rest of the page's
enforcement. A batch is written when it holds :data:`BATCH_PAGES` pages, when
its oldest page has waited :data:`BATCH_SECONDS`, when the spider goes idle and
when it closes. Each page is written together with its fetch-log row, in the
batch's one transaction.

What this costs on a ``kill -9``: the pages of the unwritten batch are not in
the ledger, so the resumed crawl (whose frontier is the ledger) fetches them
again. No row is lost or duplicated: a page is either in the ledger with its
fetch-log row or in neither. The refusals recorded meanwhile
(``crawler.ledger.refusals.hold_refusals``) are written in the same
transaction, or on their own when no page is pending, on the same schedule.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from scrapy import signals
from scrapy.utils.defer import _schedule_coro
from twisted.internet.task import LoopingCall

from crawler.items import PageItem
from crawler.ledger import FetchRecord, LedgerError, PageRecord
from crawler.ledger.refusals import (
    HeldRefusals,
    Refusal,
    hold_refusals,
    record_refusals,
    release_refusals,
    write_refusals,
)
from crawler.ledger.revocation import RevocationRecord, record_revocations
from crawler.session import CrawlSession, session_for
from norms.classify import HostProfile

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# A batch is written at this many pages, or once its oldest page is this old.
# A batch's transaction costs ~0.7 ms of CPU beyond its rows (the commit
# writes every index page its random url_key and key entries touched): 100
# pages a batch cost ~10 us a page less than 50, 200 hardly less than 100.
BATCH_PAGES = 100
BATCH_SECONDS = 0.25


class LedgerPipeline:
    """``PageItem``s -> page rows plus their fetch-log rows, a batch per transaction (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.session: CrawlSession = session_for(crawler)
        self.profiles: dict[str, HostProfile] = {}
        self._closing = False
        self._pending: list[tuple[PageRecord, bool]] = []  # (record, permitted)
        self._revocations: dict[str, RevocationRecord] = {}  # url -> written after its page
        self._oldest = 0.0  # time.monotonic() when the first pending page arrived
        self._refusals: HeldRefusals | None = None  # held while the spider is open
        self._timer = LoopingCall(self._flush_if_due)
        crawler.signals.connect(self.flush, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LedgerPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self._refusals = hold_refusals(self.session.ledger)
        self._timer.start(BATCH_SECONDS, now=False)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        s = self.session
        record = PageRecord(
            url=item.url,
            canonical_url=item.canonical_url,
            crawl_id=s.crawl_id,
            fetched_at=item.fetched_at,
            status=item.status,
            content_hash=item.content_hash,
            text=item.text,
            metadata=item.metadata,
            decisions=item.decisions,
            evidence=item.evidence,
            obligations=item.obligations,
            signal_ids=item.signal_ids,
            source_class=item.source_class,
            page_role=item.page_role,
            platform=item.platform,
            user_agent=s.user_agent,
            purposes=[p.value for p in s.purposes],
            etag=item.etag,
            last_modified=item.last_modified,
            fetch=FetchRecord(
                crawl_id=s.crawl_id,
                url=item.url,
                at=item.fetched_at,
                outcome=item.outcome,
                reason=item.reason,
                status=item.status,
            ),
        )
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append((record, item.permitted))
        if item.revocation is not None:
            self._revocations[item.url] = item.revocation
        # Counted now, so that --max-pages stops the crawl on time; taken back if the write fails.
        if item.permitted:
            s.summary.stored += 1
        else:
            s.summary.metadata_only += 1
        if len(self._pending) >= BATCH_PAGES:
            self.flush()
        self._profile(item)
        if s.max_pages and s.pages_done() >= s.max_pages and not self._closing:
            self._closing = True  # requests in flight still finish and are recorded
            _schedule_coro(self.crawler.engine.close_spider_async(reason="max_pages"))
        return item

    def _flush_if_due(self) -> None:
        now, held = time.monotonic(), self._refusals
        if (self._pending and now - self._oldest >= BATCH_SECONDS) or (
            held is not None and held.rows and now - held.since >= BATCH_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        """Write the pending pages in one transaction; if that fails, each on its own.

        A page the ledger refuses (it cites a snapshot the ledger does not
        hold, or the database fails) is logged as an error, counted under
        ``errors_by_kind["ledger"]`` and taken out of the stored tallies, and
        does not keep the rest of its batch out of the ledger. The refusals
        held since the last flush go in the same transaction.
        """
        pending, self._pending = self._pending, []
        refusals = self._refusals.take() if self._refusals is not None else []
        if not pending:
            self._write_refusals(refusals)
            return
        ledger = self.session.ledger
        written: list[PageRecord] = []
        try:
            also = partial(write_refusals, ledger, refusals) if refusals else None
            ledger.record_pages([record for record, _ in pending], also=also)
            written, refusals = [record for record, _ in pending], []
        except (LedgerError, sa.exc.SQLAlchemyError) as exc:
            if len(pending) == 1:
                self._lost(*pending[0], exc)
            else:
                for record, permitted in pending:
                    try:
                        ledger.record_page(record)
                        written.append(record)
                    except (LedgerError, sa.exc.SQLAlchemyError) as exc:
                        self._lost(record, permitted, exc)
        self._write_refusals(refusals)  # those of a failed batch, on their own
        self._revoke(written)

    def _write_refusals(self, refusals: list[Refusal]) -> None:
        try:
            record_refusals(self.session.ledger, refusals)
        except (LedgerError, sa.exc.SQLAlchemyError) as exc:
            self.session.summary.errors["ledger"] += len(refusals)
            logger.error("could not write %d refusal(s) to the ledger: %s", len(refusals), exc)

    def _revoke(self, written: list[PageRecord]) -> None:
        """Page-level revocations of the pages just written (their rows must exist first)."""
        if not self._revocations:
            return
        items = [r for r in (self._revocations.pop(p.url, None) for p in written) if r is not None]
        try:
            self.session.summary.revoked += record_revocations(self.session.ledger, items)
        except (LedgerError, sa.exc.SQLAlchemyError) as exc:
            self.session.summary.errors["ledger"] += 1
            logger.error("could not record %d revocation(s): %s", len(items), exc)

    def _lost(self, record: PageRecord, permitted: bool, exc: Exception) -> None:
        summary = self.session.summary
        if permitted:
            summary.stored -= 1
        else:
            summary.metadata_only -= 1
        summary.errors["ledger"] += 1
        logger.error("could not write %s to the ledger: %s", record.url, exc)

    def _profile(self, item: PageItem) -> None:
        if item.classification is None or not item.host:
            return
        profile = self.profiles.get(item.host)
        if profile is None:
            profile = self.profiles[item.host] = HostProfile(item.host)
        try:
            profile.add(item.classification)
        except ValueError as exc:  # a URL the classifier cannot place under its host
            logger.debug("not counted for %s: %s", item.host, exc)

    def close_spider(self) -> None:
        """The last pages, then each host's class from all its pages of this crawl (a resumed run adds its own)."""
        if self._timer.running:
            self._timer.stop()
        self.flush()
        self._refusals = None
        self._write_refusals(release_refusals(self.session.ledger))  # refusals from now on are written at once
        for host, profile in self.profiles.items():
            for stats in self.session.sitemap_stats.get(host, ()):
                profile.add_sitemap(stats)
            result = profile.result()
            evidence = [e.model_dump(mode="json") for e in result.evidence]
            self.session.ledger.set_host_class(host, result.source_class.value, result.platform, evidence)
