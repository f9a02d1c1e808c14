"""``fairfetch crawl``: crawl from seed URLs, enforcing every publisher signal, into the ledger.

Scrapy runs in-process (``CrawlerProcess``) with ``crawler.settings`` and the
options (checked by ``crawler.cli.crawl_options``) on top. Progress goes to
stderr; the summary (``crawler.cli.crawl_summary``: a table, or one JSON
object with ``--json``) to stdout. Exit code 0 when the crawl ran to its
end, whatever the norms refused; 2 for usage errors (a bad option, or a
``--db`` that is not a usable ledger); 1 if the crawl could not run at all, or
(with ``--redis``) stopped because Redis failed; 128 + the signal number (130
for Ctrl-C) when a signal stopped it, after it wrote what it had. With ``--redis``
the process is one worker of a crawl shared through Redis (crawler.scaleout).
"""

from __future__ import annotations

import argparse
import signal
import time
from typing import Any, cast

from crawler.cli.crawl_options import add_crawl_options, crawl_settings
from crawler.cli.crawl_summary import print_summary, summary_dict
from crawler.cli.output import err_console, fail, print_json
from crawler.session import CrawlSession


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "crawl",
        help="crawl from seed URLs, honouring every publisher signal, into the ledger",
        description=(
            "Crawl from SEED_URLs. robots.txt, RSL licences, TDMRep, Content-Signal, AI preferences, "
            "X-Robots-Tag/meta robots, noai, paywall markup and HTTP 401/402/403/451 are enforced; "
            "every page, refusal and error is recorded in the ledger with its evidence."
        ),
    )
    add_crawl_options(p)
    p.set_defaults(func=run)


class _Progress:
    """Live counts on stderr while the reactor runs (plain lines when stderr is not a terminal)."""

    def __init__(self, session_getter: Any, crawler: Any = None, hosts: int = 0) -> None:
        self._get = session_getter
        self._crawler = crawler
        self._hosts = hosts
        self._live: Any = None
        self._last_plain = 0.0

    def line(self) -> str:
        from crawler.progress import progress_text

        session: CrawlSession | None = self._get()
        if session is None:
            return "starting..."
        return progress_text(session, self._crawler, hosts=self._hosts)

    def start(self) -> None:
        self._last_plain = time.monotonic()
        if err_console.is_terminal:
            from rich.live import Live

            self._live = Live(self.line(), console=err_console, refresh_per_second=4, transient=True)
            self._live.start()

    def tick(self) -> None:
        if self._live is not None:
            self._live.update(self.line())
        elif time.monotonic() - self._last_plain > 10:
            self._last_plain = time.monotonic()
            err_console.print(self.line())

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()


def run(args: argparse.Namespace) -> int:
    try:
        overrides = crawl_settings(args)
    except ValueError as exc:
        return fail(str(exc))
    # Until Scrapy installs its own handlers (once the reactor runs), a Ctrl-C is noted here and
    # stops the crawl as soon as it starts: no KeyboardInterrupt traceback, the same exit code.
    early: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda n, _frame: early.append(n))
    from crawler.startup import import_tls_factories

    import_tls_factories()  # first: Scrapy's set-up would import them the slow way (crawler.startup)
    from scrapy.settings import Settings

    from crawler.ledger import DEFAULT_DB_URL
    from crawler.session import current_session
    from crawler.spiders.fair import FairSpider

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    seeds = list(args.seeds)
    if args.redis:
        # First, so that workers started together find the crawl registered as soon as possible.
        try:
            seeds = _join_shared_crawl(args, settings)
        except ValueError as exc:
            return fail(str(exc), code=1)
    problem = _ledger_problem(overrides["FAIRFETCH_DB"] or DEFAULT_DB_URL)
    if problem is not None:
        return fail(problem)
    if not args.redis:
        try:
            _check_ledger_and_jobdir(args, settings)
        except ValueError as exc:  # JobdirError: another interrupted crawl in the --jobdir
            return fail(str(exc))
        except RuntimeError as exc:  # LedgerError
            return fail(str(exc), code=1)
    process = _make_process(settings)
    crawler = process.create_crawler(FairSpider)
    started = time.monotonic()
    progress = _Progress(lambda: current_session(crawler), crawler, args.progress_hosts)

    def begin() -> None:
        from twisted.internet import reactor, task

        if early and process.signum is None:
            process.signum = early[0]
            cast(Any, reactor).callLater(0, process.stop)
        progress.start()
        loop = task.LoopingCall(progress.tick)
        loop.start(0.25, now=False)

    from scrapy import signals

    crawler.signals.connect(begin, signal=signals.engine_started)
    process.crawl(crawler, seeds=seeds)
    try:
        process.start()
    finally:
        progress.stop()
    session = current_session(crawler)
    if session is None:
        return fail("the crawl did not start (see the log above)", code=1)
    summary = summary_dict(session, crawler, time.monotonic() - started)
    summary["ledger"] = overrides["FAIRFETCH_DB"] or DEFAULT_DB_URL
    lost = None
    if args.redis:
        from crawler.scaleout import safe_url, scaleout_for

        shared = scaleout_for(crawler)
        lost = shared.lost if shared is not None else None
        summary["redis"] = safe_url(args.redis)
        summary["shared_signal_reads"] = shared.shared_reads if shared is not None else 0
        # Requests of dead workers this one put back into the frontier, and its own handed back at the end.
        summary["requests_reclaimed"] = shared.leases.reclaimed if shared is not None else 0
        summary["requests_handed_back"] = shared.leases.returned if shared is not None else 0
    if args.json:
        print_json(summary)
    else:
        print_summary(summary)
    if lost is not None:
        return fail(f"this worker stopped because Redis failed ({lost}); the others may go on", code=1)
    if process.signum is not None:
        # Stopped by Ctrl-C / SIGTERM: what was stored is in the ledger, but the crawl did not finish.
        return 128 + process.signum
    return 0


