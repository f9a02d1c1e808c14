"""Writing pages to the ledger, and each host's source class once the crawl is over."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.utils.defer import _schedule_coro

from crawler.items import PageItem
from crawler.ledger import FetchRecord, PageRecord
from crawler.session import CrawlSession, session_for
from norms.classify import HostProfile

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class LedgerPipeline:
    """One ``PageItem`` -> one page row plus its fetch-log row, in one transaction."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.session: CrawlSession = session_for(crawler)
        self.profiles: dict[str, HostProfile] = {}
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LedgerPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        s = self.session
        s.ledger.record_page(
            PageRecord(
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
                fetch=FetchRecord(
                    crawl_id=s.crawl_id,
                    url=item.url,
                    at=item.fetched_at,
                    outcome=item.outcome,
                    reason=item.reason,
                    status=item.status,
                ),
            )
        )
        if item.permitted:
            s.summary.stored += 1
        else:
            s.summary.metadata_only += 1
        self._profile(item)
        if s.max_pages and s.pages_done() >= s.max_pages and not self._closing:
            self._closing = True  # requests in flight still finish and are recorded
            _schedule_coro(self.crawler.engine.close_spider_async(reason="max_pages"))
        return item

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
        """Each host's class from all its pages of this crawl (a resumed run adds its own pages)."""
        for host, profile in self.profiles.items():
            for stats in self.session.sitemap_stats.get(host, ()):
                profile.add_sitemap(stats)
            result = profile.result()
            evidence = [e.model_dump(mode="json") for e in result.evidence]
            self.session.ledger.set_host_class(host, result.source_class.value, result.platform, evidence)
