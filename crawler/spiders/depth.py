"""The depth-limited part of a crawl (``--depth``): links followed from each page's shortest depth.

``crawler.depthbook`` explains why a page's depth is the shortest link
distance from a seed, not the depth of the first link seen. Here the spider's
side of it: seeds and links are offered to the book, each page is expanded at
the smallest depth the book knows, and a page expanded deeper before is
followed again from its new depth, with its links read from the ledger (the
page is not fetched twice). A crawl without a depth limit never builds one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from crawler.depthbook import DEEPER_BEFORE, NEW, DepthBook, LocalDepthBook

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import Response

    from crawler.spiders.fair import FairSpider


class DepthFrontier:
    """One per spider: the crawl's depth book and the pages due to be followed again."""

    def __init__(self, spider: FairSpider) -> None:
        self.spider = spider
        self._book: DepthBook | None = None  # each URL's shortest depth (crawler.depthbook)
        self._reexpand_due: dict[str, int] = {}  # pages to follow again from a smaller depth, once in the ledger
        self._reexpand_timer: Any = None

    def depth_book(self) -> DepthBook | None:
        """The crawl's depth book: shared in Redis when scaled out; None without a depth limit."""
        spider = self.spider
        if not spider.max_depth:
            return None
        if self._book is None:
            if spider.crawler.settings.get("FAIRFETCH_REDIS_URL"):
                from crawler.scaleout import scaleout_for

                shared = scaleout_for(spider.crawler)
                assert shared is not None
                self._book = shared.depth_book()
            else:
                self._book = LocalDepthBook()
            from twisted.internet import task

            self._reexpand_timer = task.LoopingCall(self._reexpand_due_pages)
            self._reexpand_timer.start(1.0, now=False)
        return self._book

    def seeds(self, seeds: list[str]) -> list[str]:
        """The seeds to request: those the book sees first here, offered at depth 0 from no page."""
        book = self.depth_book()
        if book is None:
            return seeds
        _, states = book.page(None, -1, seeds, self.spider.max_depth)
        return [seed for seed, state in zip(seeds, states, strict=True) if state == NEW]

    def stop(self) -> None:
        if self._reexpand_timer is not None and self._reexpand_timer.running:
            self._reexpand_timer.stop()

    def follow(self, response: Response, links: list[str]) -> Iterator[scrapy.Request]:
        """Follow ``links`` from the smallest depth known for the page, whatever its request said."""
        spider = self.spider
        book = self.depth_book()
        assert book is not None
        s = spider.session
        if s.max_pages and spider.pages_done() >= s.max_pages:
            links = []
        wanted = [link for link in links if spider.in_scope(link)]
        depth, states = book.page(response.url, int(response.meta.get("depth", 0)), wanted, spider.max_depth)
        response.meta["depth"] = depth  # Scrapy's DepthMiddleware counts the links' depth from here
        for link, state in zip(wanted, states, strict=True):
            if state == NEW:
                yield from spider.visit(link, depth + 1)
            elif state == DEEPER_BEFORE:
                self._reexpand_due[link] = depth + 1

    def reexpand_at_idle(self) -> None:
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
        spider = self.spider
        s = spider.session
        due, self._reexpand_due = self._reexpand_due, {}
        settled = s.ledger.recorded_urls(s.crawl_id, set(due))
        for url, depth in due.items():
            row = s.ledger.page(url)
            if row is None or row.get("crawl_id") != s.crawl_id:
                if url not in settled:
                    self._reexpand_due[url] = min(depth, self._reexpand_due.get(url, depth))
                continue  # refused or failed: it has no links
            links = [link for link in (row.get("metadata") or {}).get("links", []) if spider.in_scope(link)]
            expanded, states = self._book.page(url, depth, links, spider.max_depth)
            for link, state in zip(links, states, strict=True):
                if state == NEW:
                    for request in spider.visit(link, expanded + 1):
                        request.meta["depth"] = expanded + 1
                        request.priority = -(expanded + 1) * spider.crawler.settings.getint("DEPTH_PRIORITY")
                        spider.crawler.engine.crawl(request)
                elif state == DEEPER_BEFORE:
                    self._reexpand_due[link] = expanded + 1
