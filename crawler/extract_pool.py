"""Page reading, text extraction and classification in worker processes, off the reactor thread.

trafilatura costs about 3 ms of CPU per page, and parsing a page for its
signals most of a millisecond more; on the reactor thread they held a crawl to
~0.45x a bare Scrapy spider's pages/s, with the machine's other cores idle.
``--extract-processes N`` (default: the machine's cores; 0 = on the reactor)
hands each answered HTML page to a pool of N processes (``crawler.process_pool``)
while the reactor goes on fetching: :func:`read_page` parses it once and
returns the facts its verdict is decided from, its links, its class and its
text.

* **Back-pressure**: a page waits for a worker after its download has
  finished (its verdict is decided when the worker has read it, see
  ``EnforceMiddleware``), in Scrapy's scraper slot, whose size limit
  (``SCRAPER_SLOT_MAX_ACTIVE_SIZE``) stops new downloads: memory stays
  bounded, and a wait for a worker never holds one of the crawl's request
  slots. Each worker is replaced after ``MAX_TASKS_PER_CHILD`` pages so that
  a library's caches cannot grow without end.
* **No page lost to a dead process**: the page a killed worker was reading is
  submitted again to a fresh one; a page that keeps killing its worker
  (``MAX_ATTEMPTS``) is read on the reactor instead.
* The work functions are pure (``norms``, ``crawler.extract``), so a page read
  in the pool is byte for byte what the reactor would store.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.process_pool import ProcessPool, WorkerDied

if TYPE_CHECKING:
    from collections.abc import Callable

    from crawler.extracted import Extracted
    from norms.classify import Classification
    from norms.http import HeaderLines
    from norms.page_facts import PageFacts

logger = logging.getLogger(__name__)

MAX_TASKS_PER_CHILD = 2_000
MAX_ATTEMPTS = 3  # worker deaths a page may meet before it is read on the reactor


def default_processes() -> int:
    """The machine's cores (what this process may run on)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class PageWork:
    """What the pool returns for one page."""

    extracted: Extracted | None
    classification: Classification | None
    # CPU time the work took in its process (the pool's share of a page's cost); not part of the result.
    cpu_seconds: float = field(default=0.0, compare=False)
    # From read_page only: the page's facts for its verdict, its links, and the parts the text was
    # extracted without (norms.page_facts.page_exclusions).
    facts: PageFacts | None = None
    links: tuple[str, ...] | None = None
    exclusions: tuple[str, ...] = ()


def page_work(html: str, url: str, exclude_selectors: tuple[str, ...], headers: HeaderLines | None,
              extract_text: bool) -> PageWork:
    """Extraction (if wanted) and classification of one page: the pool's task, also run in-process."""
    import time

    from crawler.extract import extract
    from norms.classify import classify_page
    from norms.html import parse_html

    started = time.process_time()
    doc = parse_html(html)
    found = extract(html, url, exclude_selectors=exclude_selectors, doc=doc) if extract_text else None
    classification = classify_page(url, doc, headers=headers)
    return PageWork(found, classification, time.process_time() - started)


def read_page(body: bytes, html: str, url: str, headers: HeaderLines | None, tokens: tuple[str, ...],
              extract_text: bool) -> PageWork:
    """Everything one parse of a page serves, for a page read in the pool before its verdict.

    The facts ``norms.evaluate`` decides the page's verdict from (the reactor
    decides it, with the origin's documents), the page's links, its
    classification and, if wanted, its text, extracted without the parts the
    page's own signals exclude (``page_exclusions``; the spider extracts again
    in the rare case the verdict's list differs).

    ``html`` is the body as Scrapy decoded it (``response.text``), which text
    and classification are read from; the signals are read from ``body`` as
    ``norms.html`` decodes it, as on the reactor. The two differ only for a
    page whose declared encodings disagree, which is then parsed twice.
    """
    import time

    from crawler.page_links import page_links
    from norms.classify import classify_page
    from norms.html import decode_html, parse_html
    from norms.page_facts import page_exclusions, read_page_facts

    started = time.process_time()
    doc = parse_html(html)
    signals = doc if decode_html(body) == html else parse_html(body)
    facts = read_page_facts(signals, url)
    exclusions = page_exclusions(facts, headers, tokens)
    links = tuple(page_links(signals, url, limit=None))
    found = None
    if extract_text:
        from crawler.extract import extract

        found = extract(html, url, exclude_selectors=exclusions, doc=doc)
    classification = classify_page(url, doc, headers=headers)
    return PageWork(found, classification, time.process_time() - started, facts=facts, links=links,
                    exclusions=exclusions)


class ExtractPool:
    """:func:`read_page` and :func:`page_work` in worker processes, resubmitted when a worker dies."""

    def __init__(self, processes: int, *, extract: bool = True) -> None:
        # The forkserver imports the work's modules once; the crawler itself never loads trafilatura,
        # and a crawl that stores no text does not load it anywhere.
        preload = [__name__, "norms.classify", "norms.page_facts", "crawler.page_links"]
        self._pool = ProcessPool(processes, max_tasks=MAX_TASKS_PER_CHILD,
                                 preload=[*preload, "crawler.extract"] if extract else preload)
        self.processes = processes
        self.in_process = 0  # pages extracted on the reactor after repeated breakages
        self.pages = 0
        self.cpu_seconds = 0.0  # CPU the pool's processes spent on pages (start-up not included)

    @property
    def restarts(self) -> int:
        """Workers started again after one died."""
        return self._pool.replaced

    def start(self) -> None:
        """Start the processes now (on the event loop): they start while robots.txt is fetched."""
        self._pool.start()


    async def read(self, body: bytes, html: str, url: str, headers: HeaderLines | None, tokens: tuple[str, ...],
                   extract_text: bool) -> PageWork:
        """:func:`read_page` in the pool: one parse of an answered page, before its verdict."""
        return await self._call(read_page, url, body, html, url, headers, tokens, extract_text)

    async def run(self, html: str, url: str, exclude_selectors: tuple[str, ...], headers: HeaderLines | None,
                  extract_text: bool) -> PageWork:
        """:func:`page_work` in the pool: extraction and classification of a page whose verdict is known."""
        return await self._call(page_work, url, html, url, exclude_selectors, headers, extract_text)

    async def _call(self, work_function: Callable[..., PageWork], url: str, *args: Any) -> PageWork:
        for _ in range(MAX_ATTEMPTS):
            try:
                work: PageWork = await self._pool.call(work_function, *args)
            except WorkerDied:
                continue
            self.pages += 1
            self.cpu_seconds += work.cpu_seconds
            return work
        logger.error("extracting %s killed an extraction process %d times: extracted in-process", url,
                     MAX_ATTEMPTS)
        self.in_process += 1
        return work_function(*args)

    def close(self) -> None:
        self._pool.close()


_ATTR = "_fairfetch_extract_pool"


def pool_for(crawler: Any) -> ExtractPool | None:
    """The crawl's page-reading pool (started on first use), or None when pages are read in-process."""
    found: ExtractPool | None = getattr(crawler, _ATTR, None)
    if found is not None:
        return found
    settings = crawler.settings
    raw = settings.get("FAIRFETCH_EXTRACT_PROCESSES")
    processes = default_processes() if raw is None or raw == "" else int(raw)
    if processes <= 0:
        return None
    # With --no-extract the pool still reads each page (parse, signals, links, class), without trafilatura.
    found = ExtractPool(processes, extract=settings.getbool("FAIRFETCH_EXTRACT", True))
    setattr(crawler, _ATTR, found)
    return found
