"""Revocations: stored pages whose use the signals now in force deny, and the purge of their text.

The standards do not make preferences retroactive (AIPREF: a preference
applies from when it is stated; RFC 9309 governs crawling, not what was
crawled). fairfetch's reading is stricter: it honours the newer signal.
When a publisher now says no to a purpose a stored page was kept for, the
page's text is purged, the row is marked ``revoked_at`` and a revocation row
keeps the URL, when, the purposes, the old evidence and the new. The page's
metadata, decisions and evidence stay: they are the provenance of what
happened.

Purged text must not be recoverable from the database file:

* SQLite ledgers run with ``PRAGMA secure_delete=ON`` (``crawler.ledger.database``):
  the freed bytes are overwritten with zeros. After a purge the write-ahead
  log is checkpointed and truncated (:func:`compact`), so neither the
  database file nor the ``-wal`` file holds the old page image.
* PostgreSQL has no secure delete: an UPDATE leaves the old row version (and
  its TOASTed text) as a dead tuple until VACUUM. fairfetch nulls the column
  and runs ``VACUUM`` on ``pages`` after a crawl that purged anything, which
  makes the space reusable; the bytes may stay in data files, WAL segments and
  backups until overwritten. Operators who must erase physically run
  ``VACUUM FULL pages`` and expire WAL archives and backups (docs/operators.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from crawler.ledger.export import iso
from crawler.ledger.models import PAGES, Revocation
from crawler.ledger.records import as_utc, host_of, storable_json, storable_text, url_key, utc_now
from crawler.ledger.store import Ledger

REVOCATIONS = Revocation.__table__  # type: ignore[attr-defined]


class RevocationRecord(BaseModel):
    """One revocation to write. ``purge``: the text goes (else only the denied decisions change)."""

    model_config = ConfigDict(frozen=True)

    url: str
    crawl_id: str
    scope: str = Field(pattern="^(site|page)$")
    purposes: list[str]
    reason: str
    purge: bool
    old_fetched_at: datetime | None = None
    old_signal_ids: list[int] = Field(default_factory=list)
    new_signal_ids: list[int] = Field(default_factory=list)
    old_decisions: dict[str, Any] = Field(default_factory=dict)
    new_decisions: dict[str, Any] = Field(default_factory=dict)
    old_evidence: list[dict[str, Any]] = Field(default_factory=list)
    new_evidence: list[dict[str, Any]] = Field(default_factory=list)


def record_revocations(ledger: Ledger, items: Sequence[RevocationRecord]) -> int:
    """Write revocations and apply them to their page rows in one transaction; returns how many applied.

    A site-level revocation (``old_fetched_at`` given) applies only if the page
    row is still the one that was judged: a newer fetch written meanwhile
    was judged under the new signals already and wins. The page row gets the
    new decisions; with ``purge`` its text is set to NULL and ``revoked_at``
    set.
    """
    if not items:
        return 0
    applied = 0
    now = utc_now()
    with ledger._write() as conn:
        for item in items:
            key = url_key(item.url)
            where = [PAGES.c.url_key == key]
            if item.scope == "site" and item.old_fetched_at is not None:
                where.append(PAGES.c.fetched_at == item.old_fetched_at)
            values: dict[str, Any] = {"decisions": storable_json(item.new_decisions)}
            if item.purge:
                values.update(text=None, revoked_at=now)
            result = conn.execute(sa.update(PAGES).where(*where).values(**values))
            if not result.rowcount:
                continue
            applied += 1
            conn.execute(
                sa.insert(REVOCATIONS).values(
                    url=storable_text(item.url),
                    url_key=key,
                    host=host_of(item.url)[:300],
                    crawl_id=item.crawl_id,
                    revoked_at=now,
                    scope=item.scope,
                    purposes=storable_json(item.purposes),
                    reason=storable_text(item.reason),
                    text_purged=item.purge,
                    old_fetched_at=None if item.old_fetched_at is None else as_utc(item.old_fetched_at),
                    old_signal_ids=list(item.old_signal_ids),
                    new_signal_ids=list(item.new_signal_ids),
                    old_decisions=storable_json(item.old_decisions),
                    new_decisions=storable_json(item.new_decisions),
                    old_evidence=storable_json(item.old_evidence),
                    new_evidence=storable_json(item.new_evidence),
                )
            )
    if applied and any(i.purge for i in items):
        compact(ledger, vacuum=False)
    return applied


def compact(ledger: Ledger, *, vacuum: bool = True) -> None:
    """Make purged text unrecoverable from the files: SQLite checkpoints and truncates its WAL;
    PostgreSQL (with ``vacuum``) runs VACUUM on the pages table so dead row versions go."""
    engine = ledger.engine
    if engine.dialect.name == "sqlite":
        with engine.connect() as raw:
            raw.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    elif engine.dialect.name == "postgresql" and vacuum:
        with engine.connect() as raw:
            raw.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM pages")


def _revocation_dict(row: Any) -> dict[str, Any]:
    return {
        "url": row["url"],
        "host": row["host"],
        "crawl_id": row["crawl_id"],
        "revoked_at": iso(row["revoked_at"]),
        "scope": row["scope"],
        "purposes": row["purposes"],
        "reason": row["reason"],
        "text_purged": bool(row["text_purged"]),
        "old_fetched_at": iso(row["old_fetched_at"]),
        "old_signal_ids": row["old_signal_ids"],
        "new_signal_ids": row["new_signal_ids"],
        "old_decisions": row["old_decisions"],
        "new_decisions": row["new_decisions"],
        "old_evidence": row["old_evidence"],
        "new_evidence": row["new_evidence"],
    }


def revocations(
    ledger: Ledger, *, host: str | None = None, url: str | None = None
) -> list[dict[str, Any]]:
    """Revocations, oldest first, optionally of one host or one URL."""
    query = sa.select(REVOCATIONS).order_by(REVOCATIONS.c.revoked_at, REVOCATIONS.c.id)
    if host is not None:
        query = query.where(REVOCATIONS.c.host == host.strip().lower())
    if url is not None:
        query = query.where(REVOCATIONS.c.url_key == url_key(url))
    with ledger._read() as conn:
        return [_revocation_dict(r) for r in conn.execute(query).mappings()]


def crawl_revocations(ledger: Ledger, crawl_id: str) -> int:
    with ledger._read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(REVOCATIONS).where(REVOCATIONS.c.crawl_id == crawl_id)
            ).scalar_one()
        )
