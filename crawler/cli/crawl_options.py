"""The options of ``fairfetch crawl``, checked and turned into Scrapy settings before anything starts.

Every mistake an option can hold (a seed that is not an http(s) URL, a
negative limit, ``--join`` without ``--redis``, a price that does not parse)
is refused here, in plain words and with exit code 2, rather than found by
Scrapy mid-crawl. ``crawler.cli.crawl`` registers these options and runs
the crawl with the settings; the schedule runner parses each job's
``args`` with the same parser.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from crawler import DEFAULT_TOKEN, PROJECT_URL, user_agent
from crawler.cli.agreement import (
    add_budget_option,
    add_identity_options,
    add_license_options,
    budget_settings,
    identity_settings,
    license_settings,
)
from crawler.limits import seed_problem
from crawler.session import parse_max_price
from norms.model import SignalError, Usage

DB_ENV = "FAIRFETCH_DB"


def add_crawl_options(p: argparse.ArgumentParser) -> None:
    """Every option of ``fairfetch crawl`` (``--help`` lists them in this order)."""
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
                   help="read pages (parse, signals, links, text) in N worker processes "
                        "(default: the machine's cores; 0: in this process)")
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


def crawl_settings(args: argparse.Namespace) -> dict[str, Any]:
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
