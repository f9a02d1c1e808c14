"""Money in the ledger: one row per charge, and what a crawl or an origin cost in total.

Kept beside :mod:`crawler.ledger.store` rather than in it: payments are an
append-only audit trail with their own questions ("what did this crawl spend,
where?"), not part of a page's provenance row, which a re-crawl replaces.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crawler.ledger.models import Payment
from crawler.ledger.records import host_of
from crawler.ledger.side_tables import rows_oldest_first
from crawler.ledger.store import Ledger

_TABLE: sa.Table = Payment.__table__  # type: ignore[attr-defined]


def record_payment(ledger: Ledger, *, crawl_id: str, url: str, at: datetime, amount: Decimal,
                   currency: str, kind: str, detail: str = "") -> None:
    """Append one charge (the ledger's crawl row must exist: every crawl starts with one)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else host_of(url)
    with ledger.engine.begin() as conn:
        conn.execute(sa.insert(_TABLE).values(
            crawl_id=crawl_id, url=url, origin=origin, at=at, amount=amount,
            currency=currency.upper(), kind=kind, detail=detail[:500],
        ))


def payments(ledger: Ledger, crawl_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every charge, oldest first (none for a ledger written before payments were recorded)."""
    yield from rows_oldest_first(ledger, _TABLE, crawl_id)


def spend(ledger: Ledger, crawl_id: str | None = None) -> list[dict[str, Any]]:
    """Totals per (crawl, origin, currency, kind), largest first: amount, number of charges, last charge."""
    totals: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in payments(ledger, crawl_id):
        key = (row["crawl_id"], row["origin"], row["currency"], row["kind"])
        entry = totals.setdefault(key, {"crawl_id": key[0], "origin": key[1], "currency": key[2],
                                        "kind": key[3], "amount": Decimal(0), "charges": 0, "last_at": None})
        entry["amount"] += Decimal(row["amount"])
        entry["charges"] += 1
        entry["last_at"] = row["at"]
    for entry in totals.values():
        entry["amount"] = entry["amount"].normalize()  # the column's scale is not the money's
    return sorted(totals.values(), key=lambda e: (-e["amount"], e["crawl_id"], e["origin"]))
