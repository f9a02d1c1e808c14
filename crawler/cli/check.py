"""``fairfetch check``: the live compliance checker, in the terminal or as a small web page.

For publishers: what each known AI crawler may do with a page of their site,
which signal decided, and what is broken in their markup (crawler.checker).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crawler.cli.output import console, err_console, fail, print_json

if TYPE_CHECKING:
    from crawler.checker.fetch import Limits

HELP = "check a live URL: what each AI crawler may do there, which signal decided, what is broken"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Fetch URL's robots.txt, the RSL licences it names, /.well-known/tdmrep.json and the\n"
            "page (each capped in time and size; nothing robots.txt disallows for fairfetch), then\n"
            "show, for fairfetch and every known AI crawler and for each usage (search, ai-index,\n"
            "ai-input, ai-train), whether it is allowed and which signal decided, plus the problems\n"
            "found in the site's markup with a fix for each. Loopback, private and link-local\n"
            "targets are refused unless --allow-private is given. --serve offers the same as a web page."
        ),
        epilog=(
            "examples:\n"
            "  fairfetch check https://news.example/story\n"
            "  fairfetch check https://news.example/ --agent GPTBot --agent ClaudeBot --json\n"
            "  fairfetch check --serve --port 8000      # then open http://127.0.0.1:8000/\n\n"
            "Exit code 0 when the check ran, whatever it found; 2 for a refused or invalid URL."
        ),
    )
    p.add_argument("url", nargs="?", help="the page to check (http or https)")
    p.add_argument("--agent", action="append", default=[], metavar="TOKEN",
                   help="crawler token to decide for (repeatable; default: fairfetch and every known AI crawler)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--allow-private", action="store_true",
                   help="also check loopback, private and link-local addresses (your own test server)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="seconds the whole check may take (each request gets at most a third; default 30)")
    p.add_argument("--max-bytes", type=int, default=2 * 1024 * 1024, metavar="N",
                   help="bytes read of the page at most (default 2 MiB; robots.txt stops at 500 KiB)")
    p.add_argument("--serve", action="store_true", help="serve the checker as a web page instead")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000; 0 = any)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crawler.checker.agents import CHECKED_AGENTS
    from crawler.checker.fetch import Limits
    from crawler.checker.guard import Refused

    if args.timeout <= 0 or args.max_bytes <= 0:
        return fail("--timeout and --max-bytes must be positive")
    limits = Limits(timeout=max(args.timeout / 3, 0.1), deadline=args.timeout, max_bytes=args.max_bytes,
                    allow_private=args.allow_private)
    if args.serve:
        if args.url:
            return fail("give either a URL or --serve, not both")
        return _serve(args.host, args.port, limits)
    if not args.url:
        return fail("give the URL to check (or --serve)")
    from crawler.checker.report import check

    agents = tuple(dict.fromkeys(args.agent)) or CHECKED_AGENTS
    try:
        report = check(args.url, limits=limits, agents=agents)
    except Refused as exc:
        return fail(f"refused: {exc}")
    if args.json:
        print_json(report.model_dump(mode="json"))
        return 0
    from crawler.checker.render_text import render_text

    render_text(report, console)
    return 0


def _serve(host: str, port: int, limits: Limits) -> int:
    from crawler.checker.server import make_server

    try:
        server = make_server(host, port, limits)
    except OSError as exc:
        return fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    bound_host, bound_port = server.server_address[:2]
    err_console.print(f"fairfetch check: serving on http://{bound_host!s}:{bound_port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
