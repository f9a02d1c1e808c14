"""``fairfetch shape``: apply the attribution norms to an AI answer from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from attribution import Policy, PolicyError, QueryKind, Source, SourceError, SourceNotFound, shape
from crawler.cli.output import fail, print_json

DB_ENV = "FAIRFETCH_DB"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "shape",
        help="attribute an AI answer to its sources under the publishers' norms",
        description=(
            "Shape an AI answer: drop sources whose publisher denies ai-input, attribute claims "
            "(in-text, links, 'as of' dates, edit-history and discussion links) in the answer's "
            "language, keep Markdown structure and code intact, remove sentences that copy more "
            "than the per-class limits allow, and report every change."
        ),
        epilog=(
            "SOURCES is a JSON list; each item is an object (url, title, text, source_class, platform, "
            "last_modified, decisions, ...) or, with --db, a bare URL looked up in the ledger."
        ),
    )
    parser.add_argument("--answer", required=True, metavar="FILE", help="the answer text ('-' for stdin)")
    parser.add_argument("--sources", required=True, metavar="FILE.json", help="the sources as a JSON list")
    parser.add_argument(
        "--db", default=None, metavar="URL", help=f"ledger database URL for bare-URL sources (default: ${DB_ENV})"
    )
    parser.add_argument("--query", default=None, metavar="Q", help="the user's question (helps infer the kind)")
    parser.add_argument(
        "--kind", default=None, choices=[k.value for k in QueryKind], help="the query kind, if known"
    )
    parser.add_argument("--policy", default=None, metavar="FILE.toml", help="limits and rules (TOML)")
    parser.add_argument(
        "--language", default=None, metavar="CODE",
        help="the answer's language (ISO 639-1, e.g. de); detected when not given",
    )
    parser.add_argument(
        "--format", default="md", choices=["md", "html", "json"], help="output format (default: md)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output (same as --format json)")
    parser.set_defaults(func=run)


def _read(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SourceError(f"{what} {path} is not UTF-8 text") from None


def load_sources(path: str, db: str | None) -> list[Source]:
    """Sources from a JSON list of objects or (with a ledger) bare URLs."""
    raw = _read(path, "sources file")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SourceError(f"sources file {path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, list):
        raise SourceError(f"sources file {path} must hold a JSON list of sources")
    sources = []
    for n, item in enumerate(data, 1):
        if isinstance(item, str):
            if not db:
                raise SourceError(f"source {n} is a bare URL ({item}); pass --db to look it up in the ledger")
            sources.append(Source.from_ledger(db, item))
        elif isinstance(item, dict):
            sources.append(Source.from_dict(item))
        else:
            raise SourceError(f"source {n} must be an object or a URL, not {type(item).__name__}")
    return sources


def run(args: argparse.Namespace) -> int:
    from crawler.ledger import LedgerError

    db = args.db or os.environ.get(DB_ENV)
    try:
        answer = _read(args.answer, "answer file")
        sources = load_sources(args.sources, db)
        policy = Policy.from_toml(Path(args.policy)) if args.policy else None
        result = shape(answer, sources, query=args.query, kind=args.kind, policy=policy, language=args.language)
    except (SourceError, PolicyError, SourceNotFound, LedgerError) as exc:
        return fail(str(exc))
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print_json(result.model_dump(mode="json"))
    elif fmt == "html":
        sys.stdout.write(result.to_html() + "\n")
    else:
        sys.stdout.write(result.to_markdown() + "\n")
    return 0
