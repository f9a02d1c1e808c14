"""``fairfetch ledger``: export the provenance ledger, show why one page was taken, count what happened.

``history``, ``revocations`` and ``upgrade`` live in ``crawler.cli.ledger_recrawl``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from rich.markup import escape

from crawler.cli.output import console, fail, print_json, print_table
from crawler.ledger import DEFAULT_DB_URL, Ledger, LedgerError
from crawler.ledger.export import write_jsonl
from crawler.ledger.refusals import export_refusals, url_history

DB_ENV = "FAIRFETCH_DB"


def default_db() -> str:
    """``$FAIRFETCH_DB`` if set, else the ledger's default (``fairfetch.sqlite`` in the current directory)."""
    return os.environ.get(DB_ENV) or DEFAULT_DB_URL


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ledger",
        help="export and inspect the provenance ledger",
        description="Read the provenance ledger: what was fetched, under which signals, and why it was allowed.",
    )
    sub = parser.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            default=None,
            metavar="URL",
            help=f"SQLAlchemy database URL (default: ${DB_ENV}, else {DEFAULT_DB_URL})",
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")

    export = sub.add_parser("export", help="one JSON object per page, ordered by URL")
    common(export)
    export.add_argument(
        "--format", choices=["jsonl"], default="jsonl", help="output format (default: jsonl)"
    )
    export.add_argument(
        "--crawl", metavar="ID", default=None, help="only pages last written by this crawl"
    )
    export.add_argument(
        "--refusals", action="store_true",
        help="export refused requests instead of pages: one JSON object per refusal "
             "(url, at, reason, kind, evidence, signals in force)",
    )
    export.set_defaults(func=_export)

    show = sub.add_parser("show", help="the provenance of one page")
    common(show)
    show.add_argument("url", metavar="URL")
    show.set_defaults(func=_show)

    stats = sub.add_parser("stats", help="counts of pages, stored texts, refusals and errors")
    common(stats)
    stats.add_argument("--crawl", metavar="ID", default=None, help="only this crawl")
    stats.set_defaults(func=_stats)

    from crawler.cli.ledger_spend import register_spend

    register_spend(sub, common, _open)

    from crawler.cli.ledger_licences import register_licences

    register_licences(sub, common, _open)

    from crawler.cli import ledger_recrawl

    ledger_recrawl.register(sub, common, default_db)

    parser.set_defaults(func=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _open(args: argparse.Namespace) -> Ledger:
    return Ledger(args.db or default_db(), create=False)


def _export(args: argparse.Namespace) -> int:
    try:
        with _open(args) as ledger:
            pages = (export_refusals(ledger, crawl_id=args.crawl) if args.refusals
                     else ledger.export(crawl_id=args.crawl))
            if args.json:
                print_json(list(pages))
            else:
                write_jsonl(pages, sys.stdout)
    except LedgerError as exc:
        return fail(str(exc))
    return 0


def _show(args: argparse.Namespace) -> int:
    from crawler.ledger.revocation import revocations

    try:
        with _open(args) as ledger:
            page = ledger.page(args.url)
            history = url_history(ledger, args.url) if page is None else None
            if page is not None:
                page["revocations"] = revocations(ledger, url=args.url)
    except LedgerError as exc:
        return fail(str(exc))
    if page is None and history is not None:
        # Refused before the request, or failed: no page row, but the reason and its evidence.
        if args.json:
            print_json(history)
        else:
            _print_history(history)
        return 0
    if page is None:
        return fail(f"{args.url} is not in the ledger", code=1)
    if args.json:
        print_json(page)
        return 0
    _print_page(page)
    return 0


def _table(title: str | None, columns: list[str], rows: Any) -> None:
    """``print_table`` with values escaped: publisher text like ``[noai]`` is not rich markup."""
    print_table(
        title, columns, [tuple("" if v is None else escape(str(v)) for v in row) for row in rows]
    )


def _deciding_reason(decision: dict[str, Any]) -> str:
    reasons = decision.get("reasons") or []
    return str(reasons[0]) if reasons else ""


def _print_page(page: dict[str, Any]) -> None:
    console.print(page["url"], style="bold", markup=False, highlight=False)
    facts = [
        ("status", page["status"]),
        ("fetched at", page["fetched_at"]),
        ("first seen", page["first_seen_at"]),
        ("canonical", page["canonical_url"]),
        ("crawl", page["crawl_id"]),
        ("user agent", page["user_agent"]),
        ("purposes", ", ".join(page["purposes"] or [])),
        ("source class", page["source_class"]),
        ("platform", page["platform"]),
        ("content hash", page["content_hash"]),
        ("text", "not stored" if page["text"] is None else f"{page['text_length']} characters"),
        ("revoked", page.get("revoked_at") or "no"),
    ]
    _table(None, ["field", "value"], facts)

    decisions = page["decisions"] or {}
    _table(
        "Decisions",
        ["usage", "allowed", "deciding reason", "obligations"],
        [
            (
                usage,
                "yes" if d.get("allowed") else "no",
                _deciding_reason(d),
                len(d.get("obligations") or []),
            )
            for usage, d in decisions.items()
        ],
    )
    _table(
        "Evidence",
        ["signal", "where", "raw value", "rule"],
        [(e.get("signal"), _where(e), e.get("raw"), e.get("rule")) for e in page["evidence"]],
    )
    _table(
        "Signals in force",
        ["kind", "url", "status", "sha256", "fetched at", "error"],
        [
            (
                s["kind"],
                s["url"],
                s["status"],
                (s["sha256"] or "")[:16],
                s["fetched_at"],
                s["error"],
            )
            for s in page["signals"]
        ],
    )
    if page.get("missing_signal_ids"):
        console.print(
            f"signal snapshots missing from the ledger: {page['missing_signal_ids']}", markup=False
        )
    _table(
        "Obligations",
        ["kind", "detail", "url", "usages"],
        [
            (o.get("kind"), o.get("detail"), o.get("url"), ", ".join(o.get("usages") or []))
            for o in page["obligations"]
        ],
    )
    _table(
        "Fetch log",
        ["at", "outcome", "reason", "status"],
        [(f["at"], f["outcome"], f["reason"], f["status"]) for f in page.get("fetch_log", [])],
    )
    if page.get("revocations"):
        _table(
            "Revocations",
            ["revoked at", "scope", "purposes", "reason", "text"],
            [(r["revoked_at"], r["scope"], ", ".join(r["purposes"]), r["reason"],
              "purged" if r["text_purged"] else "kept") for r in page["revocations"]],
        )


def _print_history(history: dict[str, Any]) -> None:
    console.print(history["url"], style="bold", markup=False, highlight=False)
    last = history["fetch_log"][-1]
    console.print(f"not stored: {last['outcome']} - {last['reason']}", markup=False, highlight=False)
    _table(
        "Fetch log",
        ["at", "outcome", "reason", "status"],
        [(f["at"], f["outcome"], f["reason"], f["status"]) for f in history["fetch_log"]],
    )
    for refusal in history["refusals"]:
        _table(
            f"Evidence ({refusal['outcome']} at {refusal['at']})",
            ["signal", "where", "raw value", "rule"],
            [(e.get("signal"), _where(e), e.get("raw"), e.get("rule")) for e in refusal["evidence"]],
        )
        if refusal["signals"]:
            _table(
                "Signals in force",
                ["kind", "url", "status", "sha256", "fetched at", "error"],
                [(s["kind"], s["url"], s["status"], (s["sha256"] or "")[:16], s["fetched_at"], s["error"])
                 for s in refusal["signals"]],
            )


def _where(evidence: dict[str, Any]) -> str:
    """The same location text as ``norms.model.Evidence.where``, from the stored dict."""
    source = str(evidence.get("source") or "")
    if evidence.get("line") is not None:
        return f"{source} line {evidence['line']}"
    if evidence.get("element"):
        return f"{source} {evidence['element']}"
    return source


def _stats(args: argparse.Namespace) -> int:
    try:
        with _open(args) as ledger:
            counts = ledger.counts(crawl_id=args.crawl)
    except LedgerError as exc:
        return fail(str(exc))
    if args.json:
        print_json(counts)
        return 0
    rows: list[tuple[str, Any]] = [
        ("pages", counts["pages"]),
        ("pages with stored text", counts["stored"]),
        ("fetch-log rows", counts["fetch_rows"]),
        *((f"  {outcome}", n) for outcome, n in counts["outcomes"].items()),
        ("errors", counts["errors"]),
        ("signal snapshots", counts["signal_snapshots"]),
        ("crawls", counts["crawls"]),
    ]
    _table("Ledger", ["count", "value"], rows)
    if counts["refused"]:
        _table("Refused, by reason", ["reason", "requests"], counts["refused"].items())
    return 0
