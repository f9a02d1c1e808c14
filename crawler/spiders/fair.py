"""The ``fair`` spider: follows links from the seeds and turns each judged response into a page row.

All enforcement happens in the downloader middlewares before a response gets
here; the spider decides only what to keep: the text when a declared purpose
allows it (minus the parts the publisher excluded), decisions, evidence and
metadata always.

Resume: the ledger, not Scrapy's request queue, is the durable frontier.
Scrapy's disk queues record their state only on a clean shutdown, so after a
``kill -9`` they would lose (or replay) requests. A resumed crawl therefore
starts again from the seeds, and every URL the ledger already holds for this
crawl is *replayed* from its stored outlinks instead of being fetched again.
Nothing in the ledger is fetched twice and nothing in flight at the kill is
lost; the pages of the one batch the pipeline had not yet written
(``crawler.pipelines``: at most 50 pages or 0.25 s of crawling) are not in the
ledger, so they are fetched again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.depthbook import DEEPER_BEFORE, NEW, DepthBook, LocalDepthBook
from crawler.extract_pool import ExtractPool, PageWork, pool_for
from crawler.faults import describe
from crawler.gcpolicy import apply_crawl_gc_policy
from crawler.items import PageItem
from crawler.ledger import (
    FetchRecord,
    decisions_from_verdict,
    evidence_from_verdict,
    obligations_from_verdict,
)
from crawler.ledger.records import utc_now
from crawler.ledger.recrawl import StoredPage, hosts_with_pages
from crawler.ledger.revocation import compact
from crawler.licensing import GRANT_META as LICENSE_GRANT_META
from crawler.limits import INVALID, TOO_MANY_LINKS, drop, seed_problem, too_long
from crawler.middlewares.enforce import (
    GATE_STATUSES,
    HEADERS_META,
    HTML_META,
    PAGE_WORK_META,
    SIGNAL_IDS_META,
    VERDICT_META,
    WARNINGS_META,
    refusal_kind,
    scrapy_header_lines,
)
from crawler.page_links import normal_or_none, page_links
from crawler.recrawl import STORED_META, page_revocation, reusable_text, stored_links, validator
from crawler.request_meta import RECORDED_META
from crawler.session import CrawlSession, session_for
from norms.classify import Classification, classify_page
from norms.html import HtmlDoc
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
        self._book: DepthBook | None = None  # with a depth limit: each URL's shortest depth (crawler.depthbook)
        self._reexpand_due: dict[str, int] = {}  # pages to follow again from a smaller depth, once in the ledger
        self._reexpand_timer: Any = None
        self._in_pool = 0  # pages in the extraction pool: done for --max-pages, not yet items

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FairSpider:
        spider: FairSpider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._reexpand_at_idle, signal=signals.spider_idle)
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
        if self._reexpand_timer is not None and self._reexpand_timer.running:
            self._reexpand_timer.stop()
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
        book = self.depth_book()
        if book is not None:
            _, states = book.page(None, -1, seeds, self.max_depth)
            seeds = [seed for seed, state in zip(seeds, states, strict=True) if state == NEW]
        for seed in seeds:
            for request in self._visit(seed, 0):
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

    def _visit(self, url: str, depth: int) -> Iterator[scrapy.Request]:
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
                        yield from self._visit(link, depth + 1)
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
        if s.max_pages and self._pages_done() >= s.max_pages:
            return False
        return self.in_scope(url)

    # --- responses -------------------------------------------------------------------

    def parse(self, response: Response, **_: Any) -> Iterator[Any] | AsyncIterator[Any]:
        read: PageWork | None = response.meta.get(PAGE_WORK_META)
        if read is not None and (
            not self.session.extract
            or set(read.exclusions) == set(response.meta[VERDICT_META].exclude_selectors)
        ):
            # Read in the pool before the verdict (EnforceMiddleware), extracted without the right parts.
            return self._outputs(response, read)
        pool = pool_for(self.crawler)
        if pool is not None and response.meta.get(HTML_META) is not None:
            self._in_pool += 1
            s = self.session
            if s.max_pages and self._pages_done() >= s.max_pages:
                # Counted when it enters the pool, so that pages extracted meanwhile do not overshoot the limit.
                from scrapy.utils.defer import _schedule_coro

                _schedule_coro(self.crawler.engine.close_spider_async(reason="max_pages"))
            return self._parse_in_pool(response, pool)
        return self._outputs(response, None)

    def _pages_done(self) -> int:
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
                yield from self._follow_by_depth(response, stored_links(s, response.url))
            else:
                yield from self._follow(stored_links(s, response.url), int(response.meta.get("depth", 0)) + 1)
            return
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
        classification = work.classification if work is not None else self._classify(response.url, doc, response)
        decisions = decisions_from_verdict(verdict)
        evidence = evidence_from_verdict(verdict)
        signal_ids = list(response.meta.get(SIGNAL_IDS_META) or [])
        revocation = page_revocation(
            s, stored, verdict, usable=response.status not in GATE_STATUSES,
            decisions=decisions, evidence=evidence, signal_ids=signal_ids,
        )
        yield PageItem(
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
        depth = int(response.meta.get("depth", 0)) + 1
        if over:
            # Only those the crawl would have followed: out of scope or too deep is no loss.
            lost = [u for u in dict.fromkeys(over) if u not in self._scheduled and self._may_follow(u, depth)]
            drop(s, lost, TOO_MANY_LINKS,
                 f"{TOO_MANY_LINKS}: beyond the first {s.max_links} links of {response.url} (--max-links)")
        if self.max_depth:
            yield from self._follow_by_depth(response, links)
            return
        yield from self._follow(links, depth)

    def _follow(self, links: list[str], depth: int) -> Iterator[scrapy.Request]:
        scheduled = self._scheduled
        for link in links:
            # Most links point at pages already scheduled, which _visit would drop anyway:
            # skip them before the scope test parses the URL.
            if link not in scheduled and self._may_follow(link, depth):
                yield from self._visit(link, depth)

    # --- depth-limited crawls (crawler.depthbook) ---------------------------------------

    def depth_book(self) -> DepthBook | None:
        """The crawl's depth book: shared in Redis when scaled out; None without a depth limit."""
        if not self.max_depth:
            return None
        if self._book is None:
            if self.crawler.settings.get("FAIRFETCH_REDIS_URL"):
                from crawler.scaleout import scaleout_for

                shared = scaleout_for(self.crawler)
                assert shared is not None
                self._book = shared.depth_book()
            else:
                self._book = LocalDepthBook()
            from twisted.internet import task

            self._reexpand_timer = task.LoopingCall(self._reexpand_due_pages)
            self._reexpand_timer.start(1.0, now=False)
        return self._book

    def _follow_by_depth(self, response: Response, links: list[str]) -> Iterator[scrapy.Request]:
        """Follow ``links`` from the smallest depth known for the page, whatever its request said."""
        book = self.depth_book()
        assert book is not None
        s = self.session
        if s.max_pages and self._pages_done() >= s.max_pages:
            links = []
        wanted = [link for link in links if self.in_scope(link)]
        depth, states = book.page(response.url, int(response.meta.get("depth", 0)), wanted, self.max_depth)
        response.meta["depth"] = depth  # Scrapy's DepthMiddleware counts the links' depth from here
        for link, state in zip(wanted, states, strict=True):
            if state == NEW:
                yield from self._visit(link, depth + 1)
            elif state == DEEPER_BEFORE:
                self._reexpand_due[link] = depth + 1

    def _reexpand_at_idle(self) -> None:
        """spider_idle: the crawl stays open until every page due to be followed again has been."""
        from scrapy.exceptions import DontCloseSpider

        self._reexpand_due_pages()
        if self._reexpand_due:
            raise DontCloseSpider

    def _reexpand_due_pages(self) -> None:
        """Follow again, from their new smaller depth, the pages expanded deeper before.

        Their links come from the ledger (the page is not fetched twice); a
        page not written yet is looked for again at the next call.
        """
        if not self._reexpand_due or self._book is None:
            return
        s = self.session
        due, self._reexpand_due = self._reexpand_due, {}
        settled = s.ledger.recorded_urls(s.crawl_id, set(due))
        for url, depth in due.items():
            row = s.ledger.page(url)
            if row is None or row.get("crawl_id") != s.crawl_id:
                if url not in settled:
                    self._reexpand_due[url] = min(depth, self._reexpand_due.get(url, depth))
                continue  # refused or failed: it has no links
            links = [link for link in (row.get("metadata") or {}).get("links", []) if self.in_scope(link)]
            expanded, states = self._book.page(url, depth, links, self.max_depth)
            for link, state in zip(links, states, strict=True):
                if state == NEW:
                    for request in self._visit(link, expanded + 1):
                        request.meta["depth"] = expanded + 1
                        request.priority = -(expanded + 1) * self.crawler.settings.getint("DEPTH_PRIORITY")
                        self.crawler.engine.crawl(request)
                elif state == DEEPER_BEFORE:
                    self._reexpand_due[link] = expanded + 1

    def _classify(self, url: str, html: HtmlDoc | None, response: Response) -> Classification | None:
        """What kind of source the page is (canonical, aggregator, community), for attribution."""
        if html is None:
            return None
        headers = response.meta.get(HEADERS_META)
        return classify_page(url, html, headers=headers if headers is not None else scrapy_header_lines(response))

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


def _value(v: Any) -> str | None:
    return None if v is None else str(getattr(v, "value", v))
