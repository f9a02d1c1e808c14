"""The ``fair`` spider: follows links from the seeds and turns each judged response into a page row.

All enforcement happens in the downloader middlewares before a response gets
here (a page read in the extraction pool arrives while its verdict is being
decided there, and is used once it is: ``decided``); the spider decides only what to keep: the text when a declared purpose
allows it (minus the parts the publisher excluded), decisions, evidence and
metadata always (the row is built in ``crawler.spiders.page_item``). With a
depth limit, links are followed from each page's shortest depth
(``crawler.spiders.depth``).

Resume: the ledger, not Scrapy's request queue, is the durable frontier.
Scrapy's disk queues record their state only on a clean shutdown, so after a
``kill -9`` they would lose (or replay) requests. A resumed crawl therefore
starts again from the seeds, and every URL the ledger already holds for this
crawl is *replayed* from its stored outlinks instead of being fetched again.
Nothing in the ledger is fetched twice and nothing in flight at the kill is
lost; the pages of the one batch the pipeline had not yet written
(``crawler.pipelines``: at most 100 pages or 0.25 s of crawling) are not in the
ledger, so they are fetched again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.extract_pool import ExtractPool, PageWork, pool_for
from crawler.faults import describe
from crawler.gcpolicy import apply_crawl_gc_policy
from crawler.ledger import FetchRecord
from crawler.ledger.records import utc_now
from crawler.ledger.recrawl import hosts_with_pages
from crawler.ledger.revocation import compact
from crawler.limits import INVALID, TOO_MANY_LINKS, drop, seed_problem, too_long
from crawler.middlewares.enforce import (
    GATE_STATUSES,
    HEADERS_META,
    HTML_META,
    JUDGEMENT_META,
    PAGE_WORK_META,
    VERDICT_META,
    decided,
)
from crawler.middlewares.responses import scrapy_header_lines
from crawler.page_links import normal_or_none
from crawler.recrawl import stored_links
from crawler.request_meta import RECORDED_META
from crawler.session import CrawlSession, session_for
from crawler.spiders.depth import DepthFrontier
from crawler.spiders.page_item import page_item
from norms.verdict import Verdict

logger = logging.getLogger(__name__)


def split_seeds(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if not value:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [s for s in value.replace(",", " ").split() if s]


class FairSpider(scrapy.Spider):
    name = "fair"

    def __init__(self, seeds: str | list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Seeds are decided and requested in normal form, like every other URL
        # (one that is no valid URL is left as given: the request stage refuses it).
        self.seeds = [normal_or_none(s) or s for s in split_seeds(seeds)]
        self.seed_hosts = {(urlsplit(s).hostname or "").lower() for s in self.seeds}
        self._scheduled: set[str] = set()  # URLs requested or replayed by this run
        self._depth = DepthFrontier(self)  # with a depth limit (crawler.spiders.depth)
        self._in_pool = 0  # pages in the extraction pool: done for --max-pages, not yet items

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FairSpider:
        spider: FairSpider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._depth.reexpand_at_idle, signal=signals.spider_idle)
        return spider

    @property
    def session(self) -> CrawlSession:
        return session_for(self.crawler)

    @property
    def max_depth(self) -> int:
        return self.crawler.settings.getint("DEPTH_LIMIT")

    # --- lifecycle -------------------------------------------------------------------

    def _opened(self, spider: scrapy.Spider) -> None:
        s = self.session
        # Before this run writes anything: the hosts earlier runs stored pages of (crawler.recrawl).
        s.stored_hosts = hosts_with_pages(s.ledger)
        s.ledger.start_crawl(
            s.crawl_id,
            user_agent=s.user_agent,
            purposes=[p.value for p in s.purposes],
            seeds=self.seeds,
            settings={
                "token": s.token,
                "max_price": None if s.grants.max_price is None else f"{s.grants.currency} {s.grants.max_price}",
                "license_servers": sorted(s.grants.license_tokens),  # never the tokens themselves
                "license_credentials": sorted(s.grants.license_credentials),  # servers only, never secrets
                "accepted_licenses": sorted(s.grants.accepted_licenses),
                "depth": self.max_depth,
                "max_pages": s.max_pages,
                "follow_external": s.follow_external,
                "extract": s.extract,
                "max_links": s.max_links,
                "max_url_length": s.max_url_length,
            },
        )

    def _closed(self, spider: scrapy.Spider, reason: str) -> None:
        pool = pool_for(self.crawler)
        if pool is not None:
            pool.close()
        self._depth.stop()
        s = self.session
        stats = s.summary.as_dict()
        stats["finish_reason"] = reason
        s.ledger.finish_crawl(s.crawl_id, stats)
        if s.summary.revoked:
            compact(s.ledger)  # PostgreSQL: VACUUM the purged row versions away

    async def start(self) -> AsyncIterator[Any]:
        pool = pool_for(self.crawler)
        if pool is not None:
            pool.start()  # its processes start while robots.txt is fetched, not at the first page
        apply_crawl_gc_policy()  # the crawl is set up: its long-lived heap is frozen from here
        if not self.seeds:
            logger.error("no seed URL given (-a seeds=URL[,URL...])")
            return
        seeds = []
        for seed in self.seeds:
            problem = seed_problem(seed)
            if problem is not None:  # scrapy crawl fair -a seeds=...: fairfetch crawl refuses them up front
                self._invalid_seed(seed, problem)
                continue
            seeds.append(seed)
        for seed in self._depth.seeds(seeds):
            for request in self.visit(seed, 0):
                yield request

    def _invalid_seed(self, seed: str, problem: str) -> None:
        s = self.session
        s.summary.errors[INVALID] += 1
        logger.error("seed %r %s", seed, problem)
        s.ledger.record_fetch(FetchRecord(crawl_id=s.crawl_id, url=seed, at=utc_now(), outcome="error",
                                          reason=f"{INVALID}: seed {problem}"[:500]))

    # --- scheduling ------------------------------------------------------------------

    def in_scope(self, url: str) -> bool:
        if self.session.follow_external:
            return True
        return (urlsplit(url).hostname or "").lower() in self.seed_hosts

    def visit(self, url: str, depth: int) -> Iterator[scrapy.Request]:
        """A request for ``url`` or, when an earlier run of this crawl stored it, its replayed outlinks."""
        s = self.session
        # Most links of a site point at pages already scheduled: dropping exact
        # repeats here spares Scrapy building, fingerprinting and rejecting them.
        if url in self._scheduled:
            return
        self._scheduled.add(url)
        if too_long(s, url, "link" if depth else "seed"):
            return
        if s.resumed:
            row = s.ledger.page(url)
            if row is not None and row.get("crawl_id") == s.crawl_id:
                s.summary.replayed += 1
                for link in (row.get("metadata") or {}).get("links", []):
                    if self._may_follow(link, depth + 1):
                        yield from self.visit(link, depth + 1)
                return
        yield scrapy.Request(
            url,
            callback=self.parse,
            errback=self.failed,
            # Gate answers reach the spider, to be stored metadata-only with their evidence.
            meta={"depth": depth, "handle_httpstatus_list": list(GATE_STATUSES)},
        )

    def _may_follow(self, url: str, depth: int) -> bool:
        s = self.session
        if self.max_depth and depth > self.max_depth:
            return False
        if s.max_pages and self.pages_done() >= s.max_pages:
            return False
        return self.in_scope(url)

    # --- responses -------------------------------------------------------------------

    def parse(self, response: Response, **_: Any) -> Iterator[Any] | AsyncIterator[Any]:
        if JUDGEMENT_META in response.meta:  # read in the pool, its verdict being decided (EnforceMiddleware)
            self._enter_pool()
            return self._parse_when_decided(response)
        return self._parse_decided(response)

    def _enter_pool(self) -> None:
        """Count a page going into the pool: done for --max-pages, so that the pages in it do not overshoot."""
        self._in_pool += 1
        s = self.session
        if s.max_pages and self.pages_done() >= s.max_pages:
            from scrapy.utils.defer import _schedule_coro

            _schedule_coro(self.crawler.engine.close_spider_async(reason="max_pages"))

    async def _parse_when_decided(self, response: Response) -> AsyncIterator[Any]:
        try:
            await decided(response)
        except Exception as exc:  # an error in the judgement is the page's error row, as a download's would be
            failure = Failure(exc)
            failure.request = response.request  # type: ignore[attr-defined]
            self.failed(failure)
            return
        finally:
            self._in_pool -= 1
        outputs = self._parse_decided(response)
        if isinstance(outputs, AsyncIterator):
            async for output in outputs:
                yield output
        else:
            for output in outputs:
                yield output

    def _parse_decided(self, response: Response) -> Iterator[Any] | AsyncIterator[Any]:
        read: PageWork | None = response.meta.get(PAGE_WORK_META)
        if read is not None and (
            not self.session.extract
            or set(read.exclusions) == set(response.meta[VERDICT_META].exclude_selectors)
        ):
            # Read in the pool before the verdict (EnforceMiddleware), extracted without the right parts.
            return self._outputs(response, read)
        pool = pool_for(self.crawler)
        if pool is not None and response.meta.get(HTML_META) is not None:
            self._enter_pool()
            return self._parse_in_pool(response, pool)
        return self._outputs(response, None)

    def pages_done(self) -> int:
        return self.session.pages_done() + self._in_pool

    async def _parse_in_pool(self, response: Response, pool: ExtractPool) -> AsyncIterator[Any]:
        """Extraction and classification in the pool (crawler.extract_pool); the reactor fetches on meanwhile."""
        verdict: Verdict = response.meta[VERDICT_META]
        headers = response.meta.get(HEADERS_META)
        try:
            work = await pool.run(response.text, response.url, tuple(verdict.exclude_selectors),
                                  headers if headers is not None else scrapy_header_lines(response),
                                  self.session.extract)
        finally:
            self._in_pool -= 1
        for output in self._outputs(response, work):
            yield output

    def _outputs(self, response: Response, work: PageWork | None) -> Iterator[Any]:
        """The page's item and the requests for its links; ``work`` done in the pool, or None to do it here."""
        s = self.session
        if response.status == 304:
            # Conditional re-request (crawler.recrawl): the stored row stands; go on from its links.
            if self.max_depth:
                yield from self._depth.follow(response, stored_links(s, response.url))
            else:
                yield from self._follow(stored_links(s, response.url), int(response.meta.get("depth", 0)) + 1)
            return
        item, links, over = page_item(s, response, work)
        yield item
        depth = int(response.meta.get("depth", 0)) + 1
        if over:
            # Only those the crawl would have followed: out of scope or too deep is no loss.
            lost = [u for u in dict.fromkeys(over) if u not in self._scheduled and self._may_follow(u, depth)]
            drop(s, lost, TOO_MANY_LINKS,
                 f"{TOO_MANY_LINKS}: beyond the first {s.max_links} links of {response.url} (--max-links)")
        if self.max_depth:
            yield from self._depth.follow(response, links)
            return
        yield from self._follow(links, depth)

    def _follow(self, links: list[str], depth: int) -> Iterator[scrapy.Request]:
        scheduled = self._scheduled
        for link in links:
            # Most links point at pages already scheduled, which visit would drop anyway:
            # skip them before the scope test parses the URL.
            if link not in scheduled and self._may_follow(link, depth):
                yield from self.visit(link, depth)

    def failed(self, failure: Failure) -> None:
        """Errback: every failure not already in the ledger becomes an ``error`` row."""
        request = getattr(failure, "request", None)
        if request is None or request.meta.get(RECORDED_META):
            return
        exc = failure.value
        if exc is None:  # pragma: no cover - a Failure always carries its exception
            return
        kind, text = describe(exc)
        s = self.session
        s.summary.errors[kind] += 1
        s.summary.note(request.url, "errors")
        s.ledger.record_fetch(
            FetchRecord(
                crawl_id=s.crawl_id,
                url=request.url,
                at=utc_now(),
                outcome="error",
                reason=f"{kind}: {text}"[:500],
                status=None,
            )
        )

