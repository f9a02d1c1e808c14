"""The ``fairfetch`` command line. Each subcommand lives in its own module with a ``register`` function.

Only the chosen subcommand's module is imported: importing all of them (Scrapy,
SQLAlchemy, the classifier, the attribution library) cost about a second per
invocation. ``fairfetch --help`` lists every command from :data:`COMMANDS`
without importing any; a test keeps that table equal to what the modules register.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from contextlib import nullcontext

from crawler import __version__
from crawler.gcpolicy import collections_paused

# Subcommand modules, in the order ``--help`` lists them, with their one-line
# help. Each module defines ``register(subparsers)``, which adds its parser
# (with this help) and sets ``func`` to a callable taking the parsed namespace
# and returning the exit code.
COMMANDS: dict[str, str] = {
    "crawl": "crawl from seed URLs, honouring every publisher signal, into the ledger",
    "ledger": "export and inspect the provenance ledger",
    "classify": "classify a page as canonical, aggregator or community, with evidence",
    "shape": "attribute an AI answer to its sources under the publishers' norms",
    "evaluate": "decide one URL from signal files on disk (offline)",
    "schedule": "re-crawl the jobs of a schedule file at their intervals",
    "check": "check a live URL: what each AI crawler may do there, which signal decided, what is broken",
    "keys": "make and show the Ed25519 key that signs requests (Web Bot Auth)",
    "mcp": "serve fetch, check and cite tools to AI agents over the Model Context Protocol",
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first argument that is not an option (the top level takes no values)."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the command it names is built in full (the others list their help).

    Without ``argv`` every command's module is imported and registered.
    """
    parser = argparse.ArgumentParser(
        prog="fairfetch",
        description=(
            "Crawl the web while honouring every publisher signal (robots.txt, RSL, Content-Signal, "
            "AI preferences, TDMRep, noai, paywalls, HTTP 402), keep provenance in a ledger, "
            "classify sources and shape AI answers with proper attribution."
        ),
        epilog="Run 'fairfetch COMMAND --help' for the options of one command. Every command takes --json.",
    )
    parser.add_argument("--version", action="version", version=f"fairfetch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = set(COMMANDS) if argv is None else {chosen_command(argv)}
    for name, help_text in COMMANDS.items():
        if name in wanted:
            importlib.import_module(f"crawler.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=help_text)  # listed in --help; never parsed (not chosen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    # A crawl starts without garbage collection until its spider starts (crawler.gcpolicy):
    # its imports and set-up build a long-lived heap that collecting would only re-scan.
    with collections_paused() if chosen_command(args_in) == "crawl" else nullcontext():
        parser = build_parser(args_in)
        args = parser.parse_args(args_in)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        code: int = args.func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
