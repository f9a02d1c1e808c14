"""``fairfetch ledger history | revocations | upgrade``: the ledger over time, and its schema.

Registered by ``crawler.cli.ledger`` under the ``ledger`` command; kept apart
so that module stays about pages.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.markup import escape

from crawler.cli.output import console, fail, print_json, print_table
from crawler.ledger import Ledger, LedgerError


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None], default_db: Callable[[], str]) -> None:
    history = sub.add_parser(
        "history", help="an origin's signal documents over time, with what changed",
        description="Every version of the robots.txt, RSL licences and tdmrep.json the ledger holds for "
                    "ORIGIN (http://host[:port], or a bare host for all its origins), oldest first, each "
                    "with the rules added (+) and removed (-) since the version before.",
    )
    common(history)
    history.add_argument("origin", metavar="ORIGIN")
    history.set_defaults(func=lambda a: _history(a, default_db))

    revocations = sub.add_parser(
        "revocations", help="stored pages whose use newer signals revoked (text purged)",
        description="Pages whose use the publisher's newer signals deny: when, for which purposes, "
                    "the signal that now says no and what allowed it before.",
    )
    common(revocations)
    revocations.add_argument("--host", metavar="HOST", help="only pages of this host")
    revocations.set_defaults(func=lambda a: _revocations(a, default_db))

    upgrade = sub.add_parser(
        "upgrade", help="upgrade a ledger written by an older fairfetch to the current schema",
        description="Bring the ledger's schema up to date in place (Alembic migrations, one transaction); "
                    "every row is kept. Safe to run again: an up-to-date ledger is left as it is.",
    )
    common(upgrade)
    upgrade.set_defaults(func=lambda a: _upgrade(a, default_db))


def _history(args: argparse.Namespace, default_db: Callable[[], str]) -> int:
    from crawler.ledger.history import origin_history

    try:
        with Ledger(args.db or default_db(), create=False) as ledger:
            versions = origin_history(ledger, args.origin)
    except LedgerError as exc:
        return fail(str(exc))
    if not versions:
        return fail(f"the ledger holds no signal documents of {args.origin}", code=1)
    if args.json:
        print_json(versions)
        return 0
    # One block per version: the change lines are long and must not be folded into a narrow cell.
    console.print(f"Signal history of {args.origin}", style="bold", markup=False)
    for v in versions:
        state = v["error"] or f"HTTP {v['status']}"
        console.print(
            f"{v['fetched_at']}  {v['kind']} v{v['version']}  {v['url']}  ({state}; last seen "
            f"{v['last_seen_at']}, {v['seen_count']}x)",
            markup=False, highlight=False, soft_wrap=True,
        )
        for line in v["changes"]:
            console.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)
    return 0


def _revocations(args: argparse.Namespace, default_db: Callable[[], str]) -> int:
    from crawler.ledger.revocation import revocations

    try:
        with Ledger(args.db or default_db(), create=False) as ledger:
            rows = revocations(ledger, host=args.host)
    except LedgerError as exc:
        return fail(str(exc))
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        console.print("no revocations: every stored page is still allowed by the signals last read")
        return 0
    print_table(
        "Revocations",
        ("revoked at", "url", "scope", "purposes", "reason", "text"),
        [
            (r["revoked_at"], escape(r["url"]), r["scope"], ", ".join(r["purposes"]), escape(r["reason"]),
             "purged" if r["text_purged"] else "kept (other purposes allowed)")
            for r in rows
        ],
    )
    return 0


def _upgrade(args: argparse.Namespace, default_db: Callable[[], str]) -> int:
    from crawler.ledger.upgrade import upgrade

    try:
        result = upgrade(args.db or default_db())
    except LedgerError as exc:
        return fail(str(exc), code=1)
    if args.json:
        print_json({**result.model_dump(), "changed": result.changed})
    elif result.changed:
        console.print(f"upgraded {escape(result.db)} from schema {result.from_revision} to {result.to_revision}")
    else:
        console.print(f"{escape(result.db)} is up to date (schema {result.to_revision})")
    return 0
