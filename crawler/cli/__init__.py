"""The ``fairfetch`` command line. Each subcommand lives in its own module with a ``register`` function."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from crawler import __version__

# Subcommand modules, in the order ``--help`` lists them. Each defines
# ``register(subparsers)`` which adds its parser and sets ``func`` to a callable
# taking the parsed namespace and returning the exit code.
COMMANDS = ("crawl", "ledger", "classify", "shape", "evaluate", "schedule")


def build_parser() -> argparse.ArgumentParser:
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
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"crawler.cli.{name}")
        except ModuleNotFoundError as exc:  # pragma: no cover - only while a command is being built
            if exc.name != f"crawler.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    code: int = args.func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