def _make_process(settings: Any) -> Any:
    """A ``CrawlerProcess`` that remembers the signal that stopped it (the exit code says it: 130 for Ctrl-C)."""
    from scrapy.crawler import CrawlerProcess

    class Process(CrawlerProcess):
        signum: int | None = None

        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            if self.signum is None:
                self.signum = signum
            super()._signal_shutdown(signum, frame)
            from crawler.stopping import drop_unsent_soon

            for crawler in list(self.crawlers):  # Scrapy would still send what is queued (crawler.stopping)
                drop_unsent_soon(crawler)

    return Process(settings)


def _ledger_problem(db_url: str) -> str | None:
    """Why the ledger at ``db_url`` cannot be used (not a URL, no driver, not a database), in one line; None if fine."""
    from crawler.ledger import Ledger, LedgerError

    try:
        Ledger(db_url).close()
    except LedgerError as exc:
        return str(exc)
    except OSError as exc:  # e.g. the SQLite file's directory cannot be created
        return f"cannot open the ledger at {db_url!r}: {exc.strerror or exc}"
    return None


def _check_ledger_and_jobdir(args: argparse.Namespace, settings: Any) -> None:
    """Open the ledger before Scrapy starts (a schema needing an upgrade is one line, not a traceback) and,
    with ``--jobdir``, decide whether this run resumes an interrupted crawl or starts a new one."""
    from crawler.jobdir import resolve_crawl
    from crawler.ledger import DEFAULT_DB_URL, Ledger
    from crawler.session import new_crawl_id

    with Ledger(settings.get("FAIRFETCH_DB") or DEFAULT_DB_URL) as ledger:
        if not args.jobdir:
            return
        crawl_id, resumed = resolve_crawl(
            args.jobdir, args.crawl_id, seeds=list(args.seeds),
            purposes=list(settings.getlist("FAIRFETCH_PURPOSES")), ledger=ledger, new_id=new_crawl_id,
        )
    settings.set("FAIRFETCH_CRAWL_ID", crawl_id, priority="cmdline")
    settings.set("FAIRFETCH_RESUMED", resumed, priority="cmdline")


def _join_shared_crawl(args: argparse.Namespace, settings: Any) -> list[str]:
    """Connect to Redis, register or read the crawl's seeds and switch ``settings`` to scale-out.

    Returns the seeds this worker starts from. Raises ValueError in plain words
    (Redis unreachable, no such crawl to join).
    """
    from crawler.crawlkeys import CrawlKeys, ScaleOutError
    from crawler.scaleout import apply_settings, connect, register_seeds
    from crawler.session import new_crawl_id

    crawl_id = args.crawl_id or new_crawl_id()
    keys = CrawlKeys(args.redis_prefix, crawl_id)
    try:
        client = connect(args.redis)
        try:
            seeds = register_seeds(
                client, keys, list(args.seeds), join=args.join, wait=args.join_wait,
                waiting=lambda: err_console.print(
                    f"waiting up to {args.join_wait:g} s for crawl {crawl_id} to be started ...", soft_wrap=True),
            )
        finally:
            client.close()
    except ScaleOutError as exc:
        raise ValueError(str(exc)) from exc
    apply_settings(settings, args.redis, keys, args.idle, args.lease)
    if not args.crawl_id:
        err_console.print(
            f"crawl id {crawl_id}: more workers join with "
            f"fairfetch crawl --redis URL --crawl-id {crawl_id} --join",
            soft_wrap=True,
        )
    return seeds
