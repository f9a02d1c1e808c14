"""``fairfetch crawl``: crawl from seed URLs, enforcing every publisher signal, into the ledger.

Scrapy runs in-process (``CrawlerProcess``) with ``crawler.settings`` and the
options below on top. Progress goes to stderr; the summary (a table, or one
JSON object with ``--json``) to stdout. Exit code 0 when the crawl ran to its
end, whatever the norms refused; 2 for usage errors (a bad option, or a
``--db`` that is not a usable ledger); 1 if the crawl could not run at all, or
(with ``--redis``) stopped because Redis failed; 128 + the signal number (130
for Ctrl-C) when a signal stopped it, after it wrote what it had. With ``--redis``
the process is one worker of a crawl shared through Redis (crawler.scaleout).
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from typing import Any, cast

from crawler import DEFAULT_TOKEN, PROJECT_URL, user_agent
from crawler.cli.agreement import (
    add_budget_option,
    add_identity_options,
    add_license_options,
    budget_settings,
    identity_settings,
    license_settings,
)
from crawler.cli.output import console, err_console, fail, print_json, print_table
from crawler.limits import seed_problem
from crawler.session import CrawlSession, parse_max_price
from norms.model import SignalError, Usage

DB_ENV = "FAIRFETCH_DB"


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
    p.add_argument("seeds", nargs="*", metavar="SEED_URL",
                   help="http(s) URL to start from (none with --join)")
    p.add_argument(
        "--purpose",
        action="append",
        choices=[u.value for u in Usage],
        help="what the content is for (repeatable; default: ai-input)",
    )
    p.add_argument("--db", metavar="URL", help=f"ledger database URL (default: ${DB_ENV} or the ledger default)")
    p.add_argument("--max-pages", type=int, default=0, metavar="N", help="stop after N pages (0: no limit)")
    p.add_argument("--depth", type=int, default=3, metavar="N", help="follow links N levels deep (default 3)")
    p.add_argument("--user-agent", default=DEFAULT_TOKEN, metavar="TOKEN",
                   help=f"product token matched against robots.txt groups (default {DEFAULT_TOKEN})")
    p.add_argument("--contact", default=PROJECT_URL, metavar="URL", help="contact URL in the User-Agent")
    p.add_argument("--follow-external", action="store_true", help="follow links to hosts other than the seeds'")
    p.add_argument("--max-links", type=int, default=500, metavar="N",
                   help="follow at most N links per page, in page order (default 500, 0: no limit); "
                        "the rest are recorded as dropped")
    p.add_argument("--max-url-length", type=int, default=2083, metavar="N",
                   help="never request a URL (seed, link, redirect target, sitemap) longer than N characters "
                        "(default 2083, 0: no limit); each one is recorded as dropped")
    p.add_argument("--jobdir", metavar="DIR",
                   help="keep the crawl id here so that an interrupted crawl resumes into the same ledger crawl")
    p.add_argument("--max-price", metavar='"USD x"', help="most to pay per page (HTTP 402, RSL payment)")
    add_budget_option(p)
    add_license_options(p)
    p.add_argument("--no-extract", action="store_true", help="store decisions and metadata, not the text")
    add_identity_options(p)
    p.add_argument("--extract-processes", type=int, default=None, metavar="N",
                   help="extract text in N worker processes (default: the machine's cores; 0: in this process)")
    p.add_argument("--concurrency", type=int, default=16, metavar="N", help="requests in flight (default 16)")
    p.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                   help="at least this long between two requests to one origin (robots.txt may ask for more)")
    p.add_argument("--robots-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="give up on robots.txt after this long (then nothing on that origin is fetched)")
    p.add_argument("--crawl-id", metavar="ID",
                   help="the ledger crawl id (with --redis: the shared crawl to start or join; default: a new one)")
    scale = p.add_argument_group("scale-out (several workers sharing one crawl through Redis)")
    scale.add_argument("--redis", metavar="URL",
                       help="share the frontier, seen-set, signal documents and Crawl-delay pacing in this Redis")
    scale.add_argument("--join", action="store_true",
                       help="join the running crawl --crawl-id (no seeds: they are read from Redis)")
    scale.add_argument("--join-wait", type=float, default=60.0, metavar="SECONDS",
                       help="with --join: wait this long for the first worker to start the crawl (default 60)")
    scale.add_argument("--idle", type=float, default=10.0, metavar="SECONDS",
                       help="stop once the whole crawl has been quiet this long: empty frontier, no worker busy (default 10)")
    scale.add_argument("--lease", type=float, default=30.0, metavar="SECONDS",
                       help="a worker silent this long (killed, frozen) has its unfinished requests put back "
                            "into the frontier by the others (default 30)")
    scale.add_argument("--redis-prefix", default="fairfetch:", metavar="PREFIX",
                       help="start of every Redis key (default 'fairfetch:'); keys are PREFIX<crawl id>:...")
    p.add_argument("--revocation", choices=["newer-signal", "strict"], default="newer-signal",
                   help="when newer signals deny a stored page's use: 'newer-signal' (default) purges its text "
                        "once every purpose it was stored for is denied; 'strict' on the first denied purpose, "
                        "and an unreachable robots.txt counts as a denial. It cannot be switched off.")
    p.add_argument("--progress-hosts", type=int, default=0, metavar="N",
                   help="show the N busiest hosts in the progress display (pages, refusals, errors per host)")
    p.add_argument("--verbose", action="store_true", help="Scrapy's log on stderr")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """Check the options and turn them into Scrapy settings; raises ValueError with a plain message."""
    if args.join:
        if not args.redis or not args.crawl_id:
            raise ValueError("--join needs --redis URL and the --crawl-id of the crawl to join")
        if args.seeds:
            raise ValueError("--join takes no seed URLs: the crawl's seeds are read from Redis")
    elif not args.seeds:
        raise ValueError("give at least one SEED_URL (or --join a running crawl with --redis and --crawl-id)")
    if args.redis and args.jobdir:
        raise ValueError("--jobdir and --redis do not mix: with --redis the crawl id and frontier live in Redis")
    if args.idle <= 0:
        raise ValueError("--idle must be positive")
    if args.join_wait < 0:
        raise ValueError("--join-wait must not be negative")
    if args.lease < 1:
        raise ValueError("--lease must be at least 1 second")
    if args.crawl_id is not None:
        from crawler.crawlkeys import ScaleOutError, check_crawl_id

        try:
            check_crawl_id(args.crawl_id)
        except ScaleOutError as exc:
            raise ValueError(str(exc)) from exc
    for seed in args.seeds:
        problem = seed_problem(seed)
        if problem is not None:
            raise ValueError(f"seed {seed!r} {problem}")
    for name in ("max_pages", "depth", "max_links", "max_url_length"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must not be negative")
    if args.concurrency < 1:
        raise ValueError("--concurrency must be at least 1")
    if args.extract_processes is not None and args.extract_processes < 0:
        raise ValueError("--extract-processes must not be negative")
    if args.delay < 0:
        raise ValueError("--delay must not be negative")
    if args.robots_timeout <= 0:
        raise ValueError("--robots-timeout must be positive")
    if args.progress_hosts < 0:
        raise ValueError("--progress-hosts must not be negative")
    token = args.user_agent.strip()
    if not token or any(c.isspace() or c == "/" for c in token):
        raise ValueError(f"--user-agent {args.user_agent!r} must be a product token (no spaces or '/')")
    try:
        parse_max_price(args.max_price)
    except SignalError as exc:
        raise ValueError(str(exc)) from exc
    settings: dict[str, Any] = {
        **identity_settings(args),
        **budget_settings(args),
        **license_settings(args),
        "FAIRFETCH_TOKEN": token,
        "FAIRFETCH_CONTACT": args.contact,
        "USER_AGENT": user_agent(token, args.contact),
        "FAIRFETCH_PURPOSES": args.purpose or [Usage.AI_INPUT.value],
        "FAIRFETCH_DB": args.db or os.environ.get(DB_ENV) or None,
        "FAIRFETCH_JOBDIR": args.jobdir,
        "FAIRFETCH_CRAWL_ID": args.crawl_id,
        "FAIRFETCH_MAX_PRICE": args.max_price,
        "FAIRFETCH_EXTRACT": not args.no_extract,
        "FAIRFETCH_EXTRACT_PROCESSES": args.extract_processes,
        "FAIRFETCH_FOLLOW_EXTERNAL": args.follow_external,
        "FAIRFETCH_MAX_PAGES": args.max_pages,
        "FAIRFETCH_MAX_LINKS": args.max_links,
        "FAIRFETCH_MAX_URL_LENGTH": args.max_url_length,
        "FAIRFETCH_ROBOTS_TIMEOUT": args.robots_timeout,
        "FAIRFETCH_SEEDS": list(args.seeds),
        "FAIRFETCH_REVOCATION": args.revocation,
        "DEPTH_LIMIT": args.depth,
        "CONCURRENT_REQUESTS": args.concurrency,
        "DOWNLOAD_DELAY": args.delay,
        # Every outcome is in the summary and the ledger; the log is for debugging.
        "LOG_LEVEL": "INFO" if args.verbose else "ERROR",
    }
    return settings


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
        overrides = _settings(args)
    except ValueError as exc:
        return fail(str(exc))
    # Until Scrapy installs its own handlers (once the reactor runs), a Ctrl-C is noted here and
    # stops the crawl as soon as it starts: no KeyboardInterrupt traceback, the same exit code.
    early: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda n, _frame: early.append(n))
    # First, from this shallow stack: the module builds deprecated aliases with inspect.stack(),
    # whose cost grows with the frames above it and the modules loaded (0.1-0.2 s of CPU when it
    # came last, imported by the download handler deep inside Scrapy's set-up).
    import scrapy.core.downloader.contextfactory  # noqa: F401
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


def summary_dict(session: CrawlSession, crawler: Any, seconds: float) -> dict[str, Any]:
    from crawler.extract_pool import pool_for

    data = session.summary.as_dict()
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    pool = pool_for(crawler) if session.extract else None
    # Extraction processes (0: on the reactor); restarts: times one died and its pages were resubmitted.
    data["extract_processes"] = pool.processes if pool is not None else 0
    data["extract_pool_restarts"] = pool.restarts if pool is not None else 0
    # CPU seconds the pool's processes spent on pages: with the crawl process's own, a page's whole cost.
    data["extract_cpu_seconds"] = round(pool.cpu_seconds, 3) if pool is not None else 0.0
    return {
        "crawl_id": session.crawl_id,
        "resumed": session.resumed,
        "user_agent": session.user_agent,
        "purposes": [p.value for p in session.purposes],
        **data,
        **session.wallet.as_dict(),
        "finish_reason": stats.get("finish_reason"),
        "seconds": round(seconds, 2),
    }


def print_summary(summary: dict[str, Any]) -> None:
    rows: list[tuple[str, Any]] = [
        ("crawl", summary["crawl_id"] + (" (resumed)" if summary["resumed"] else "")),
        ("purposes", ", ".join(summary["purposes"])),
        ("fetched", summary["fetched"]),
        ("stored (usable)", summary["stored"]),
        ("stored metadata-only", summary["metadata_only"]),
        ("redirects followed", summary["redirected"]),
        ("refused", summary["refused"]),
    ]
    rows += [(f"  refused: {reason}", n) for reason, n in summary["refused_by_reason"].items()]
    rows.append(("errors", summary["errors"]))
    rows += [(f"  error: {kind}", n) for kind, n in summary["errors_by_kind"].items()]
    if summary.get("dropped"):
        rows.append(("dropped by the crawl's limits", summary["dropped"]))
        rows += [(f"  dropped: {kind}", n) for kind, n in summary["dropped_by_reason"].items()]
    if summary["replayed"]:
        rows.append(("already stored by an earlier run", summary["replayed"]))
    rows.append(("not modified (304, stored row kept)", summary["not_modified"]))
    rows.append(("unchanged (same bytes, stored text kept)", summary["unchanged"]))
    rows.append(("revoked by newer signals", summary["revoked"]))
    rows += [(f"signal fetches: {kind}", n) for kind, n in summary["signal_fetches"].items()]
    rows += [(f"paid ({currency})", amount) for currency, amount in summary.get("spent", {}).items()]
    rows += [(f"  paid to {origin}", amount) for origin, amount in summary.get("spent_by_origin", {}).items()]
    rows.append(("finished", f"{summary['finish_reason']} after {summary['seconds']} s"))
    print_table("fairfetch crawl", ("", "count"), rows)
    console.print(f"Inspect one page: fairfetch ledger show URL --db {summary['ledger']}", soft_wrap=True)
