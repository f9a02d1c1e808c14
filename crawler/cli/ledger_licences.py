"""``fairfetch ledger licences``: every RSL licence token request (OLP) and what came of it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from crawler.cli.output import console, fail, print_json, print_table


def register_licences(sub: Any, common: Callable[[argparse.ArgumentParser], None],
                      open_ledger: Callable[[argparse.Namespace], Any]) -> None:
    licences = sub.add_parser("licences", help="RSL licence tokens requested, granted, denied or failed",
                              description="One row per token request to a licence server (RSL Open Licensing "
                                          "Protocol): server, scope, outcome, error, expiry and a fingerprint "
                                          "of the token (the token itself is never stored).")
    common(licences)
    licences.add_argument("--crawl", metavar="ID", default=None, help="only this crawl")
    licences.set_defaults(func=lambda args: _licences(args, open_ledger))


def _licences(args: argparse.Namespace, open_ledger: Callable[[argparse.Namespace], Any]) -> int:
    from crawler.ledger import LedgerError
    from crawler.ledger.licences import license_grants

    try:
        with open_ledger(args) as ledger:
            rows = list(license_grants(ledger, args.crawl))
    except LedgerError as exc:
        return fail(str(exc))
    if args.json:
        print_json({"rows": rows})
        return 0
    if not rows:
        console.print("no licence tokens requested" + (f" in crawl {args.crawl}" if args.crawl else ""))
        return 0
    print_table("Licence tokens", ["#", "at", "server", "resource", "outcome", "error", "expires", "token sha256"], [
        (r["id"], r["at"], r["server"], r["resource"], r["outcome"], r["error"] or "", r["expires_at"] or "",
         r["token_fingerprint"] or "") for r in rows
    ], caption=", ".join(f"{o}: {sum(r['outcome'] == o for r in rows)}" for o in ("granted", "denied", "failed")))
    return 0
