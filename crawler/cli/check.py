"""``fairfetch check``: the compliance checker — live, offline from files, or as a web service.

For publishers: what each known AI crawler may do with a page of their site,
which signal decided, and what is broken in their files (crawler.checker).
Offline (``--robots``/``--rsl``/``--tdmrep``/``--html``/``--headers``) it
reads the files before they are published and exits 1 on any error, so it
can gate a publisher's CI.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler import DEFAULT_TOKEN
from crawler.cli.output import console, err_console, fail, print_json

if TYPE_CHECKING:
    from crawler.checker.report import CheckReport
    from crawler.checker.server import ServiceConfig

HELP = "check a live URL: what each AI crawler may do there, which signal decided, what is broken"
EXIT_PROBLEMS = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Live: fetch URL's robots.txt, the RSL licences it names, /.well-known/tdmrep.json and the\n"
            "page (each capped in time and size; nothing robots.txt disallows for fairfetch).\n"
            "Offline: read the same files from disk (--robots, --rsl, --tdmrep, --html, --headers)\n"
            "and fetch nothing: lint them before you publish.\n\n"
            "Either way: for fairfetch's purpose tokens (fairfetch-search, fairfetch-ai, fairfetch-train,\n"
            "each with the robots.txt group it obeys) and every known AI crawler, and each usage (search,\n"
            "ai-index, ai-input, ai-train), whether it is allowed, with what obligations and which signal\n"
            "decided (file and line), then every problem found, each with a fix. Loopback and private\n"
            "targets are refused live unless --allow-private. --serve runs the checker as a web service."
        ),
        epilog=(
            "examples:\n"
            "  fairfetch check https://news.example/story\n"
            "  fairfetch check https://news.example/ --agent GPTBot --agent ClaudeBot --json\n"
            "  fairfetch check --url https://news.example/story --robots robots.txt --rsl license.xml \\\n"
            "      --tdmrep tdmrep.json --html story.html --headers story.headers\n"
            "  fairfetch check --serve --port 8000      # then open http://127.0.0.1:8000/\n\n"
            "Exit code 0 when no problem of severity 'error' was found, 1 when one was, 2 for unusable\n"
            "arguments (a refused or invalid URL, an unreadable file)."
        ),
    )
    p.add_argument("url", nargs="?", help="the page to check (http or https)")
    p.add_argument("--url", dest="url_option", metavar="URL",
                   help="the page the files stand for (offline; same as the positional URL)")
    p.add_argument("--agent", action="append", default=[], metavar="TOKEN",
                   help="crawler token to decide for (repeatable; default: fairfetch's purpose tokens and every "
                        "known AI crawler; the base token stands for its three purpose tokens)")
    p.add_argument("--user-agent", default=DEFAULT_TOKEN, metavar="TOKEN",
                   help=f"the crawl's base product token, as 'fairfetch crawl --user-agent' (default {DEFAULT_TOKEN}): "
                        "its purpose tokens are TOKEN-search, TOKEN-ai and TOKEN-train")
    p.add_argument("--json", action="store_true", help="print the report as JSON (schema in docs/publishers.md)")
    offline = p.add_argument_group("offline: check files before publishing them (nothing is fetched)")
    offline.add_argument("--robots", type=Path, metavar="FILE", help="the robots.txt to check")
    offline.add_argument("--rsl", type=Path, action="append", default=[], metavar="FILE",
                         help="an RSL licence (repeatable; matched to License URLs by file name)")
    offline.add_argument("--tdmrep", type=Path, metavar="FILE", help="the /.well-known/tdmrep.json to check")
    offline.add_argument("--html", type=Path, metavar="FILE", help="the page's HTML")
    offline.add_argument("--headers", type=Path, metavar="FILE",
                         help="the page's response headers, one 'Name: value' per line")
    offline.add_argument("--status", type=int, metavar="CODE", help="the page's status (default 200)")
    live = p.add_argument_group("live")
    live.add_argument("--allow-private", action="store_true",
                      help="also check loopback, private and link-local addresses (your own test server)")
    live.add_argument("--timeout", type=float, default=30.0, metavar="S",
                      help="seconds the whole check may take (each request gets at most a third; default 30)")
    live.add_argument("--max-bytes", type=int, default=2 * 1024 * 1024, metavar="N",
                      help="bytes read of the page at most (default 2 MiB; robots.txt stops at 500 KiB)")
    from crawler.cli.agreement import add_identity_options

    add_identity_options(p)
    serve = p.add_argument_group("web service")
    serve.add_argument("--serve", action="store_true", help="serve the checker as a web page and JSON API")
    serve.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000; 0 = any)")
    serve.add_argument("--max-checks", type=int, default=8, metavar="N",
                       help="checks running at once; more get 503 (default 8)")
    serve.add_argument("--rate", type=float, default=30.0, metavar="N",
                       help="checks per client (IP address) per minute; more get 429 (default 30)")
    serve.add_argument("--trust-proxy", action="store_true",
                       help="take the client address from X-Forwarded-For (only behind your own proxy)")
    p.set_defaults(func=run)


def _offline_given(args: argparse.Namespace) -> bool:
    return any((args.robots, args.rsl, args.tdmrep, args.html, args.headers, args.status is not None))


def _signer(args: argparse.Namespace) -> Any:
    """A Web Bot Auth signer from --signing-key/--signature-agent (None without them); ValueError in words."""
    from crawler.cli.agreement import identity_settings

    settings = identity_settings(args)
    if not settings:
        return None
    from crawler.identity.keys import load_signing_key
    from crawler.identity.signing import RequestSigner

    return RequestSigner(load_signing_key(settings["FAIRFETCH_SIGNING_KEY"]), settings["FAIRFETCH_SIGNATURE_AGENT"])


def run(args: argparse.Namespace) -> int:
    from crawler.checker.fetch import Limits

    if args.url and args.url_option and args.url != args.url_option:
        return fail("give the URL once (positional or --url)")
    url = (args.url or args.url_option or "").strip()
    if args.timeout <= 0 or args.max_bytes <= 0:
        return fail("--timeout and --max-bytes must be positive")
    base = args.user_agent.strip()
    if not base or any(c.isspace() or c == "/" for c in base):
        return fail(f"--user-agent {args.user_agent!r} must be a product token (no spaces or '/')")
    try:
        signer = _signer(args)
    except ValueError as exc:
        return fail(str(exc))
    limits = Limits(timeout=max(args.timeout / 3, 0.1), deadline=args.timeout, max_bytes=args.max_bytes,
                    allow_private=args.allow_private, signer=signer)
    if args.serve:
        if url or _offline_given(args):
            return fail("--serve takes no URL and no files")
        if args.max_checks < 1 or args.rate <= 0:
            return fail("--max-checks and --rate must be positive")
        from crawler.checker.server import ServiceConfig

        return _serve(ServiceConfig(host=args.host, port=args.port, limits=limits, max_checks=args.max_checks,
                                    rate_per_minute=args.rate, trust_proxy=args.trust_proxy, base=base))
    if not url:
        return fail("give the URL to check (or --url with the offline files, or --serve)")
    agents = tuple(dict.fromkeys(a.strip() for a in args.agent if a.strip()))
    if _offline_given(args):
        report = _offline(args, url, agents, base)
        if isinstance(report, int):
            return report
    else:
        from crawler.checker.guard import Refused
        from crawler.checker.live import check

        try:
            report = check(url, limits=limits, agents=agents or None, base=base)
        except Refused as exc:
            return fail(f"refused: {exc}")
    if args.json:
        print_json(report.model_dump(mode="json"))
    else:
        from crawler.checker.render_text import render_text

        render_text(report, console)
    return EXIT_PROBLEMS if report.has_errors else 0


def _offline(args: argparse.Namespace, url: str, agents: tuple[str, ...], base: str) -> CheckReport | int:
    from urllib.parse import urlsplit

    from crawler.checker.offline import LocalFile, OfflineInputs, check_files

    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return fail(f"--url must be an absolute http(s) URL, not {url!r}")
    if args.status is not None and not 100 <= args.status <= 599:
        return fail(f"--status {args.status} is not an HTTP status code")

    def load(path: Path | None) -> LocalFile | None:
        return None if path is None else LocalFile(str(path), path.read_bytes())

    try:
        inputs = OfflineInputs(
            url=url, robots=load(args.robots), rsl=[LocalFile(str(p), p.read_bytes()) for p in args.rsl],
            tdmrep=load(args.tdmrep), html=load(args.html), headers=load(args.headers), status=args.status,
            agents=agents or None, base=base,
        )
    except OSError as exc:
        return fail(f"cannot read {exc.filename}: {exc.strerror}")
    return check_files(inputs)


def _serve(config: ServiceConfig) -> int:
    from crawler.checker.server import bind, serve

    try:
        sock = bind(config)
    except OSError as exc:
        return fail(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}")
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    err_console.print(f"fairfetch check: serving on http://{shown}:{port}/ (Ctrl-C to stop)")
    try:
        serve(config, sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
