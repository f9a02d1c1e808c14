"""RSL licence tokens in the ledger: one row per token request (OLP), and the listing ``ledger licences`` prints.

An audit trail of its own, like payments: "which licence did we obtain, from
whom, for what, until when?" has to be answerable after the crawl, and a page
row names the grant it was fetched under (``metadata.license_grant``). The
token itself and the client secret are never stored: a row keeps the first
16 hex digits of the token's SHA-256, enough to match it against the licence
server's records and useless to replay. The table is created on first use
(older ledgers get it from migration 0005).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crawler.ledger.side_tables import ensure_table, rows_oldest_first
from crawler.ledger.store import Ledger

OUTCOMES = ("granted", "denied", "failed")


class LicenseGrant(SQLModel, table=True):
    """One ``POST {server}/token``: granted (with expiry and token fingerprint), denied or failed (with ``error``)."""

    __tablename__ = "license_grants"

    id: int | None = Field(default=None, primary_key=True)
    crawl_id: str = Field(index=True, max_length=200)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    server: str = Field(max_length=400)
    resource: str = Field(sa_type=sa.Text)
    license_url: str = Field(sa_type=sa.Text)
    license_sha256: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
    error: str | None = Field(default=None, max_length=64)
    detail: str = ""
    expires_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    token_fingerprint: str | None = Field(default=None, max_length=16)


GRANTS = LicenseGrant.__table__  # type: ignore[attr-defined]


def fingerprint(token: str) -> str:
    """What the ledger keeps of a token: a SHA-256 prefix (matches, cannot be replayed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def record_grant(ledger: Ledger, *, crawl_id: str, at: datetime, server: str, resource: str, license_url: str,
                 license_xml: str, outcome: str, error: str | None = None, detail: str = "",
                 expires_at: datetime | None = None, token: str | None = None) -> int:
    """Append one token request's outcome; returns the row id (pages cite it). ``token`` is only fingerprinted."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown licence grant outcome {outcome!r}")
    ensure_table(ledger, GRANTS)
    values = {
        "crawl_id": crawl_id, "at": at, "server": server[:400], "resource": resource, "license_url": license_url,
        "license_sha256": hashlib.sha256(license_xml.encode("utf-8")).hexdigest(), "outcome": outcome,
        "error": None if error is None else error[:64], "detail": detail[:500], "expires_at": expires_at,
        "token_fingerprint": None if token is None else fingerprint(token),
    }
    with ledger.engine.begin() as conn:
        result = conn.execute(sa.insert(GRANTS).values(**values).returning(GRANTS.c.id))
        return int(result.scalar_one())


def license_grants(ledger: Ledger, crawl_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every token request, oldest first (none for a ledger that never asked a licence server)."""
    yield from rows_oldest_first(ledger, GRANTS, crawl_id)


__all__ = ["LicenseGrant", "fingerprint", "license_grants", "record_grant"]
