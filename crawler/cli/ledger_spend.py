"""``fairfetch ledger spend``: what was paid, per crawl and origin (Pay Per Crawl and RSL payments)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from crawler.cli.output import console, fail, print_json, print_table


def register_spend(sub: Any, common: Callable[[argparse.ArgumentParser], None],
                   open_ledger: Callable[[argparse.Namespace], Any]) -> None:
    spend = sub.add_parser("spend", help="money paid, per crawl and origin",
                           description="Totals of every charge recorded (Pay Per Crawl crawler-charged, RSL "
                                       "payments), per crawl and origin, largest first.")
    common(spend)
    spend.add_argument("--crawl", metavar="ID", default=None, help="only this crawl")
    spend.set_defaults(func=lambda args: _spend(args, open_ledger))


def _spend(args: argparse.Namespace, open_ledger: Callable[[argparse.Namespace], Any]) -> int:
    from crawler.ledger import LedgerError
    from crawler.ledger.spend import spend

    try:
        with open_ledger(args) as ledger:
            rows = spend(ledger, args.crawl)
    except LedgerError as exc:
        return fail(str(exc))
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row["currency"]] = totals.get(row["currency"], Decimal(0)) + row["amount"]
    if args.json:
        print_json({
            "total": {c: format(a, "f") for c, a in totals.items()},
            "rows": [{**r, "amount": format(r["amount"], "f")} for r in rows],
        })
        return 0
    if not rows:
        console.print("nothing paid" + (f" in crawl {args.crawl}" if args.crawl else ""))
        return 0
    print_table("Spend", ["crawl", "origin", "kind", "charges", "amount", "last charge"], [
        (r["crawl_id"], r["origin"], r["kind"], r["charges"], f"{r['currency']} {format(r['amount'], 'f')}",
         r["last_at"]) for r in rows
    ], caption="total: " + ", ".join(f"{c} {format(a, 'f')}" for c, a in totals.items()))
    return 0
