"""Text extraction and page classification in worker processes, off the reactor thread.

trafilatura costs about 3 ms of CPU per page; on the reactor thread it held a
crawl to ~0.45x a bare Scrapy spider's pages/s, with the machine's other cores
idle. ``--extract-processes N`` (default: the machine's cores; 0 = on the
reactor, as before) hands each answered page's extraction and source
classification to a pool of N processes while the reactor goes on fetching.

* **Back-pressure**: at most ``2 N`` pages are in the pool at once; the pages
  behind them wait in Scrapy's scraper slot, whose size limit
  (``SCRAPER_SLOT_MAX_ACTIVE_SIZE``) stops new downloads. Memory is therefore
  bounded by that limit plus ``2 N`` pages, and each pool process is replaced
  after ``MAX_TASKS_PER_CHILD`` pages so that a library's caches cannot grow
  without end.
* **No page lost to a dead process**: a killed pool process breaks the whole
  pool (``BrokenProcessPool`` for every page in it). The pool is started again
  and each of those pages is submitted again; a page whose extraction keeps
  killing its process (``MAX_ATTEMPTS``) is extracted on the reactor instead.
* Processes come from a *forkserver* that has imported this module (and with
  it trafilatura and lxml) once, so starting or replacing one costs
  milliseconds, and nothing is forked from the multi-threaded crawler itself.

The work function is pure (``crawler.extract`` and ``norms.classify``), so a
page extracted in the pool is byte for byte what the reactor would store.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from crawler.extracted import Extracted
    from norms.classify import Classification
    from norms.http import HeaderLines
    from norms.page_facts import PageFacts

logger = logging.getLogger(__name__)

MAX_TASKS_PER_CHILD = 2_000
MAX_ATTEMPTS = 3  # pool breakages a page may meet before it is extracted on the reactor
IN_FLIGHT_PER_PROCESS = 2


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

    from crawler.extract import extract
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
    found = extract(html, url, exclude_selectors=exclusions, doc=doc) if extract_text else None
    classification = classify_page(url, doc, headers=headers)
    return PageWork(found, classification, time.process_time() - started, facts=facts, links=links,
                    exclusions=exclusions)


def _warm() -> int:
    return os.getpid()


class ExtractPool:
    """A process pool for :func:`page_work` with back-pressure and restart on breakage."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("an extraction pool needs at least one process")
        self.processes = processes
        self._context = multiprocessing.get_context("forkserver")
        # The forkserver imports the work's modules once; the crawler itself never loads trafilatura.
        self._context.set_forkserver_preload([__name__, "crawler.extract", "norms.classify", "norms.page_facts",
                                             "crawler.page_links"])
        self._executor: ProcessPoolExecutor | None = None
        self._generation = 0
        self._slots: asyncio.Semaphore | None = None
        self.restarts = 0  # times the pool was started again after a process died
        self.in_process = 0  # pages extracted on the reactor after repeated breakages
        self.pages = 0
        self.cpu_seconds = 0.0  # CPU the pool's processes spent on pages (start-up not included)
        self._started: Future[None] | None = None  # set once start()'s thread has its processes

    def start(self) -> None:
        """Start the processes now, in a thread: the first pages do not wait for them, nor the reactor.

        Starting a process waits for the forkserver, which imports trafilatura
        first (a second or two on a busy machine): on the reactor thread that
        delayed the crawl's first request by as much. Pages wait for that
        thread (:meth:`run`): a page submitted while it spawns would block the
        reactor on the executor's lock until the forkserver had its imports.
        """
        executor = self._pool()
        started: Future[None] = Future()
        self._started = started

        def warm() -> None:
            try:
                for _ in range(self.processes):
                    executor.submit(_warm)
            finally:
                started.set_result(None)

        threading.Thread(target=warm, name="fairfetch-extract-pool-start", daemon=True).start()

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.processes, mp_context=self._context,
                                                 max_tasks_per_child=MAX_TASKS_PER_CHILD,
                                                 initializer=_pool_process_start, initargs=(os.getpid(),))
            self._generation += 1
        return self._executor

    def _restart(self, generation: int) -> None:
        """Replace a broken pool, once per breakage however many pages noticed it."""
        if generation != self._generation or self._executor is None:
            return
        broken, self._executor = self._executor, None
        broken.shutdown(wait=False, cancel_futures=True)
        self.restarts += 1
        logger.warning("an extraction process died: the pool is started again and its pages resubmitted")

    @property
    def pid_list(self) -> list[int]:
        """The pool's process ids (for tests and the operator's ``ps``)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return sorted(processes)

    async def read(self, body: bytes, html: str, url: str, headers: HeaderLines | None, tokens: tuple[str, ...],
                   extract_text: bool) -> PageWork:
        """:func:`read_page` in the pool: one parse of an answered page, before its verdict."""
        return await self._call(read_page, url, body, html, url, headers, tokens, extract_text)

    async def run(self, html: str, url: str, exclude_selectors: tuple[str, ...], headers: HeaderLines | None,
                  extract_text: bool) -> PageWork:
        """:func:`page_work` in the pool: extraction and classification of a page whose verdict is known."""
        return await self._call(page_work, url, html, url, exclude_selectors, headers, extract_text)

    async def _call(self, work_function: Callable[..., PageWork], url: str, *args: Any) -> PageWork:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.processes * IN_FLIGHT_PER_PROCESS)
        if self._started is not None and not self._started.done():
            await asyncio.wrap_future(self._started)
        async with self._slots:
            loop = asyncio.get_running_loop()
            for _ in range(MAX_ATTEMPTS):
                executor = self._pool()
                generation = self._generation
                try:
                    work: PageWork = await loop.run_in_executor(executor, work_function, *args)
                except BrokenProcessPool:
                    self._restart(generation)
                    continue
                except RuntimeError:  # submitted to a pool being shut down after a breakage
                    self._restart(generation)
                    continue
                self.pages += 1
                self.cpu_seconds += work.cpu_seconds
                return work
        logger.error("extracting %s broke the extraction pool %d times: extracted in-process", url, MAX_ATTEMPTS)
        self.in_process += 1
        return work_function(*args)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


_ATTR = "_fairfetch_extract_pool"


def pool_for(crawler: Any) -> ExtractPool | None:
    """The crawl's extraction pool (started on first use), or None when pages are extracted in-process."""
    found: ExtractPool | None = getattr(crawler, _ATTR, None)
    if found is not None:
        return found
    settings = crawler.settings
    if not settings.getbool("FAIRFETCH_EXTRACT", True):
        return None
    raw = settings.get("FAIRFETCH_EXTRACT_PROCESSES")
    processes = default_processes() if raw is None or raw == "" else int(raw)
    if processes <= 0:
        return None
    found = ExtractPool(processes)
    setattr(crawler, _ATTR, found)
    return found


def _pool_process_start(crawl_pid: int) -> None:
    """Set a pool process up: Ctrl-C is the crawl's, and the process dies with its crawl.

    Ctrl-C: the terminal sends SIGINT to the whole process group, and a pool
    process dying of it mid-page would print a traceback and lose its work; the
    crawl stops the pool itself when it closes.

    Dying with the crawl: a pool process waits on a queue whose write end it
    holds itself, so a crawl killed with SIGKILL (or by the OOM killer) never
    closes it, and the process would wait for ever, holding its memory. A
    daemon thread looks for the crawl every ``ORPHAN_CHECK_SECONDS`` and ends
    the process when it is gone.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_gone, args=(crawl_pid,), name="fairfetch-orphan-check",
                     daemon=True).start()


ORPHAN_CHECK_SECONDS = 1.0


def _exit_when_gone(crawl_pid: int) -> None:
    import time

    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        try:
            os.kill(crawl_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid now belongs to another user's process: ours is gone
            os._exit(0)
