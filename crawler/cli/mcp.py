"""``fairfetch mcp``: run the MCP server (stdio by default, or streamable HTTP on 127.0.0.1)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from crawler import DEFAULT_TOKEN, PROJECT_URL
from crawler.cli.agreement import (
    add_budget_option,
    add_identity_options,
    budget_settings,
    identity_settings,
)
from crawler.cli.output import err_console, fail
from norms.model import SignalError, Usage

DB_ENV = "FAIRFETCH_DB"
HELP = "serve fetch, check and cite tools to AI agents over the Model Context Protocol"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "mcp",
        help=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Run an MCP server whose tools fetch pages under the publishers' norms (exactly the crawler's\n"
            "rules: robots.txt, RSL, TDMRep, Content-Signal, AI preferences, noai, paywalls, HTTP 402,\n"
            "Crawl-delay), check a URL's signals, and shape answers with proper attribution. Every fetch\n"
            "is recorded in the ledger. Loopback and private targets are refused unless --allow-private."
        ),
        epilog=(
            "examples:\n"
            "  fairfetch mcp --db sqlite:////home/me/fairfetch.sqlite            # stdio, for a desktop client\n"
            "  fairfetch mcp --transport streamable-http --port 8765            # http://127.0.0.1:8765/mcp\n\n"
            'client configuration (stdio): {"mcpServers": {"fairfetch": {"command": "fairfetch",\n'
            '  "args": ["mcp", "--db", "sqlite:////home/me/fairfetch.sqlite"]}}}'
        ),
    )
    p.add_argument("--transport", choices=["stdio", "streamable-http"], default="stdio",
                   help="stdio (default: the client starts the server) or streamable-http")
    p.add_argument("--host", default="127.0.0.1", help="address for streamable-http (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port for streamable-http (default 8765)")
    p.add_argument("--db", metavar="URL", help=f"ledger database URL (default: ${DB_ENV} or the ledger default)")
    p.add_argument("--purpose", choices=[u.value for u in Usage], default=None,
                   help="default purpose of fetches (default ai-input); agents may name another per call")
    p.add_argument("--user-agent", default=DEFAULT_TOKEN, metavar="TOKEN",
                   help=f"product token matched against robots.txt groups (default {DEFAULT_TOKEN})")
    p.add_argument("--contact", default=PROJECT_URL, metavar="URL", help="contact URL in the User-Agent")
    p.add_argument("--max-price", metavar='"USD x"',
                   help="most to pay per page (HTTP 402, needs --signing-key); without it nothing is paid")
    p.add_argument("--license-token", action="append", default=[], metavar="SERVER=TOKEN",
                   help="an RSL licence token held for a licence server (repeatable)")
    p.add_argument("--allow-private", action="store_true",
                   help="also fetch loopback, private and link-local addresses (your own test server)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds per page request (default 30)")
    p.add_argument("--max-bytes", type=int, default=10 * 1024 * 1024, metavar="N",
                   help="a page larger than this is not read (default 10 MiB)")
    p.add_argument("--json", action="store_true", help="print the server's settings as JSON on stderr at start")
    add_budget_option(p)
    add_identity_options(p)
    p.set_defaults(func=run)


def config_from(args: argparse.Namespace) -> Any:
    """The server's configuration from the options; raises ValueError with a plain message."""
    from crawler.mcp.config import Limits, ServerConfig
    from crawler.session import build_grants

    token = args.user_agent.strip()
    if not token or any(c.isspace() or c == "/" for c in token):
        raise ValueError(f"--user-agent {args.user_agent!r} must be a product token (no spaces or '/')")
    if not 0 < args.port < 65536:
        raise ValueError("--port must be between 1 and 65535")
    if args.timeout <= 0 or args.max_bytes <= 0:
        raise ValueError("--timeout and --max-bytes must be positive")
    tokens: dict[str, str] = {}
    for item in args.license_token:
        server, sep, value = item.partition("=")
        if not sep or not server.strip() or not value.strip():
            raise ValueError(f"--license-token {item!r} is not SERVER=TOKEN")
        tokens[server.strip()] = value.strip()
    try:
        grants = build_grants(args.max_price, tokens)
    except SignalError as exc:
        raise ValueError(str(exc)) from exc
    budget = budget_settings(args).get("FAIRFETCH_BUDGET")
    identity = identity_settings(args)
    return ServerConfig(
        token=token, contact=args.contact, purpose=Usage(args.purpose or Usage.AI_INPUT.value), grants=grants,
        db_url=args.db or os.environ.get(DB_ENV) or None, allow_private=args.allow_private,
        limits=Limits(page_timeout=args.timeout, page_max_bytes=args.max_bytes), budget=budget,
        signing_key=identity.get("FAIRFETCH_SIGNING_KEY"), signature_agent=identity.get("FAIRFETCH_SIGNATURE_AGENT"),
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from(args)
    except ValueError as exc:
        return fail(str(exc))
    from crawler.ledger import LedgerError
    from crawler.mcp.server import build_server

    try:
        server = build_server(config)
    except LedgerError as exc:
        return fail(str(exc))
    if args.json:
        import json
        import sys

        sys.stderr.write(json.dumps({"transport": args.transport, "token": config.token,
                                     "user_agent": config.user_agent("agent"), "purpose": config.purpose.value,
                                     "db": config.db_url, "allow_private": config.allow_private}) + "\n")
    try:
        if args.transport == "stdio":
            server.run("stdio")
        else:
            err_console.print(f"fairfetch mcp: serving on http://{args.host}:{args.port}/mcp (Ctrl-C to stop)")
            server.run("streamable-http", host=args.host, port=args.port)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        return fail(f"cannot serve: {exc.strerror or exc}")
    return 0
